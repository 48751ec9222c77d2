import type { CrunchySource } from '../../../api/index.js';
import { SourceKinds } from '../source-kinds.js';
import type { DiscoveryWorld, SourceObject } from '../types.js';
import { foundDatabase, SERVICE_HOST, selected } from './found.js';

/** The parts of a postgres-operator.crunchydata.com/v1beta1 PostgresCluster read here. */
interface PostgresClusterFields {
  spec?: { users?: { name?: string }[] };
  status?: { instances?: { name?: string; readyReplicas?: number; replicas?: number }[] };
}

/** PGO's users: spec.users, or — when none are listed — one named after the cluster (postgres.go). */
export const defaultUser = (cluster: SourceObject) =>
  (cluster as PostgresClusterFields).spec?.users?.[0]?.name ?? cluster.metadata?.name ?? '';

/** Ready once an instance is: PGO has no Ready condition; a ready replica of some instance set serves. */
export function postgresClusterNotReady(cluster: SourceObject): string | undefined {
  const sets = (cluster as PostgresClusterFields).status?.instances ?? [];
  if (sets.some((s) => (s.readyReplicas ?? 0) > 0)) return undefined;
  return sets.length === 0 ? 'no instances in status yet' : 'no instance is ready';
}

export function findCrunchy(source: CrunchySource, namespace: string, world: DiscoveryWorld) {
  return selected(world, SourceKinds.crunchyCluster, namespace, source.selector).map((cluster) => {
    const name = cluster.metadata?.name ?? '';
    const user = source.user ?? defaultUser(cluster);
    // PGO's Secret <cluster>-pguser-<user> (naming.PostgresUserSecret): user, password, dbname, host, port, uri…
    const viaPgBouncer = source.service === 'pgbouncer';
    const ownKeys = viaPgBouncer
      ? { username: 'user', database: 'dbname', host: 'pgbouncer-host', port: 'pgbouncer-port' }
      : { username: 'user', database: 'dbname' };
    return foundDatabase(
      {
        kind: SourceKinds.crunchyCluster,
        object: cluster,
        namespace,
        values: { cluster: name, user, namespace, service: `${name}-${source.service}` },
        name: source.name ?? '$(cluster)',
        engine: 'postgres',
        secretName: `${name}-pguser-${user}`,
        ownKeys,
        givenKeys: source.keys,
        host: source.host ?? SERVICE_HOST,
        port: source.port,
        database: source.database,
        notReady: postgresClusterNotReady(cluster),
      },
      world,
    );
  });
}
