import { createEngine } from '../../src/checks/index.js';
import type { DiscoverySettings } from '../../src/controller/discovery/controller.js';
import { type RunningOperator, startOperator } from '../../src/controller/operator.js';
import { kubectl, userKubeconfig } from './kube.js';
import { memoryLogger } from './operator.js';

const USER = 'dbwatch-discovery-operator';
let kubeconfig: string | undefined;
const granted = new Set<string>();

async function run(args: string[]): Promise<void> {
  const result = await kubectl(args);
  if (result.code !== 0 && !/AlreadyExists/.test(result.stderr)) throw new Error(result.stderr);
}

/**
 * A user bound to exactly the shipped roles as the chart binds them with watchNamespaces and discovery on:
 * the operator and discovery ClusterRoles cluster-wide; Secrets, each enabled source's role and the
 * leader-election Role by RoleBinding in each watched namespace. Missing grants show up as 403s here.
 */
async function discoveryOperatorKubeconfig(namespaces: string[], sources: string[]): Promise<string> {
  if (!kubeconfig) {
    for (const file of [
      'deploy/rbac/clusterrole.yaml',
      'deploy/rbac/secrets-clusterrole.yaml',
      'deploy/rbac/discovery-clusterrole.yaml',
      'deploy/rbac/discovery-cloudnativepg-clusterrole.yaml',
      'deploy/rbac/discovery-crunchy-clusterrole.yaml',
      'deploy/rbac/discovery-zalando-clusterrole.yaml',
    ]) {
      await run(['apply', '-f', file]);
    }
    for (const role of ['dbwatch-operator', 'dbwatch-operator-discovery']) {
      await run(['create', 'clusterrolebinding', `${role}-${USER}`, `--clusterrole=${role}`, `--user=${USER}`]);
    }
    kubeconfig = userKubeconfig(USER);
  }
  for (const ns of namespaces) {
    const roles = [
      'dbwatch-operator-secrets',
      ...sources.filter((s) => s !== 'secrets').map((s) => `dbwatch-operator-discovery-${s}`),
    ];
    for (const role of roles) {
      if (granted.has(`${ns}/${role}`)) continue;
      await run(['create', 'rolebinding', `${role}-${USER}`, '-n', ns, `--clusterrole=${role}`, `--user=${USER}`]);
      granted.add(`${ns}/${role}`);
    }
  }
  return kubeconfig;
}

export interface DiscoveryOperator extends RunningOperator {
  logs: string[];
  /** dbwatch_discovery_monitor_writes_total by verb. */
  writes(): Promise<Record<string, number>>;
}

/** The operator in this process with DatabaseDiscovery on, watching the given namespaces, without leader election. */
export async function startDiscoveryOperator(options: {
  namespaces: string[];
  discovery: DiscoverySettings;
  apiRateLimit?: { qps: number; burst: number };
}): Promise<DiscoveryOperator> {
  const { logs, log } = memoryLogger('info');
  const operator = await startOperator({
    kubeconfig: await discoveryOperatorKubeconfig(options.namespaces, options.discovery.sources),
    namespaces: options.namespaces,
    maxConcurrentChecks: 4,
    metricsPort: 0,
    leaderElection: { enabled: false, namespace: options.namespaces[0]!, name: 'dbwatch-operator' },
    gracePeriodMs: 5000,
    engineFactory: createEngine,
    log,
    discovery: options.discovery,
    ...(options.apiRateLimit ? { apiRateLimit: options.apiRateLimit } : {}),
    onLostLeadership: () => undefined,
  });
  return {
    ...operator,
    logs,
    async writes() {
      const metric = await operator.metrics.registry.getSingleMetric('dbwatch_discovery_monitor_writes_total')?.get();
      return Object.fromEntries((metric?.values ?? []).map((v) => [String(v.labels.verb), v.value]));
    },
  };
}
