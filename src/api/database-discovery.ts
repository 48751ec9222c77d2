import { z } from 'zod';
import { conditionsList, engineSchema, secretKeyName, tlsSchema } from './common.js';
import { databaseMonitorSpecSchema, objectMetaSchema } from './database-monitor.js';
import { withRules } from './validation-rule.js';

/** metav1.LabelSelector: matchLabels and matchExpressions, ANDed; an empty selector selects everything. */
export const labelSelectorSchema = z
  .strictObject({
    matchLabels: z
      .record(z.string().max(317), z.string().max(63))
      .optional()
      .meta({ description: 'Labels that must all be present with these values.' }),
    matchExpressions: z
      .array(
        z.strictObject({
          key: z.string().min(1).max(317).meta({ description: 'Label key, e.g. team.' }),
          operator: z
            .enum(['In', 'NotIn', 'Exists', 'DoesNotExist'])
            .meta({ description: 'In, NotIn, Exists or DoesNotExist.' }),
          values: z
            .array(z.string().max(63))
            .max(100)
            .optional()
            .meta({ description: 'Values for In and NotIn; empty for Exists and DoesNotExist.' }),
        }),
      )
      .max(20)
      .optional()
      .meta({ description: 'Label requirements, all of which must hold.' }),
  })
  .meta({ description: 'A Kubernetes label selector; {} selects everything.' });
export type LabelSelector = z.infer<typeof labelSelectorSchema>;

/**
 * A text with placeholders such as $(cluster), expanded per discovered database. Each source allows its own
 * names (the CRD refuses others); the result must still be a valid host or object name.
 */
const template = (names: string[], what: string, example: string) =>
  z
    .string()
    .min(1)
    .max(253)
    .regex(
      new RegExp(`^([-a-zA-Z0-9_.:]|\\$\\((${names.join('|')})\\))+$`),
      `must be a ${what} and may use ${names.map((n) => `$(${n})`).join(', ')}`,
    )
    .meta({ description: `${what} with ${names.map((n) => `$(${n})`).join(', ')} expanded, e.g. ${example}.` });

const selector = (what: string) =>
  labelSelectorSchema.optional().meta({ description: `${what}, by their labels; all of them when absent.` });

const port = z
  .number()
  .int()
  .min(1)
  .max(65535)
  .optional()
  .meta({ description: "TCP port the monitors connect to (1-65535); default: the Secret's port, else 5432." });

const database = z
  .string()
  .min(1)
  .max(128)
  .optional()
  .meta({ description: "Database the monitors connect to, overriding the Secret's." });

const keyField = (field: string) =>
  secretKeyName.optional().meta({ description: `Key holding the ${field}; default as the source's Secret names it.` });

/** Like a monitor's secretRef.keys, without defaults: only the keys given replace the source's own names. */
export const discoveryKeysSchema = z.strictObject({
  url: keyField('whole connection string'),
  host: keyField('host'),
  port: keyField('port'),
  database: keyField('database name'),
  username: keyField('login name'),
  password: keyField('password'),
  instance: keyField('SQL Server named instance'),
});
export type DiscoveryKeys = z.infer<typeof discoveryKeysSchema>;

const keys = (defaults: string) =>
  discoveryKeysSchema
    .optional()
    .meta({ description: `Secret key names that differ from the source's own. Default: ${defaults}.` });

const name = (names: string[], fallback: string) =>
  template(names, 'monitor name', fallback)
    .optional()
    .meta({
      description: `Name of each DatabaseMonitor, with ${names.map((n) => `$(${n})`).join(', ')} expanded. Default ${fallback}.`,
    });

const host = (names: string[], fallback: string) =>
  template(names, 'host name', fallback)
    .optional()
    .meta({
      description: `Host the monitors connect to, with ${names.map((n) => `$(${n})`).join(', ')} expanded; the operator runs in its own namespace, so a Service needs its namespace in the name. Default ${fallback}.`,
    });

export const cloudNativePGSourceSchema = z
  .strictObject({
    selector: selector('CloudNativePG Clusters (postgresql.cnpg.io/v1) to monitor'),
    service: z.enum(['rw', 'ro', 'r']).default('rw').meta({
      description:
        "Which of the Cluster's Services the monitor connects through: rw (the primary; <cluster>-rw), ro (replicas) or r (any instance). Default rw.",
    }),
    poolers: z.boolean().default(false).meta({
      description:
        "Also one monitor per Pooler of a monitored Cluster, connecting through the Pooler's Service (named as the Pooler) with the same Secret. Default false.",
    }),
    secretName: template(['cluster'], 'Secret name', '$(cluster)-dbwatch').optional().meta({
      description:
        "Secret with the login, e.g. $(cluster)-dbwatch for a managed role of your own. Default: the Cluster's application Secret (spec.bootstrap.*.secret, else <cluster>-app).",
    }),
    keys: keys('those CloudNativePG writes (username, password, dbname, host, port)'),
    database,
    host: host(['service', 'cluster', 'namespace'], '$(service).$(namespace).svc'),
    port,
    name: name(['cluster'], '$(cluster)'),
  })
  .meta({ description: 'CloudNativePG Clusters: one monitor each, through their read-write Service by default.' });
