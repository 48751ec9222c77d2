import type { ZalandoSource } from '../../../api/index.js';
import { SourceKinds } from '../source-kinds.js';
import type { DiscoveryWorld, SourceObject } from '../types.js';
import { foundDatabase, SERVICE_HOST, selected } from './found.js';

/** The parts of an acid.zalan.do/v1 postgresql read here (pkg/apis/acid.zalan.do/v1/postgresql_type.go). */
interface PostgresqlFields {
  spec?: { databases?: Record<string, string> };
  status?: { PostgresClusterStatus?: string };
}

const SERVICES = { master: '', replica: '-repl', pooler: '-pooler' } as const;

/** The user (the first database's owner unless given) and its database (the first it owns, else postgres). */
export function userAndDatabase(cluster: SourceObject, source: ZalandoSource): { user?: string; database: string } {
  const databases = Object.entries((cluster as PostgresqlFields).spec?.databases ?? {});
  const user = source.user ?? databases[0]?.[1];
  const owned = databases.find(([, owner]) => owner === user)?.[0];
  return { ...(user ? { user } : {}), database: source.database ?? owned ?? 'postgres' };
}

export function postgresqlNotReady(cluster: SourceObject): string | undefined {
  const phase = (cluster as PostgresqlFields).status?.PostgresClusterStatus;
  if (phase === 'Running') return undefined;
  return phase ? `PostgresClusterStatus "${phase}"` : 'no status yet';
}

export function findZalando(source: ZalandoSource, namespace: string, world: DiscoveryWorld) {
  return selected(world, SourceKinds.zalandoPostgresql, namespace, source.selector).map((cluster) => {
    const name = cluster.metadata?.name ?? '';
    const { user, database } = userAndDatabase(cluster, source);
    const login = user ?? 'postgres';
    return foundDatabase(
      {
        kind: SourceKinds.zalandoPostgresql,
        object: cluster,
        namespace,
        values: { cluster: name, user: login, namespace, service: `${name}${SERVICES[source.service]}` },
        name: source.name ?? '$(cluster)',
        engine: 'postgres',
        // secret_name_template's default; the operator writes user names with _ as - (credentialSecretName).
        secretName: `${login.replaceAll('_', '-')}.${name}.credentials.postgresql.acid.zalan.do`,
        ownKeys: {},
        givenKeys: source.keys,
        host: source.host ?? SERVICE_HOST,
        port: source.port,
        database,
        notReady: user ? postgresqlNotReady(cluster) : "spec.databases names no owner: set the source's user",
      },
      world,
    );
  });
}
