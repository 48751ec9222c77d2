import { API_GROUP } from './common.js';

/**
 * The operator's permissions, in one place: rendered to deploy/rbac/clusterrole.yaml and to the Helm
 * chart's rules by `npm run generate`, and proven sufficient by the operator tests, which run as a
 * user bound to exactly this ClusterRole.
 */
export const operatorRules = [
  { apiGroups: [API_GROUP], resources: ['databasemonitors', 'databaseprerequisites'], verbs: ['get', 'list', 'watch'] },
  {
    apiGroups: [API_GROUP],
    resources: ['databasemonitors/status', 'databaseprerequisites/status'],
    verbs: ['get', 'patch', 'update'],
  },
  // Connection Secrets: read to connect, watched so that a changed Secret re-checks its monitors.
  { apiGroups: [''], resources: ['secrets'], verbs: ['get', 'list', 'watch'] },
  { apiGroups: [''], resources: ['events'], verbs: ['create', 'patch'] },
  // Leader election. In the ClusterRole so that one binding suffices.
  { apiGroups: ['coordination.k8s.io'], resources: ['leases'], verbs: ['get', 'create', 'update'] },
];

export const operatorClusterRole = (name = 'dbwatch-operator') => ({
  apiVersion: 'rbac.authorization.k8s.io/v1',
  kind: 'ClusterRole',
  metadata: { name, labels: { 'app.kubernetes.io/name': 'dbwatch' } },
  rules: operatorRules,
});
