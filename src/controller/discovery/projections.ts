import type { CachedObject } from '../k8s/resource-cache.js';
import { resourceName, type SourceKind, SourceKinds } from './source-kinds.js';

/*
 * What the caches keep of another operator's objects: metadata and the few fields the finders read. A
 * CloudNativePG Cluster is tens of kilobytes (spec and status); 10,000 of them would be the operator's heap.
 */

type Loose = Record<string, any>;

const meta = (o: Loose) => ({
  name: o.metadata?.name,
  namespace: o.metadata?.namespace,
  uid: o.metadata?.uid,
  resourceVersion: o.metadata?.resourceVersion,
  labels: o.metadata?.labels,
});

const secretOf = (b: Loose | undefined) => (b?.secret?.name ? { secret: { name: b.secret.name } } : undefined);

const PROJECTIONS: Record<string, (o: Loose) => Loose> = {
  [resourceName(SourceKinds.cnpgCluster)]: (o) => ({
    metadata: meta(o),
    spec: {
      bootstrap: {
        initdb: secretOf(o.spec?.bootstrap?.initdb),
        recovery: secretOf(o.spec?.bootstrap?.recovery),
        pg_basebackup: secretOf(o.spec?.bootstrap?.pg_basebackup),
      },
    },
    status: {
      phase: o.status?.phase,
      conditions: (o.status?.conditions ?? []).map((c: Loose) => ({ type: c.type, status: c.status })),
    },
  }),
  [resourceName(SourceKinds.cnpgPooler)]: (o) => ({
    metadata: meta(o),
    spec: { cluster: { name: o.spec?.cluster?.name } },
  }),
  [resourceName(SourceKinds.crunchyCluster)]: (o) => ({
    metadata: meta(o),
    spec: { users: (o.spec?.users ?? []).map((u: Loose) => ({ name: u.name })) },
    status: { instances: (o.status?.instances ?? []).map((i: Loose) => ({ readyReplicas: i.readyReplicas })) },
  }),
  [resourceName(SourceKinds.zalandoPostgresql)]: (o) => ({
    metadata: meta(o),
    spec: { databases: o.spec?.databases },
    status: { PostgresClusterStatus: o.status?.PostgresClusterStatus },
  }),
};

export const projectionFor = (kind: SourceKind): ((o: CachedObject) => CachedObject) | undefined =>
  PROJECTIONS[resourceName(kind)] as ((o: CachedObject) => CachedObject) | undefined;
