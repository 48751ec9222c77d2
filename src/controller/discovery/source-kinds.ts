/** A kind of object databases are discovered from, as its owner defines it. */
export interface SourceKind {
  group: string;
  version: string;
  plural: string;
  kind: string;
}

export const SourceKinds = {
  cnpgCluster: { group: 'postgresql.cnpg.io', version: 'v1', plural: 'clusters', kind: 'Cluster' },
  cnpgPooler: { group: 'postgresql.cnpg.io', version: 'v1', plural: 'poolers', kind: 'Pooler' },
  crunchyCluster: {
    group: 'postgres-operator.crunchydata.com',
    version: 'v1beta1',
    plural: 'postgresclusters',
    kind: 'PostgresCluster',
  },
  zalandoPostgresql: { group: 'acid.zalan.do', version: 'v1', plural: 'postgresqls', kind: 'postgresql' },
  secret: { group: '', version: 'v1', plural: 'secrets', kind: 'Secret' },
} as const satisfies Record<string, SourceKind>;

export const apiVersionOf = (k: SourceKind) => (k.group ? `${k.group}/${k.version}` : k.version);

/** Kind.group as kubectl accepts it (`kubectl get Cluster.postgresql.cnpg.io`); the bare Kind in the core group. */
export const qualifiedKind = (k: SourceKind) => (k.group ? `${k.kind}.${k.group}` : k.kind);

/** The resource as RBAC and the API server name it, e.g. clusters.postgresql.cnpg.io; also its cache's key. */
export const resourceName = (k: SourceKind) => (k.group ? `${k.plural}.${k.group}` : k.plural);
