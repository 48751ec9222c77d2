import type { Logger } from 'pino';
import type { MonitorObject } from '../types.js';
import { AlertSender, type SenderMetrics } from './alert-sender.js';
import { AlertmanagerClient } from './alertmanager-client.js';
import { Notifier } from './notifier.js';
import type { AlertmanagerSettings } from './settings.js';

export type { SenderMetrics } from './alert-sender.js';
export { type AlertmanagerSettings, alertmanagerSettingsFromEnv } from './settings.js';
export type { Notifier };

/** Alerts per POST (Prometheus sends at most 64; fewer, larger requests cost Alertmanager the same work). */
const BATCH_SIZE = 256;

/**
 * Direct notifications: the operator posts its monitors' alerts to Alertmanager itself (docs/observability.md,
 * "Alerts without Prometheus"). Its only input is `monitors`: the objects this replica owns, from its cache.
 */
export function startNotifier(
  settings: AlertmanagerSettings,
  deps: { monitors: () => readonly MonitorObject[]; metrics: SenderMetrics; log: Logger },
): Notifier {
  const senders = settings.endpoints.map(
    (endpoint) =>
      new AlertSender(new AlertmanagerClient(endpoint), {
        capacity: settings.queueCapacity,
        batchSize: BATCH_SIZE,
        resolveTimeoutMs: settings.resolveTimeoutMs,
        extraLabels: settings.extraLabels,
        metrics: deps.metrics,
        log: deps.log,
      }),
  );
  const notifier = new Notifier({
    senders,
    monitors: deps.monitors,
    resendIntervalMs: settings.resendIntervalMs,
    resolveTimeoutMs: settings.resolveTimeoutMs,
    capacity: settings.queueCapacity,
  });
  notifier.start();
  deps.log.info(
    {
      alertmanagers: settings.endpoints.map((e) => e.url),
      resendIntervalMs: settings.resendIntervalMs,
      resolveTimeoutMs: settings.resolveTimeoutMs,
    },
    'posting alerts to Alertmanager',
  );
  return notifier;
}
