import { z } from 'zod';
import { conditionsList, connectionSchema, dnsName, duration, engineSchema, transitionEventsSchema } from './common.js';
import { migrationsCheckSchema, objectMetaSchema } from './database-monitor.js';
import { prerequisiteResultSchema } from './results.js';
import { withRules } from './validation-rule.js';

export const prerequisiteDatabaseSchema = withRules(
  z.strictObject({
    name: z
      .string()
      .min(1)
      .max(63)
      .meta({ description: 'Label for this database in the results, unique in the list, e.g. orders.' }),
    monitorRef: z
      .strictObject({ name: dnsName.meta({ description: 'Name of the DatabaseMonitor, e.g. orders.' }) })
      .optional()
      .meta({
        description: 'A DatabaseMonitor in the same namespace whose connection and migration settings are reused.',
      }),
    engine: engineSchema
      .optional()
      .meta({ description: 'postgres or mssql; required with connection, not allowed with monitorRef.' }),
    connection: connectionSchema.optional().meta({
      description:
        "An inline connection (as in a DatabaseMonitor), checked on this resource's interval. Not with monitorRef.",
    }),
    checks: z
      .strictObject({
        migrations: migrationsCheckSchema.optional().meta({
          description:
            "Reads the migration history table, as a DatabaseMonitor's spec.checks.migrations. Off when absent.",
        }),
      })
      .optional()
      .meta({ description: "Checks for an inline connection, as in a DatabaseMonitor's spec.checks." }),
  }),
  [
    {
      cel: 'has(self.monitorRef) != has(self.connection)',
      check: (d) => (d.monitorRef !== undefined) !== (d.connection !== undefined),
      message: 'set either monitorRef or connection',
    },
    {
      cel: 'has(self.connection) == has(self.engine)',
      check: (d) => (d.connection !== undefined) === (d.engine !== undefined),
      message: 'engine goes with connection (and only with it)',
    },
    {
      cel: '!has(self.checks) || has(self.connection)',
      check: (d) => d.checks === undefined || d.connection !== undefined,
      message: "checks go with an inline connection; a monitorRef uses its monitor's checks",
    },
  ],
);
export type PrerequisiteDatabase = z.infer<typeof prerequisiteDatabaseSchema>;

export const databasePrerequisiteSpecSchema = z
  .strictObject({
    databases: z
      .array(prerequisiteDatabaseSchema)
      .min(1)
      .max(50)
      .meta({
        'x-kubernetes-list-type': 'map',
        'x-kubernetes-list-map-keys': ['name'],
        description: 'Databases that must all be ready (1-50): each a monitorRef or an inline engine and connection.',
      }),
    checkMigrations: z.boolean().default(true).meta({
      description: 'Fail a database with failed or pending migrations where migrations are configured. Default true.',
    }),
    performanceThresholdMs: z.number().min(1).max(600_000).default(1000).meta({
      description: 'Health response time in milliseconds above which a database is a warning. 1-600000, default 1000.',
    }),
    allowWarnings: z.boolean().default(false).meta({
      description: 'true makes Ready=True also when overallStatus is warning. Default false.',
    }),
    interval: duration('1m').meta({
      description: 'How often the databases are re-evaluated (Go duration, 1s-24h), e.g. 30s. Default 1m.',
    }),
  })
  .meta({ description: 'Databases that must be reachable and migrated before a workload starts (dbwatch wait).' });
export type DatabasePrerequisiteSpec = z.infer<typeof databasePrerequisiteSpecSchema>;

export const databasePrerequisiteStatusSchema = prerequisiteResultSchema
  .partial()
  .extend({
    observedGeneration: z
      .number()
      .int()
      .optional()
      .meta({ description: 'metadata.generation of the spec the results were computed for.' }),
    conditions: conditionsList.optional().meta({
      description: 'Standard conditions (metav1.Condition): Ready, Reconciling, Stalled (docs/operator.md).',
    }),
    lastCheckTime: z.string().optional().meta({
      description: 'When the databases were last evaluated (RFC 3339 UTC). Absent while the spec is invalid.',
    }),
    lastSuccessTime: z
      .string()
      .optional()
      .meta({ description: 'When the prerequisite was last Ready (RFC 3339 UTC); kept across failures.' }),
    consecutiveFailures: z
      .number()
      .int()
      .optional()
      .meta({ description: 'Evaluations in a row with overallStatus failed; 0 otherwise.' }),
    shard: z.string().optional().meta({
      description:
        'The operator replica that owns this object and wrote this status, when the operator runs sharded (docs/operator.md, Sharding).',
    }),
    lastHandledReconcileAt: z.string().optional().meta({
      description: 'The last dbwatch.dev/requestedAt annotation value acted on.',
    }),
    transitionEvents: transitionEventsSchema.optional(),
  })
  .meta({ description: 'The last evaluation of every database; written by dbwatch, never by hand.' });
export type DatabasePrerequisiteStatus = z.infer<typeof databasePrerequisiteStatusSchema>;

export const databasePrerequisiteSchema = z.strictObject({
  apiVersion: z.literal('dbwatch.dev/v1alpha1'),
  kind: z.literal('DatabasePrerequisite'),
  metadata: objectMetaSchema,
  spec: databasePrerequisiteSpecSchema,
  status: databasePrerequisiteStatusSchema.optional(),
});
export type DatabasePrerequisite = z.infer<typeof databasePrerequisiteSchema>;
