import { DISCOVERY_SOURCES } from '../controller/discovery/controller.js';
import type { SourceName } from '../controller/discovery/reconciler.js';
import { DEFAULT_API_RATE_LIMIT } from '../controller/k8s/rate-limiter.js';
import { DEFAULT_CHECK_LIMITS } from '../controller/runtime/check-executor.js';

/*
 * Every environment variable `dbwatch operator` reads, in one table: it parses the environment, prints
 * `dbwatch operator --help`, and is the Configuration table of docs/operator.md (`npm run generate`), so the
 * three cannot say different things.
 */

type Parse<T> = (text: string) => { value: T } | { reason: string };

interface Setting<T> {
  name: string;
  /** The default as people read it. */
  shown: string;
  /** What it accepts and what it does, in one sentence: the same in --help and the docs. */
  description: string;
  fallback: T;
  parse: Parse<T>;
}

const setting = <T>(name: string, shown: string, description: string, fallback: T, parse: Parse<T>): Setting<T> => ({
  name,
  shown,
  description,
  fallback,
  parse,
});

const DNS_LABEL = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/;
const DNS_SUBDOMAIN = /^[a-z0-9]([-a-z0-9.]*[a-z0-9])?$/;
const LOG_LEVELS = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'];
const BOOLEANS = new Map([
  ['true', true],
  ['1', true],
  ['yes', true],
  ['false', false],
  ['0', false],
  ['no', false],
]);

const wholeNumber =
  (min: number, max = Number.MAX_SAFE_INTEGER): Parse<number> =>
  (text) => {
    const value = /^[0-9]+$/.test(text) ? Number(text) : Number.NaN;
    if (value >= min && value <= max) return { value };
    return {
      reason:
        max === Number.MAX_SAFE_INTEGER
          ? `must be a whole number ≥ ${min}`
          : `must be a whole number from ${min} to ${max}`,
    };
  };
const positiveNumber: Parse<number> = (text) => {
  const value = /^[0-9]*\.?[0-9]+$/.test(text) ? Number(text) : Number.NaN;
  return value > 0 ? { value } : { reason: 'must be a number > 0' };
};
const yesNo: Parse<boolean> = (text) => {
  const value = BOOLEANS.get(text.toLowerCase());
  return value === undefined ? { reason: 'must be true or false (also 1/0, yes/no)' } : { value };
};
const dnsName =
  (pattern: RegExp, max: number, what: string): Parse<string> =>
  (text) =>
    text.length <= max && pattern.test(text) ? { value: text } : { reason: `must be ${what}` };
const namespaceName = dnsName(DNS_LABEL, 63, 'a namespace name (lowercase DNS label)');
const namespaceList: Parse<string[]> = (text) => {
  const names = text
    .split(',')
    .map((s) => s.trim())
    .filter(Boolean);
  const bad = names.find((ns) => 'reason' in namespaceName(ns));
  return bad === undefined ? { value: names } : { reason: `"${bad}" is not a namespace name (lowercase DNS label)` };
};
const anyText: Parse<string | undefined> = (text) => ({ value: text });
const oneOfList =
  <T extends string>(allowed: readonly T[]): Parse<T[]> =>
  (text) => {
    const names = text
      .split(',')
      .map((s) => s.trim())
      .filter(Boolean);
    const bad = names.find((n) => !(allowed as readonly string[]).includes(n));
    return bad === undefined ? { value: names as T[] } : { reason: `"${bad}" is not one of ${allowed.join(', ')}` };
  };
const logLevel: Parse<string> = (text) =>
  LOG_LEVELS.includes(text) ? { value: text } : { reason: `must be one of ${LOG_LEVELS.join(', ')}` };