export type CloudNativePGSource = z.infer<typeof cloudNativePGSourceSchema>;

export const crunchySourceSchema = z
  .strictObject({
    selector: selector('Crunchy PostgresClusters (postgres-operator.crunchydata.com/v1beta1) to monitor'),
    user: z.string().min(1).max(63).optional().meta({
      description:
        'PostgreSQL user whose Secret <cluster>-pguser-<user> is used. Default: the first of spec.users, else the user PGO creates by default (named as the cluster).',
    }),
    service: z.enum(['primary', 'pgbouncer']).default('primary').meta({
      description:
        "primary (<cluster>-primary) or pgbouncer (<cluster>-pgbouncer, the Secret's pgbouncer-port). Default primary.",
    }),
    keys: keys('those PGO writes (user, password, dbname, host, port; pgbouncer-port for service pgbouncer)'),
    database,
    host: host(['service', 'cluster', 'namespace'], '$(service).$(namespace).svc'),
    port,
    name: name(['cluster', 'user'], '$(cluster)'),
  })
  .meta({ description: 'Crunchy PGO PostgresClusters: one monitor each, for one user, through the primary Service.' });
export type CrunchySource = z.infer<typeof crunchySourceSchema>;

export const zalandoSourceSchema = z
  .strictObject({
    selector: selector('Zalando postgresqls (acid.zalan.do/v1) to monitor'),
    user: z.string().min(1).max(63).optional().meta({
      description:
        'User whose Secret <user>.<cluster>.credentials.postgresql.acid.zalan.do is used. Default: the owner of the first database in spec.databases.',
    }),
    database: z.string().min(1).max(128).optional().meta({
      description:
        "Database to connect to (the operator's Secret holds only the login). Default: the first of spec.databases owned by the user, else postgres.",
    }),
    service: z.enum(['master', 'replica', 'pooler']).default('master').meta({
      description: 'master (<cluster>), replica (<cluster>-repl) or pooler (<cluster>-pooler). Default master.',
    }),
    keys: keys('username and password'),
    host: host(['service', 'cluster', 'namespace'], '$(service).$(namespace).svc'),
    port,
    name: name(['cluster', 'user'], '$(cluster)'),
  })
  .meta({
    description: 'Zalando postgres-operator clusters: one monitor each, for one user, through the master Service.',
  });
export type ZalandoSource = z.infer<typeof zalandoSourceSchema>;

export const secretsSourceSchema = z
  .strictObject({
    selector: labelSelectorSchema.meta({
      description: 'Secrets to monitor, by their labels (required; e.g. matchLabels: {dbwatch.dev/monitor: "true"}).',
    }),
    engine: engineSchema.default('postgres').meta({ description: 'postgres or mssql. Default postgres.' }),
    keys: keys('url, host, port, database, username, password'),
    database,
    host: template(['secret', 'namespace'], 'host name', 'db.$(namespace).svc').optional().meta({
      description: "Host overriding the Secret's, with $(secret) and $(namespace) expanded. Default: the Secret's.",
    }),
    port,
    name: name(['secret'], '$(secret)'),
  })
  .meta({ description: 'Secrets of your own, selected by label: one monitor each, connecting as the Secret says.' });
export type SecretsSource = z.infer<typeof secretsSourceSchema>;

export const discoverySourceSchema = withRules(
  z
    .strictObject({
      cloudNativePG: cloudNativePGSourceSchema.optional(),
      crunchy: crunchySourceSchema.optional(),
      zalando: zalandoSourceSchema.optional(),
      secrets: secretsSourceSchema.optional(),
    })
    .meta({ description: 'One source of databases: exactly one of cloudNativePG, crunchy, zalando or secrets.' }),
  [
    {
      cel: '[has(self.cloudNativePG), has(self.crunchy), has(self.zalando), has(self.secrets)].exists_one(x, x)',
      check: (s) => [s.cloudNativePG, s.crunchy, s.zalando, s.secrets].filter((x) => x !== undefined).length === 1,
      message: 'set exactly one of cloudNativePG, crunchy, zalando or secrets',
    },
  ],
);
export type DiscoverySource = z.infer<typeof discoverySourceSchema>;

const monitorSpecFields = databaseMonitorSpecSchema.shape;

