import { API_GROUP } from './common.js';

/**
 * The operator's permissions, in one place: rendered to deploy/rbac/ and to the Helm chart's rules by
 * `npm run generate`, and proven sufficient — and no wider — by the operator tests, which run as a user
 * bound to exactly these roles. Three grants, each as narrow as its use:
 */

/** Cluster-wide: its own resources in every watched namespace, and Events on them. */
export const operatorRules = [
  { apiGroups: [API_GROUP], resources: ['databasemonitors', 'databaseprerequisites'], verbs: ['get', 'list', 'watch'] },
  {
    apiGroups: [API_GROUP],
    resources: ['databasemonitors/status', 'databaseprerequisites/status'],
    verbs: ['get', 'patch', 'update'],
  },
  { apiGroups: [''], resources: ['events'], verbs: ['create', 'patch'] },
];

/**
 * Connection Secrets, only where monitors are watched: a ClusterRoleBinding when all namespaces are
 * watched, a RoleBinding per namespace otherwise. list/watch serve a metadata-only watch (a change
 * re-checks its monitors); get reads the one Secret a monitor references when it is reconciled.
 */
export const secretReaderRules = [{ apiGroups: [''], resources: ['secrets'], verbs: ['get', 'list', 'watch'] }];

/** Leader election: Leases in the operator's own namespace only (a Role, never a ClusterRole). */
export const leaderElectionRules = [
  { apiGroups: ['coordination.k8s.io'], resources: ['leases'], verbs: ['get', 'create', 'update'] },
];

/**
 * Sharding (opt-in): each replica creates, renews and at shutdown deletes a Lease of its own, and lists and
 * watches the group's Leases — in the operator's own namespace only (a Role).
 */
export const shardingRules = [
  {
    apiGroups: ['coordination.k8s.io'],
    resources: ['leases'],
    verbs: ['get', 'list', 'watch', 'create', 'update', 'delete'],
  },
];

/**
 * DatabaseDiscovery (opt-in): its own resources, writing the DatabaseMonitors it owns, and Namespace labels
 * for namespaceSelector. Secrets selected by label need nothing more: their metadata is already watched.
 */
export const discoveryRules = [
  { apiGroups: [API_GROUP], resources: ['databasediscoveries'], verbs: ['get', 'list', 'watch'] },
  { apiGroups: [API_GROUP], resources: ['databasediscoveries/status'], verbs: ['get', 'patch', 'update'] },
  { apiGroups: [API_GROUP], resources: ['databasemonitors'], verbs: ['create', 'update', 'delete'] },
  { apiGroups: [''], resources: ['namespaces'], verbs: ['list', 'watch'] },
];

/** Each database operator's resources, read only when that source is enabled (list + watch: a cache). */
export const discoverySourceRules = {
  cloudnativepg: [{ apiGroups: ['postgresql.cnpg.io'], resources: ['clusters', 'poolers'], verbs: ['list', 'watch'] }],
  crunchy: [
    { apiGroups: ['postgres-operator.crunchydata.com'], resources: ['postgresclusters'], verbs: ['list', 'watch'] },
  ],
  zalando: [{ apiGroups: ['acid.zalan.do'], resources: ['postgresqls'], verbs: ['list', 'watch'] }],
} as const;
export type DiscoveryOperatorSource = keyof typeof discoverySourceRules;

const labels = { 'app.kubernetes.io/name': 'dbwatch' };

export const operatorClusterRole = (name = 'dbwatch-operator') => ({
  apiVersion: 'rbac.authorization.k8s.io/v1',
  kind: 'ClusterRole',
  metadata: { name, labels },
  rules: operatorRules,
});

/** A ClusterRole so that one definition serves both a ClusterRoleBinding and per-namespace RoleBindings. */
export const secretReaderClusterRole = (name = 'dbwatch-operator-secrets') => ({
  apiVersion: 'rbac.authorization.k8s.io/v1',
  kind: 'ClusterRole',
  metadata: { name, labels },
  rules: secretReaderRules,
});

/** Namespace-less: `kubectl apply -n <operator namespace>` places it. */
export const leaderElectionRole = (name = 'dbwatch-operator-leader-election') => ({
  apiVersion: 'rbac.authorization.k8s.io/v1',
  kind: 'Role',
  metadata: { name, labels },
  rules: leaderElectionRules,
});

export const shardingRole = (name = 'dbwatch-operator-sharding') => ({
  apiVersion: 'rbac.authorization.k8s.io/v1',
  kind: 'Role',
  metadata: { name, labels },
  rules: shardingRules,
});

export const discoveryClusterRole = (name = 'dbwatch-operator-discovery') => ({
  apiVersion: 'rbac.authorization.k8s.io/v1',
  kind: 'ClusterRole',
  metadata: { name, labels },
  rules: discoveryRules,
});

/** One per database operator; bound cluster-wide or, with watched namespaces, by a RoleBinding in each. */
export const discoverySourceClusterRole = (
  source: DiscoveryOperatorSource,
  name = `dbwatch-operator-discovery-${source}`,
) => ({
  apiVersion: 'rbac.authorization.k8s.io/v1',
  kind: 'ClusterRole',
  metadata: { name, labels },
  rules: discoverySourceRules[source],
});