export const OPERATOR_SETTINGS = {
  namespaces: setting(
    'WATCH_NAMESPACES',
    '(all)',
    'comma-separated namespace names to watch (lowercase DNS labels); empty: all namespaces',
    [] as string[],
    namespaceList,
  ),
  maxConcurrentChecks: setting(
    'MAX_CONCURRENT_CHECKS',
    '4',
    '1–256; work-queue workers: reconciles computing status at once, and status writes in flight at once (a reconcile waiting on a database or for its write does not hold a worker)',
    4,
    wholeNumber(1, 256),
  ),
  checkConcurrency: setting(
    'CHECK_CONCURRENCY',
    String(DEFAULT_CHECK_LIMITS.concurrency),
    'whole number ≥ 1; database checks running at once (they wait on the network, not on workers)',
    DEFAULT_CHECK_LIMITS.concurrency,
    wholeNumber(1),
  ),
  checksPerHost: setting(
    'CHECKS_PER_HOST',
    String(DEFAULT_CHECK_LIMITS.perHost),
    'whole number ≥ 1; database checks running at once against one host:port, so a dead host cannot take every slot',
    DEFAULT_CHECK_LIMITS.perHost,
    wholeNumber(1),
  ),
  kubeApiQps: setting(
    'KUBE_API_QPS',
    String(DEFAULT_API_RATE_LIMIT.qps),
    'number > 0; client-side limit on Kubernetes API requests per second (Lease renewals exempt)',
    DEFAULT_API_RATE_LIMIT.qps,
    positiveNumber,
  ),
  kubeApiBurst: setting(
    'KUBE_API_BURST',
    String(DEFAULT_API_RATE_LIMIT.burst),
    'whole number ≥ 1; Kubernetes API requests allowed at once above KUBE_API_QPS',
    DEFAULT_API_RATE_LIMIT.burst,
    wholeNumber(1),
  ),
  metricsPort: setting(
    'METRICS_PORT',
    '8080',
    '0–65535 (0: any free port); serves /metrics, /healthz and /readyz',
    8080,
    wholeNumber(0, 65535),
  ),
  leaderElect: setting(
    'LEADER_ELECT',
    'true',
    'true/false, 1/0, yes/no (any case); leader election on a Lease, so that only one replica checks and writes',
    true,
    yesNo,
  ),
  leaseNamespace: setting(
    'LEADER_ELECTION_NAMESPACE',
    'POD_NAMESPACE, else default',
    "a namespace name; where the leader-election Lease lives (the operator's own)",
    undefined as string | undefined,
    namespaceName,
  ),
  sharding: setting(
    'SHARDING',
    'false',
    'true/false, 1/0, yes/no; active-active: every replica works on the objects it owns among the live members (docs/operator.md#sharding); needs LEADER_ELECT=false',
    false,
    yesNo,
  ),
  shardGroup: setting(
    'SHARD_GROUP',
    'dbwatch',
    "a lowercase DNS label; the shard group (the chart: the release's name): its members' Leases live beside the leader-election Lease",
    'dbwatch',
    dnsName(DNS_LABEL, 50, 'a lowercase DNS label of at most 50 characters'),
  ),
  leaseName: setting(
    'LEADER_ELECTION_LEASE',
    'dbwatch-operator',
    'a lowercase DNS name; the leader-election Lease',
    'dbwatch-operator',
    dnsName(DNS_SUBDOMAIN, 253, 'a lowercase DNS name'),
  ),
  podNamespace: setting(
    'POD_NAMESPACE',
    '(unset)',
    "a namespace name; the operator Pod's namespace (the chart sets it), the Lease's unless LEADER_ELECTION_NAMESPACE is set",
    undefined as string | undefined,
    namespaceName,
  ),
  identity: setting(
    'POD_NAME',
    'host name-pid-random',
    'leader-election identity and the reporting instance of Events (the chart sets the Pod name)',
    undefined as string | undefined,
    anyText,
  ),
  shutdownGraceSeconds: setting(
    'SHUTDOWN_GRACE_SECONDS',
    '20',
    '0–3600; how long SIGTERM waits for in-flight checks before closing',
    20,
    wholeNumber(0, 3600),
  ),
  logLevel: setting(
    'LOG_LEVEL',
    'info',
    'fatal, error, warn, info, debug, trace or silent (pino JSON logs)',
    'info',
    logLevel,
  ),
  kubeconfig: setting(
    'KUBECONFIG',
    'in-cluster',
    'kubeconfig file(s) outside a cluster (else ~/.kube/config); in a Pod the ServiceAccount is used',
    undefined as string | undefined,
    anyText,
  ),
  discoverySources: setting(
    'DISCOVERY_SOURCES',
    '(none)',
    `comma-separated, of ${DISCOVERY_SOURCES.join(', ')}; the DatabaseDiscovery sources this operator reads (the chart sets it from discovery.sources; docs/discovery.md)`,
    [] as SourceName[],
    oneOfList(DISCOVERY_SOURCES),
  ),
  discoveryClusterNamespaces: setting(
    'DISCOVERY_CLUSTER_NAMESPACES',
    'POD_NAMESPACE, else default',
    'comma-separated namespace names whose DatabaseDiscoveries may use namespaceSelector (discover across namespaces)',
    [] as string[],
    namespaceList,
  ),
  // Listed here for --help and the docs; it and the other ALERTMANAGER_* variables are parsed and checked by
  // the notifier's own module (src/controller/notify/settings.ts), which owns what they mean.
  alertmanagerUrl: setting(
    'ALERTMANAGER_URL',
    '(off)',
    'comma-separated Alertmanager URLs the operator posts its alerts to directly; the other ALERTMANAGER_* variables (credentials, TLS, intervals) are in docs/observability.md#settings',
    undefined as string | undefined,
    anyText,
  ),
};

