import { createEngine } from '../checks/index.js';
import { type CheckLimits, checkLimitsFromEnv } from '../controller/check-executor.js';
import { apiRateLimitFromEnv, type RateLimit } from '../controller/k8s/rate-limiter.js';
import { createLogger } from '../controller/logger.js';
import { type OperatorOptions, startOperator } from '../controller/operator.js';
import { EXIT } from './exit-codes.js';

const LOG_LEVELS = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'];
const BOOLEANS = new Map([
  ['true', true],
  ['1', true],
  ['yes', true],
  ['false', false],
  ['0', false],
  ['no', false],
]);
const DNS_LABEL = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/;
const DNS_SUBDOMAIN = /^[a-z0-9]([-a-z0-9.]*[a-z0-9])?$/;

/** The operator's settings from its environment, each checked; the limits are listed in docs/operator.md. */
export interface OperatorSettings {
  kubeconfig?: string;
  namespaces: string[];
  maxConcurrentChecks: number;
  metricsPort: number;
  leaderElect: boolean;
  leaseNamespace: string;
  leaseName: string;
  identity?: string;
  shutdownGraceSeconds: number;
  logLevel: string;
  /** CHECK_CONCURRENCY / CHECKS_PER_HOST and KUBE_API_QPS / KUBE_API_BURST, read by their own modules. */
  checkLimits?: CheckLimits;
  apiRateLimit?: RateLimit;
}

type Parsed = { ok: true; settings: OperatorSettings } | { ok: false; errors: string[] };

/**
 * Reads and checks every setting at once, so a bad deployment says everything that is wrong in one message.
 * An empty variable counts as unset (Helm renders unset values as ""). Values are echoed: none is a secret.
 */
export function parseOperatorSettings(env: NodeJS.ProcessEnv): Parsed {
  const errors: string[] = [];
  const get = (name: string) => {
    const value = env[name]?.trim();
    return value === undefined || value === '' ? undefined : value;
  };
  const integer = (name: string, fallback: number, min: number, max: number) => {
    const text = get(name);
    if (text === undefined) return fallback;
    const value = /^[0-9]+$/.test(text) ? Number(text) : Number.NaN;
    if (value >= min && value <= max) return value;
    errors.push(`${name}=${JSON.stringify(env[name])}: must be a whole number from ${min} to ${max}`);
    return fallback;
  };
  const boolean = (name: string, fallback: boolean) => {
    const text = get(name);
    const value = text === undefined ? fallback : BOOLEANS.get(text.toLowerCase());
    if (value !== undefined) return value;
    errors.push(`${name}=${JSON.stringify(env[name])}: must be true or false (also 1/0, yes/no)`);
    return fallback;
  };
  const name = (variable: string, fallback: string, pattern: RegExp, max: number, what: string) => {
    const text = get(variable) ?? fallback;
    if (text.length <= max && pattern.test(text)) return text;
    errors.push(`${variable}=${JSON.stringify(env[variable])}: must be ${what}`);
    return fallback;
  };

  const namespaces = (get('WATCH_NAMESPACES') ?? '')
    .split(',')
    .map((s) => s.trim())
    .filter(Boolean);
  for (const ns of namespaces) {
    if (ns.length > 63 || !DNS_LABEL.test(ns)) {
      errors.push(`WATCH_NAMESPACES: ${JSON.stringify(ns)} is not a namespace name (lowercase DNS label)`);
    }
  }
  const leaseNamespaceVariable =
    get('LEADER_ELECTION_NAMESPACE') !== undefined ? 'LEADER_ELECTION_NAMESPACE' : 'POD_NAMESPACE';
  const logLevel = get('LOG_LEVEL') ?? 'info';
  if (!LOG_LEVELS.includes(logLevel)) {
    errors.push(`LOG_LEVEL=${JSON.stringify(env.LOG_LEVEL)}: must be one of ${LOG_LEVELS.join(', ')}`);
  }
  const readElsewhere = <T>(read: () => T): T | undefined => {
    try {
      return read();
    } catch (error) {
      errors.push((error as Error).message);
      return undefined;
    }
  };
  const checkLimits = readElsewhere(() => checkLimitsFromEnv(env));
  const apiRateLimit = readElsewhere(() => apiRateLimitFromEnv(env));
  const settings: OperatorSettings = {
    ...(get('KUBECONFIG') ? { kubeconfig: get('KUBECONFIG')! } : {}),
    namespaces,
    maxConcurrentChecks: integer('MAX_CONCURRENT_CHECKS', 4, 1, 256),
    metricsPort: integer('METRICS_PORT', 8080, 0, 65535),
    leaderElect: boolean('LEADER_ELECT', true),
    leaseNamespace: name(leaseNamespaceVariable, 'default', DNS_LABEL, 63, 'a namespace name (lowercase DNS label)'),
    leaseName: name('LEADER_ELECTION_LEASE', 'dbwatch-operator', DNS_SUBDOMAIN, 253, 'a lowercase DNS name'),
    ...(get('POD_NAME') ? { identity: get('POD_NAME')! } : {}),
    shutdownGraceSeconds: integer('SHUTDOWN_GRACE_SECONDS', 20, 0, 3600),
    logLevel,
    ...(checkLimits ? { checkLimits } : {}),
    ...(apiRateLimit ? { apiRateLimit } : {}),
  };
  return errors.length > 0 ? { ok: false, errors } : { ok: true, settings };
}

/** Reads the operator's settings from the environment, runs it, and stops it cleanly on SIGTERM/SIGINT. */
export async function runOperatorFromEnv(
  env: NodeJS.ProcessEnv,
  writeError: (text: string) => void = (t) => process.stderr.write(`${t}\n`),
): Promise<void> {
  const parsed = parseOperatorSettings(env);
  if (!parsed.ok) {
    writeError(['invalid operator settings, not started:', ...parsed.errors.map((e) => `  ${e}`)].join('\n'));
    process.exitCode = EXIT.invalidInput;
    return;
  }
  const { settings } = parsed;
  const log = createLogger(settings.logLevel);
  const options: OperatorOptions = {
    ...(settings.kubeconfig ? { kubeconfig: settings.kubeconfig } : {}),
    namespaces: settings.namespaces,
    maxConcurrentChecks: settings.maxConcurrentChecks,
    metricsPort: settings.metricsPort,
    leaderElection: { enabled: settings.leaderElect, namespace: settings.leaseNamespace, name: settings.leaseName },
    ...(settings.identity ? { identity: settings.identity } : {}),
    gracePeriodMs: settings.shutdownGraceSeconds * 1000,
    ...(settings.checkLimits ? { checkLimits: settings.checkLimits } : {}),
    ...(settings.apiRateLimit ? { apiRateLimit: settings.apiRateLimit } : {}),
    engineFactory: createEngine,
    log,
  };
  const operator = await startOperator(options);
  log.info({ port: operator.port }, 'operator running');
  let stopping = false;
  const stop = (signal: string) => {
    if (stopping) return;
    stopping = true;
    log.info({ signal }, 'signal received');
    operator.stop().then(
      () => process.exit(0),
      (error: unknown) => {
        log.error({ err: error }, 'shutdown failed');
        process.exit(1);
      },
    );
  };
  process.on('SIGTERM', () => stop('SIGTERM'));
  process.on('SIGINT', () => stop('SIGINT'));
}
