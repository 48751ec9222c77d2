import { createEngine } from '../checks/index.js';
import { createLogger } from '../controller/logger.js';
import { startOperator } from '../controller/operator.js';

const truthy = (v: string | undefined, fallback: boolean) => (v === undefined ? fallback : /^(1|true|yes)$/i.test(v));

/** Reads the operator's settings from the environment, runs it, and stops it cleanly on SIGTERM/SIGINT. */
export async function runOperatorFromEnv(env: NodeJS.ProcessEnv): Promise<void> {
  const log = createLogger(env.LOG_LEVEL);
  const operator = await startOperator({
    ...(env.KUBECONFIG ? { kubeconfig: env.KUBECONFIG } : {}),
    namespaces: (env.WATCH_NAMESPACES ?? '')
      .split(',')
      .map((s) => s.trim())
      .filter(Boolean),
    maxConcurrentChecks: Number(env.MAX_CONCURRENT_CHECKS ?? 4),
    metricsPort: Number(env.METRICS_PORT ?? 8080),
    leaderElection: {
      enabled: truthy(env.LEADER_ELECT, true),
      namespace: env.LEADER_ELECTION_NAMESPACE ?? env.POD_NAMESPACE ?? 'default',
      name: env.LEADER_ELECTION_LEASE ?? 'dbwatch-operator',
    },
    ...(env.POD_NAME ? { identity: env.POD_NAME } : {}),
    gracePeriodMs: Number(env.SHUTDOWN_GRACE_SECONDS ?? 20) * 1000,
    engineFactory: createEngine,
    log,
  });
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
