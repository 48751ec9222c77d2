import { accessSync, constants } from 'node:fs';
import { durationMs } from '../../api/index.js';
import type { AlertmanagerEndpoint } from './alertmanager-client.js';

/** Direct notifications to Alertmanager (ALERTMANAGER_* in docs/operator.md); absent without ALERTMANAGER_URL. */
export interface AlertmanagerSettings {
  endpoints: AlertmanagerEndpoint[];
  resendIntervalMs: number;
  resolveTimeoutMs: number;
  queueCapacity: number;
  /** Added to every alert, like Prometheus's external labels (e.g. cluster). */
  extraLabels: Record<string, string>;
}

export const ALERTMANAGER_DEFAULTS = {
  resendInterval: '1m',
  resolveTimeout: '15m',
  timeout: '10s',
  /** Three alerts per monitor (one firing or resolved, two resolved) for a fleet of 10,000. */
  queueCapacity: 30_000,
} as const;

/** Labels the alerts set themselves: an extra label may not replace them. */
const OWN_LABELS = new Set(['alertname', 'severity', 'namespace', 'name', 'monitor', 'engine']);
const LABEL_NAME = /^[a-zA-Z_][a-zA-Z0-9_]*$/;

/**
 * Reads the ALERTMANAGER_* variables; every problem is listed in `errors` (the operator refuses to start). A
 * URL with credentials in it is refused without being echoed: they belong in a Secret.
 */
export function alertmanagerSettingsFromEnv(env: NodeJS.ProcessEnv): {
  settings?: AlertmanagerSettings;
  errors: string[];
} {
  const errors: string[] = [];
  const get = (name: string) => {
    const value = env[name]?.trim();
    return value === undefined || value === '' ? undefined : value;
  };
  const urls = (get('ALERTMANAGER_URL') ?? '')
    .split(',')
    .map((u) => u.trim())
    .filter(Boolean);
  if (urls.length === 0) return { errors };

  const duration = (name: string, fallback: string, minMs: number, maxMs: number) => {
    const text = get(name) ?? fallback;
    const ms = durationMs(text);
    if (ms !== undefined && ms >= minMs && ms <= maxMs) return ms;
    errors.push(
      `${name}=${JSON.stringify(env[name])}: must be a duration from ${minMs / 1000}s to ${maxMs / 1000}s (e.g. 30s, 5m)`,
    );
    return durationMs(fallback)!;
  };
  const file = (name: string) => {
    const path = get(name);
    if (path === undefined) return undefined;
    try {
      accessSync(path, constants.R_OK);
    } catch (error) {
      errors.push(`${name}=${JSON.stringify(path)}: cannot read it (${(error as NodeJS.ErrnoException).code})`);
    }
    return path;
  };

  for (const url of urls) {
    let parsed: URL | undefined;
    try {
      parsed = new URL(url);
    } catch {
      errors.push(`ALERTMANAGER_URL: ${JSON.stringify(url)} is not a URL (e.g. http://alertmanager.monitoring:9093)`);
      continue;
    }
    if (parsed.username || parsed.password) {
      errors.push(
        'ALERTMANAGER_URL: a URL holds credentials: put them in a Secret (ALERTMANAGER_BASIC_AUTH_*_FILE or ALERTMANAGER_BEARER_TOKEN_FILE)',
      );
    } else if (parsed.protocol !== 'http:' && parsed.protocol !== 'https:') {
      errors.push(`ALERTMANAGER_URL: ${JSON.stringify(url)} must be http:// or https://`);
    } else if (parsed.search || parsed.hash) {
      errors.push(`ALERTMANAGER_URL: ${JSON.stringify(url)} must not have a query or fragment`);
    }
  }

  const resendIntervalMs = duration(
    'ALERTMANAGER_RESEND_INTERVAL',
    ALERTMANAGER_DEFAULTS.resendInterval,
    1000,
    3_600_000,
  );
  const resolveTimeoutMs = duration(
    'ALERTMANAGER_RESOLVE_TIMEOUT',
    ALERTMANAGER_DEFAULTS.resolveTimeout,
    3000,
    86_400_000,
  );
  // Two missed resends must not resolve an alert that is still firing.
  if (resolveTimeoutMs < 3 * resendIntervalMs) {
    errors.push('ALERTMANAGER_RESOLVE_TIMEOUT must be at least 3 × ALERTMANAGER_RESEND_INTERVAL');
  }
  const timeoutMs = duration('ALERTMANAGER_TIMEOUT', ALERTMANAGER_DEFAULTS.timeout, 1000, 120_000);

  const capacityText = get('ALERTMANAGER_QUEUE_CAPACITY');
  const queueCapacity = capacityText === undefined ? ALERTMANAGER_DEFAULTS.queueCapacity : Number(capacityText);
  if (!/^[0-9]+$/.test(capacityText ?? '1') || queueCapacity < 1 || queueCapacity > 1_000_000) {
    errors.push(
      `ALERTMANAGER_QUEUE_CAPACITY=${JSON.stringify(capacityText)}: must be a whole number from 1 to 1000000`,
    );
  }

  const extraLabels: Record<string, string> = {};
  for (const pair of (get('ALERTMANAGER_LABELS') ?? '').split(',').filter((p) => p.trim())) {
    const at = pair.indexOf('=');
    const name = pair.slice(0, at).trim();
    const value = pair.slice(at + 1).trim();
    if (at < 0 || !LABEL_NAME.test(name) || value === '' || OWN_LABELS.has(name) || name.startsWith('__')) {
      errors.push(
        `ALERTMANAGER_LABELS: ${JSON.stringify(pair)} must be name=value, a Prometheus label name that is not one of ${[...OWN_LABELS].join(', ')}`,
      );
    } else extraLabels[name] = value;
  }

  const bearerTokenFile = file('ALERTMANAGER_BEARER_TOKEN_FILE');
  const usernameFile = file('ALERTMANAGER_BASIC_AUTH_USERNAME_FILE');
  const passwordFile = file('ALERTMANAGER_BASIC_AUTH_PASSWORD_FILE');
  if ((usernameFile === undefined) !== (passwordFile === undefined)) {
    errors.push('ALERTMANAGER_BASIC_AUTH_USERNAME_FILE and ALERTMANAGER_BASIC_AUTH_PASSWORD_FILE go together');
  }
  if (bearerTokenFile && usernameFile) errors.push('ALERTMANAGER: a bearer token or basic auth, not both');
  const caFile = file('ALERTMANAGER_CA_FILE');
  const certFile = file('ALERTMANAGER_CERT_FILE');
  const keyFile = file('ALERTMANAGER_KEY_FILE');
  if ((certFile === undefined) !== (keyFile === undefined)) {
    errors.push('ALERTMANAGER_CERT_FILE and ALERTMANAGER_KEY_FILE go together (a client certificate and its key)');
  }

  const tls = {
    ...(caFile ? { caFile } : {}),
    ...(certFile ? { certFile } : {}),
    ...(keyFile ? { keyFile } : {}),
  };
  const endpoints = urls.map(
    (url): AlertmanagerEndpoint => ({
      url,
      timeoutMs,
      ...(bearerTokenFile ? { bearerTokenFile } : {}),
      ...(usernameFile && passwordFile ? { basicAuth: { usernameFile, passwordFile } } : {}),
      ...(Object.keys(tls).length > 0 ? { tls } : {}),
    }),
  );
  if (errors.length > 0) return { errors };
  return { settings: { endpoints, resendIntervalMs, resolveTimeoutMs, queueCapacity, extraLabels }, errors };
}
