import http from 'node:http';
import { expect } from '@jest/globals';

/** One notification as Alertmanager's webhook receiver sends it (payload version 4). */
export interface Notification {
  receivedAt: number;
  receiver: string;
  status: 'firing' | 'resolved';
  groupLabels: Record<string, string>;
  commonLabels: Record<string, string>;
  commonAnnotations: Record<string, string>;
  alerts: {
    status: 'firing' | 'resolved';
    labels: Record<string, string>;
    annotations: Record<string, string>;
    startsAt: string;
    endsAt: string;
    fingerprint: string;
  }[];
}

/**
 * The person at the end of the pipeline: an HTTP server on a free loopback port that records every
 * notification Alertmanager delivers to it (answering 200), in arrival order.
 */
export interface WebhookReceiver {
  url: string;
  notifications: Notification[];
  /** Notifications that include an alert with this alertname (and optionally this status). */
  about(alertname: string, status?: 'firing' | 'resolved', namespace?: string): Notification[];
  stop(): Promise<void>;
}

export async function startWebhookReceiver(): Promise<WebhookReceiver> {
  const notifications: Notification[] = [];
  const server = http.createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      try {
        notifications.push({ ...JSON.parse(Buffer.concat(chunks).toString('utf8')), receivedAt: Date.now() });
        res.writeHead(200).end();
      } catch {
        res.writeHead(400).end();
      }
    });
  });
  await new Promise<void>((ok) => server.listen(0, '127.0.0.1', ok));
  const { port } = server.address() as { port: number };
  return {
    url: `http://127.0.0.1:${port}/dbwatch`,
    notifications,
    about: (alertname, status, namespace) =>
      notifications.filter((n) =>
        n.alerts.some(
          (a) =>
            a.labels.alertname === alertname &&
            (status === undefined || a.status === status) &&
            (namespace === undefined || a.labels.namespace === namespace),
        ),
      ),
    stop: async () => {
      server.closeAllConnections();
      await new Promise((ok) => server.close(ok));
    },
  };
}

/**
 * What a person must see of a stopped PostgreSQL database in a notification, by either path: the identity labels
 * (plus `extraLabels`, e.g. the operator's ALERTMANAGER_LABELS), the summary, the state reason, the runbook.
 */
export function expectDatabaseDown(
  alert: Notification['alerts'][number],
  namespace: string,
  monitor: string,
  extraLabels: Record<string, string> = {},
): void {
  expect(alert.labels).toEqual({
    alertname: 'DbwatchDatabaseDown',
    severity: 'critical',
    namespace,
    name: monitor,
    monitor,
    engine: 'postgres',
    ...extraLabels,
  });
  expect(alert.annotations).toMatchObject({
    summary: `Database ${namespace}/${monitor} is down`,
    // A fast shutdown may show as either (the fault tests accept both, too).
    reason: expect.stringMatching(/^(ConnectionRefused|ConnectionLost|DatabaseShuttingDown)$/),
    runbook_url: 'https://github.com/dbwatch/dbwatch/blob/main/docs/observability.md#dbwatchdatabasedown',
    description: expect.stringContaining(`kubectl describe dbmon ${monitor} -n ${namespace}`),
  });
}
