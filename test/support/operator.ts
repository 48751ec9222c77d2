import { Writable } from 'node:stream';
import { createEngine } from '../../src/checks/index.js';
import { type RunningOperator, startOperator } from '../../src/controller/operator.js';
import { createLogger } from '../../src/controller/runtime/logger.js';
import { kubectl, userKubeconfig } from './kube.js';

let operatorKubeconfig: string | undefined;

/**
 * A kubeconfig for user dbwatch-operator bound to exactly the shipped roles (deploy/rbac), so every operator
 * test also proves the RBAC is sufficient: the ClusterRole cluster-wide, and — per namespace passed, as the
 * chart does with watchNamespaces — Secrets through a RoleBinding and Leases through the leader-election Role.
 */
export async function operatorUserKubeconfig(namespace?: string): Promise<string> {
  if (!operatorKubeconfig) {
    for (const file of ['deploy/rbac/clusterrole.yaml', 'deploy/rbac/secrets-clusterrole.yaml']) {
      const applied = await kubectl(['apply', '-f', file]);
      if (applied.code !== 0) throw new Error(applied.stderr);
    }
    await kubectl([
      'create',
      'clusterrolebinding',
      'dbwatch-operator-test',
      '--clusterrole=dbwatch-operator',
      '--user=dbwatch-operator',
    ]);
    operatorKubeconfig = userKubeconfig('dbwatch-operator');
  }
  if (namespace) await grantOperatorNamespace(namespace);
  return operatorKubeconfig;
}

const granted = new Set<string>();

/** The operator's namespaced grants in one namespace: read its Secrets, hold its leader Lease, its shard Leases. */
export async function grantOperatorNamespace(namespace: string): Promise<void> {
  if (granted.has(namespace)) return;
  const steps = [
    ['apply', '-n', namespace, '-f', 'deploy/rbac/leader-election-role.yaml'],
    ['apply', '-n', namespace, '-f', 'deploy/rbac/sharding-role.yaml'],
    ['create', 'rolebinding', 'dbwatch-operator-sharding', '-n', namespace].concat([
      '--role=dbwatch-operator-sharding',
      '--user=dbwatch-operator',
    ]),
    ['create', 'rolebinding', 'dbwatch-operator-leader-election', '-n', namespace].concat([
      '--role=dbwatch-operator-leader-election',
      '--user=dbwatch-operator',
    ]),
    ['create', 'rolebinding', 'dbwatch-operator-secrets', '-n', namespace].concat([
      '--clusterrole=dbwatch-operator-secrets',
      '--user=dbwatch-operator',
    ]),
  ];
  for (const args of steps) {
    const result = await kubectl(args);
    if (result.code !== 0 && !/AlreadyExists/.test(result.stderr)) throw new Error(result.stderr);
  }
  granted.add(namespace);
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
    kubeconfig: await operatorUserKubeconfig(namespace),
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