type Settings = typeof OPERATOR_SETTINGS;
type Values = { [K in keyof Settings]: Settings[K] extends Setting<infer T> ? T : never };

/**
 * Reads every variable at once, so a bad deployment says everything that is wrong in one message. An empty
 * variable counts as unset (Helm renders unset values as ""). Values are echoed: none is a secret.
 */
export function readOperatorEnvironment(
  env: NodeJS.ProcessEnv,
): { ok: true; values: Values } | { ok: false; errors: string[] } {
  const errors: string[] = [];
  const values: Record<string, unknown> = {};
  for (const [key, s] of Object.entries(OPERATOR_SETTINGS) as [string, Setting<unknown>][]) {
    const raw = env[s.name];
    const text = raw?.trim();
    if (text === undefined || text === '') {
      values[key] = s.fallback;
      continue;
    }
    const parsed = s.parse(text);
    if ('value' in parsed) values[key] = parsed.value;
    else {
      errors.push(`${s.name}=${JSON.stringify(raw)}: ${parsed.reason}`);
      values[key] = s.fallback;
    }
  }
  return errors.length > 0 ? { ok: false, errors } : { ok: true, values: values as Values };
}

/** Wraps `text` to `width` columns, continuing lines with `indent` spaces. */
function wrap(text: string, width: number, indent: number): string {
  const lines: string[] = [];
  let line = '';
  for (const word of text.split(' ')) {
    if (line !== '' && indent + line.length + 1 + word.length > width) {
      lines.push(line);
      line = word;
    } else line = line === '' ? word : `${line} ${word}`;
  }
  lines.push(line);
  return lines.join(`\n${' '.repeat(indent)}`);
}

/** The variables for `dbwatch operator --help`: name, default, and the docs' description, wrapped for a terminal. */
export function renderSettingsHelp(width = 100): string {
  const all = Object.values(OPERATOR_SETTINGS) as Setting<unknown>[];
  const nameWidth = Math.max(...all.map((s) => s.name.length)) + 2;
  const lines = all.map((s) => {
    const head = `  ${s.name.padEnd(nameWidth)}`;
    return `${head}${wrap(`${s.description} (default: ${s.shown})`, width, head.length)}`;
  });
  return ['Environment (every variable; docs/operator.md#configuration):', ...lines].join('\n');
}

/** The Configuration table of docs/operator.md. */
export function renderSettingsTable(): string {
  const rows = (Object.values(OPERATOR_SETTINGS) as Setting<unknown>[]).map(
    (s) => `| ${s.name} | ${s.shown} | ${s.description} |`,
  );
  return ['| env | default | allowed and meaning |', '| --- | --- | --- |', ...rows].join('\n');
}
