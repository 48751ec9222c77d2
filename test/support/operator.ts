import { Writable } from 'node:stream';
import { createEngine } from '../../src/checks/index.js';
import { createLogger } from '../../src/controller/logger.js';
import { type RunningOperator, startOperator } from '../../src/controller/operator.js';
import { kubectl, userKubeconfig } from './kube.js';

let operatorKubeconfig: string | undefined;

/**
 * A kubeconfig for user dbwatch-operator bound to exactly the shipped ClusterRole (deploy/rbac), so
 * every operator test also proves the RBAC is sufficient.
 */
export async function operatorUserKubeconfig(): Promise<string> {
  if (operatorKubeconfig) return operatorKubeconfig;
  const applied = await kubectl(['apply', '-f', 'deploy/rbac/clusterrole.yaml']);
  if (applied.code !== 0) throw new Error(applied.stderr);
  await kubectl([
    'create',
    'clusterrolebinding',
    'dbwatch-operator-test',
    '--clusterrole=dbwatch-operator',
    '--user=dbwatch-operator',
  ]);
  operatorKubeconfig = userKubeconfig('dbwatch-operator');
  return operatorKubeconfig;
}

export interface TestOperator extends RunningOperator {
  logs: string[];
}

/** The operator in this process, watching one namespace, logging into memory. */
export async function startTestOperator(namespace: string, extra: { identity?: string } = {}): Promise<TestOperator> {
  const logs: string[] = [];
  const sink = new Writable({
    write(chunk, _enc, done) {
      logs.push(chunk.toString());
      done();
    },
  });
  const operator = await startOperator({
    kubeconfig: await operatorUserKubeconfig(),
    namespaces: [namespace],
    maxConcurrentChecks: 4,
    metricsPort: 0,
    leaderElection: { enabled: true, namespace, name: 'dbwatch-operator' },
    ...(extra.identity ? { identity: extra.identity } : {}),
    gracePeriodMs: 5000,
    engineFactory: createEngine,
    log: createLogger('debug', sink),
    onLostLeadership: () => undefined,
  });
  return { ...operator, logs };
}

/** Polls until `check` returns a value (not undefined), or fails with the last observation. */
export async function eventually<T>(
  what: string,
  check: () => Promise<T | undefined>,
  timeoutMs = 15_000,
  everyMs = 200,
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let last: unknown;
  while (Date.now() < deadline) {
    try {
      const value = await check();
      if (value !== undefined) return value;
    } catch (error) {
      last = error;
    }
    await new Promise((ok) => setTimeout(ok, everyMs));
  }
  throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}${last ? `: ${String(last)}` : ''}`);
}
