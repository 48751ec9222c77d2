import { join } from 'node:path';
import { Writable } from 'node:stream';
import { createEngine } from '../../src/checks/index.js';
import { type RunningOperator, startOperator } from '../../src/controller/operator.js';
import { createLogger } from '../../src/controller/runtime/logger.js';
import type { ControlPlane } from './control-plane.js';
import { kubectl, userKubeconfig } from './kube.js';
import { writeKubeconfig } from './kubeconfig.js';
import { issueClientCert } from './pki.js';

let operatorKubeconfig: string | undefined;

/** Where the operator's user is bound: the run's control plane unless a test started its own. */
interface Cluster {
  /** An admin kubeconfig. */
  kubeconfig?: string;
}

const USER = 'dbwatch-operator';

async function run(cluster: Cluster, steps: string[][]): Promise<void> {
  for (const args of steps) {
    const result = await kubectl(args, cluster);
    if (result.code !== 0 && !/AlreadyExists|already exists/.test(result.stderr)) throw new Error(result.stderr);
  }
}

/** The shipped ClusterRoles, bound cluster-wide to the operator's user. */
const clusterSteps = [
  ['apply', '-f', 'deploy/rbac/clusterrole.yaml'],
  ['apply', '-f', 'deploy/rbac/secrets-clusterrole.yaml'],
  ['create', 'clusterrolebinding', 'dbwatch-operator-test', '--clusterrole=dbwatch-operator', `--user=${USER}`],
];

/** Per namespace, as the chart does with watchNamespaces: Secrets through a RoleBinding, Leases through the leader-election and sharding Roles. */
const namespaceSteps = (namespace: string) => [
  ['apply', '-n', namespace, '-f', 'deploy/rbac/leader-election-role.yaml'],
  ['apply', '-n', namespace, '-f', 'deploy/rbac/sharding-role.yaml'],
  ['create', 'rolebinding', 'dbwatch-operator-sharding', '-n', namespace].concat([
    '--role=dbwatch-operator-sharding',
    `--user=${USER}`,
  ]),
  ['create', 'rolebinding', 'dbwatch-operator-leader-election', '-n', namespace].concat([
    '--role=dbwatch-operator-leader-election',
    `--user=${USER}`,
  ]),
  ['create', 'rolebinding', 'dbwatch-operator-secrets', '-n', namespace].concat([
    '--clusterrole=dbwatch-operator-secrets',
    `--user=${USER}`,
  ]),
];

/**
 * A kubeconfig for user dbwatch-operator bound to exactly the shipped roles (deploy/rbac), so every operator
 * test also proves the RBAC is sufficient: the ClusterRole cluster-wide, and — per namespace passed, as the
 * chart does with watchNamespaces — Secrets through a RoleBinding and Leases through the leader-election Role.
 */
export async function operatorUserKubeconfig(namespace?: string): Promise<string> {
  if (!operatorKubeconfig) {
    await run({}, clusterSteps);
    operatorKubeconfig = userKubeconfig(USER);
  }
  if (namespace) await grantOperatorNamespace(namespace);
  return operatorKubeconfig;
}

const granted = new Set<string>();

/** The operator's namespaced grants in one namespace: read its Secrets, hold its leader Lease, its shard Leases. */
export async function grantOperatorNamespace(namespace: string): Promise<void> {
  if (granted.has(namespace)) return;
  await run({}, namespaceSteps(namespace));
  granted.add(namespace);
}

/** The same user and grants on a control plane of the test's own (its dir holds the CA that signs the user). */
export async function operatorUserOn(cp: ControlPlane, namespaces: string[]): Promise<string> {
  const cluster = { kubeconfig: cp.kubeconfig };
  await run(cluster, clusterSteps);
  for (const namespace of namespaces) await run(cluster, namespaceSteps(namespace));
  const path = join(cp.dir, `kubeconfig-${USER}`);
  writeKubeconfig(path, cp.server, join(cp.dir, 'ca.crt'), USER, issueClientCert(cp.dir, USER, []));
  return path;
}

export interface TestOperator extends RunningOperator {
  logs: string[];
}

/** A debug logger that keeps its lines in memory, for an operator started in the test's process. */
export function memoryLogger(level: 'debug' | 'info' = 'debug') {
  const logs: string[] = [];
  const sink = new Writable({
    write(chunk, _enc, done) {
      logs.push(chunk.toString());
      done();
    },
  });
  return { logs, log: createLogger(level, sink) };
}

/** The operator in this process, watching one namespace, logging into memory. */
export async function startTestOperator(namespace: string, extra: { identity?: string } = {}): Promise<TestOperator> {
  const { logs, log } = memoryLogger();
  const operator = await startOperator({
    kubeconfig: await operatorUserKubeconfig(namespace),
    namespaces: [namespace],
    maxConcurrentChecks: 4,
    metricsPort: 0,
    leaderElection: { enabled: true, namespace, name: 'dbwatch-operator' },
    ...(extra.identity ? { identity: extra.identity } : {}),
    gracePeriodMs: 5000,
    engineFactory: createEngine,
    log,
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