/** What every discovered monitor gets: the DatabaseMonitor spec without the parts each database brings. */
export const monitorTemplateSchema = z
  .strictObject({
    metadata: z
      .strictObject({
        labels: z
          .record(z.string().max(317), z.string().max(63))
          .optional()
          .meta({ description: "Labels added to every monitor (dbwatch's own dbwatch.dev/ labels win)." }),
        annotations: z
          .record(z.string().max(317), z.string().max(4096))
          .optional()
          .meta({ description: 'Annotations added to every monitor.' }),
      })
      .optional()
      .meta({ description: 'Labels and annotations of the monitors.' }),
    interval: monitorSpecFields.interval,
    timeoutSeconds: monitorSpecFields.timeoutSeconds,
    checks: monitorSpecFields.checks,
    thresholds: monitorSpecFields.thresholds,
    slo: monitorSpecFields.slo,
    connection: z
      .strictObject({
        tls: tlsSchema.optional().meta({
          description:
            'TLS for every monitor (Crunchy PGO accepts TLS connections only: use mode require or verify-ca). Default: plain TCP.',
        }),
        connectTimeoutSeconds: z.number().int().min(1).max(300).default(10).meta({
          description: 'Seconds allowed to open a connection (TCP, TLS and login), 1-300. Default 10.',
        }),
      })
      .default({ connectTimeoutSeconds: 10 })
      .meta({ description: 'Connection settings shared by every monitor; the address and login come per source.' }),
  })
  .meta({ description: 'The DatabaseMonitor spec given to every discovered database: interval, checks, thresholds.' });
export type MonitorTemplate = z.infer<typeof monitorTemplateSchema>;

export const databaseDiscoverySpecSchema = z
  .strictObject({
    sources: z
      .array(discoverySourceSchema)
      .min(1)
      .max(20)
      .meta({ description: 'Where databases are found (1-20 sources); a database found twice is monitored once.' }),
    namespaceSelector: labelSelectorSchema.optional().meta({
      description:
        "Namespaces to discover in, by their labels ({} for all the operator watches). Allowed only in the operator's cluster-wide namespaces (DISCOVERY_CLUSTER_NAMESPACES). Default: this namespace only.",
    }),
    template: monitorTemplateSchema.default({
      interval: '5m',
      timeoutSeconds: 30,
      checks: { pool: { enabled: true } },
      thresholds: { responseTimeMs: 2000, poolUtilizationPercent: 80, failureThreshold: 1, successThreshold: 1 },
      connection: { connectTimeoutSeconds: 10 },
    }),
  })
  .meta({ description: 'Which databases to monitor and how: sources, an optional namespace selector, a template.' });
export type DatabaseDiscoverySpec = z.infer<typeof databaseDiscoverySpecSchema>;

export const discoveryProblemSchema = z.strictObject({
  source: z.string().meta({ description: 'The object found, as Kind/namespace/name, e.g. Cluster/shop/orders.' }),
  monitor: z.string().optional().meta({ description: 'Name of the DatabaseMonitor it gets, when known.' }),
  reason: z.string().meta({ description: 'CamelCase reason, e.g. SourceNotReady, SecretNotFound, NameClash.' }),
  message: z.string().meta({ description: 'What is wrong and what to do.' }),
});
export type DiscoveryProblem = z.infer<typeof discoveryProblemSchema>;

export const databaseDiscoveryStatusSchema = z
  .strictObject({
    observedGeneration: z
      .number()
      .int()
      .optional()
      .meta({ description: 'metadata.generation of the spec this status was computed for.' }),
    conditions: conditionsList.optional().meta({
      description: 'Standard conditions (metav1.Condition): Ready, Reconciling, Stalled (docs/operator.md).',
    }),
    discovered: z.number().int().optional().meta({ description: 'Databases found by the sources.' }),
    created: z
      .number()
      .int()
      .optional()
      .meta({ description: 'Of those, how many have their DatabaseMonitor (created and kept by this discovery).' }),
    waiting: z.number().int().optional().meta({
      description: 'Of those, how many wait for their database to be ready (Cluster bootstrapping, Secret missing).',
    }),
    failed: z
      .number()
      .int()
      .optional()
      .meta({ description: 'Of those, how many could not get a monitor (name clash, invalid name, API error).' }),
    problems: z.array(discoveryProblemSchema).max(50).optional().meta({
      description: 'The waiting and failed databases with their reasons, at most 50 (the counts cover all).',
    }),
  })
  .meta({ description: 'What the discovery found and did; written by dbwatch, never by hand.' });
export type DatabaseDiscoveryStatus = z.infer<typeof databaseDiscoveryStatusSchema>;

export const databaseDiscoverySchema = z.strictObject({
  apiVersion: z.literal('dbwatch.dev/v1alpha1'),
  kind: z.literal('DatabaseDiscovery'),
  metadata: objectMetaSchema,
  spec: databaseDiscoverySpecSchema,
  status: databaseDiscoveryStatusSchema.optional(),
});
export type DatabaseDiscovery = z.infer<typeof databaseDiscoverySchema>;
