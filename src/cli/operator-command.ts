import { createEngine } from '../checks/index.js';
import type { DiscoverySettings } from '../controller/discovery/controller.js';
import type { RateLimit } from '../controller/k8s/rate-limiter.js';
import { type AlertmanagerSettings, alertmanagerSettingsFromEnv } from '../controller/notify/index.js';
import { type OperatorOptions, startOperator } from '../controller/operator.js';
import type { CheckLimits } from '../controller/runtime/check-executor.js';
import { createLogger } from '../controller/runtime/logger.js';
import { StartupError } from '../controller/startup.js';
import { EXIT } from './exit-codes.js';
import { readOperatorEnvironment } from './operator-settings.js';

/** The operator's settings, each checked; the table of variables is src/cli/operator-settings.ts. */
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
  checkLimits?: CheckLimits;
  apiRateLimit?: RateLimit;
  /** SHARDING and SHARD_GROUP: active-active replicas, each on its own objects. */
  sharding?: { group: string };
  /** ALERTMANAGER_URL and the other ALERTMANAGER_* variables, read by the notifier's own module. */
  alertmanager?: AlertmanagerSettings;
  /** DISCOVERY_SOURCES and DISCOVERY_CLUSTER_NAMESPACES (default: the operator's own namespace). */
  discovery: DiscoverySettings;
}

type Parsed = { ok: true; settings: OperatorSettings } | { ok: false; errors: string[] };

/** Every setting from the environment, checked at once (see readOperatorEnvironment). */
export function parseOperatorSettings(env: NodeJS.ProcessEnv): Parsed {
  const read = readOperatorEnvironment(env);
  // ALERTMANAGER_* are read by the notifier's own module (src/controller/notify/settings.ts).
  const alertmanager = alertmanagerSettingsFromEnv(env);
  const errors = [...(read.ok ? [] : read.errors), ...alertmanager.errors];
  if (read.ok && read.values.sharding && read.values.leaderElect) {
    errors.push('SHARDING=true needs LEADER_ELECT=false: sharded, every replica works (on its own objects)');
  }
  if (!read.ok || errors.length > 0) return { ok: false, errors };
  const v = read.values;
  return {
    ok: true,
    settings: {
      ...(v.kubeconfig ? { kubeconfig: v.kubeconfig } : {}),
      namespaces: v.namespaces,
      maxConcurrentChecks: v.maxConcurrentChecks,
      metricsPort: v.metricsPort,
      leaderElect: v.leaderElect,
      leaseNamespace: v.leaseNamespace ?? v.podNamespace ?? 'default',
      leaseName: v.leaseName,
      ...(v.identity ? { identity: v.identity } : {}),
      shutdownGraceSeconds: v.shutdownGraceSeconds,
      logLevel: v.logLevel,
      checkLimits: { concurrency: v.checkConcurrency, perHost: v.checksPerHost },
      apiRateLimit: { qps: v.kubeApiQps, burst: v.kubeApiBurst },
      ...(alertmanager.settings ? { alertmanager: alertmanager.settings } : {}),
      ...(v.sharding ? { sharding: { group: v.shardGroup } } : {}),
      discovery: {
        sources: v.discoverySources,
        // By default only the operator's own namespace may discover across namespaces (its admins' namespace).
        clusterNamespaces:
          v.discoveryClusterNamespaces.length > 0 ? v.discoveryClusterNamespaces : [v.podNamespace ?? 'default'],
      },
    },
  };
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
    ...(settings.alertmanager ? { alertmanager: settings.alertmanager } : {}),
    ...(settings.sharding ? { sharding: { group: settings.sharding.group, namespace: settings.leaseNamespace } } : {}),
    discovery: settings.discovery,
    engineFactory: createEngine,
    log,
  };
  let operator: Awaited<ReturnType<typeof startOperator>>;
  try {
    operator = await startOperator(options);
  } catch (error) {
    // Expected set-up problems are one line with what to do; anything else is a bug and keeps its stack.
    if (!(error instanceof StartupError)) throw error;
    writeError(`operator not started: ${error.message}`);
    process.exitCode = EXIT.invalidInput;
    return;
  }
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
