import type { CloudNativePGSource } from '../../../api/index.js';
import { expandPlaceholders } from '../placeholders.js';
import { SourceKinds } from '../source-kinds.js';
import type { DiscoveryWorld, FoundDatabase, SourceObject } from '../types.js';
import { foundDatabase, SERVICE_HOST, selected } from './found.js';

/** The parts of a postgresql.cnpg.io/v1 Cluster read here (CloudNativePG's api/v1/cluster_types.go). */
interface ClusterFields {
  spec?: {
    bootstrap?: Partial<Record<'initdb' | 'recovery' | 'pg_basebackup', { secret?: { name?: string } }>>;
  };
  status?: { phase?: string; conditions?: { type?: string; status?: string }[] };
}

interface PoolerFields {
  spec?: { cluster?: { name?: string } };
}

/** CloudNativePG's own rule (Cluster.GetApplicationSecretName): a bootstrap secret if given, else <cluster>-app. */
export function applicationSecretName(cluster: SourceObject): string {
  const bootstrap = (cluster as ClusterFields).spec?.bootstrap;
  const given = [bootstrap?.recovery, bootstrap?.pg_basebackup, bootstrap?.initdb]
    .map((b) => b?.secret?.name)
    .find((n) => n);
  return given ?? `${cluster.metadata?.name}-app`;
}

/** Ready as CloudNativePG says it: its Ready condition (set from phase "Cluster in healthy state"). */
export function clusterNotReady(cluster: SourceObject): string | undefined {
  const status = (cluster as ClusterFields).status;
  const ready = status?.conditions?.find((c) => c.type === 'Ready');
  if (ready?.status === 'True' || status?.phase === 'Cluster in healthy state') return undefined;
  return status?.phase ? `phase "${status.phase}"` : 'no status yet';
}

/** The keys CloudNativePG writes (pkg/specs/secrets.go): username, password, dbname, host, port, uri… */
const CNPG_KEYS = { database: 'dbname' };

export function findCloudNativePG(source: CloudNativePGSource, namespace: string, world: DiscoveryWorld) {
  const found: FoundDatabase[] = [];
  const poolers = source.poolers ? world.objects(SourceKinds.cnpgPooler, namespace) : [];
  for (const cluster of selected(world, SourceKinds.cnpgCluster, namespace, source.selector)) {
    const name = cluster.metadata?.name ?? '';
    const secretName = source.secretName
      ? expandPlaceholders(source.secretName, { cluster: name })
      : applicationSecretName(cluster);
    const common = {
      namespace,
      engine: 'postgres' as const,
      secretName,
      ownKeys: CNPG_KEYS,
      givenKeys: source.keys,
      host: source.host ?? SERVICE_HOST,
      port: source.port,
      database: source.database,
      notReady: clusterNotReady(cluster),
    };
    const values = { cluster: name, namespace, service: `${name}-${source.service}` };
    found.push(
      foundDatabase(
        { ...common, kind: SourceKinds.cnpgCluster, object: cluster, values, name: source.name ?? '$(cluster)' },
        world,
      ),
    );
    // A Pooler's Service is named as the Pooler; its PgBouncer authenticates the Cluster's users (auth_query).
    for (const pooler of poolers.filter((p) => (p as PoolerFields).spec?.cluster?.name === name)) {
      const poolerName = pooler.metadata?.name ?? '';
      const poolerValues = { cluster: name, namespace, service: poolerName };
      found.push(
        foundDatabase(
          { ...common, kind: SourceKinds.cnpgPooler, object: pooler, values: poolerValues, name: poolerName },
          world,
        ),
      );
    }
  }
  return found;
}
