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
