import { z } from 'zod';
import { availabilityStatusSchema, sloSchema } from './availability.js';
import { conditionsList, connectionSchema, dnsName, duration, engineSchema, transitionEventsSchema } from './common.js';
import { pgbouncerCheckSchema, pgbouncerResultSchema } from './pgbouncer.js';
import {
  diagnosticsResultSchema,
  healthResultSchema,
  healthStatusSchema,
  performanceResultSchema,
  poolResultSchema,
} from './results.js';
import { withRules } from './validation-rule.js';

export const migrationToolSchema = z.enum([
  'flyway',
  'liquibase',
  'golang-migrate',
  'alembic',
  'prisma',
  'knex',
  'efcore',
  'django',
  'rails',
  'dbup',
  'custom',
]);
export type MigrationTool = z.infer<typeof migrationToolSchema>;

export const migrationsCheckSchema = withRules(
  z.strictObject({
    tool: migrationToolSchema.meta({
      description: 'Migration tool whose history table is read by its own rules (docs/checks.md), e.g. flyway.',
    }),
    schema: z
      .string()
      .max(128)
      .optional()
      .meta({ description: 'Schema holding the table; the default search path when empty.' }),
    table: z
      .string()
      .max(128)
      .optional()
      .meta({ description: "Overrides the tool's default table name, e.g. flyway_schema_history." }),
    versionColumn: z
      .string()
      .max(128)
      .optional()
      .meta({ description: 'Column holding the version; required for tool: custom, ignored otherwise.' }),
    expectedVersion: z.string().max(128).optional().meta({
      description: 'Version the database must have reached, as the tool writes it, e.g. "42"; older means pending.',
    }),
    expectedMigrations: z.array(z.string().max(256)).max(10_000).optional().meta({
      description:
        'Migrations that must all be applied, named as the tool writes them; any missing are pending. Not with expectedVersion.',
    }),
  }),
  [
    {
      cel: "self.tool != 'custom' || has(self.versionColumn)",
      check: (m) => m.tool !== 'custom' || m.versionColumn !== undefined,
      message: 'versionColumn is required when tool is custom',
    },
    {
      cel: '!(has(self.expectedVersion) && has(self.expectedMigrations))',
      check: (m) => !(m.expectedVersion !== undefined && m.expectedMigrations !== undefined),
      message: 'set expectedVersion or expectedMigrations, not both',
    },
  ],
);
export type MigrationsCheck = z.infer<typeof migrationsCheckSchema>;

export const testQuerySchema = z.strictObject({
  name: z.string().min(1).max(63).meta({ description: 'Label for the query in the results, e.g. select-1.' }),
  sql: z
    .string()
    .min(1)
    .max(10_000)
    .meta({ description: 'One read-only statement, at most 10,000 characters, e.g. SELECT 1.' }),
});

export const performanceCheckSchema = z.strictObject({
  queries: z
    .array(testQuerySchema)
    .min(1)
    .max(20)
    .default([{ name: 'select-1', sql: 'SELECT 1' }])
    .meta({
      description:
        'Test queries (1-20), each run read-only inside a transaction that is always rolled back. Default: select-1, SELECT 1.',
    }),
  iterations: z.number().int().min(1).max(100).default(5).meta({
    description: 'Times each query runs and fresh connections are timed, 1-100. Default 5.',
  }),
  targetMs: z
    .number()
    .min(1)
    .max(600_000)
    .default(100)
    .meta({ description: 'Apdex target T in milliseconds: satisfied <= T, tolerating <= 4T. 1-600000, default 100.' }),
  interval: duration('1h').meta({
    description: 'How often the performance test runs (Go duration, 1s-24h), apart from the health check. Default 1h.',
  }),
});
export type PerformanceCheck = z.infer<typeof performanceCheckSchema>;

export const thresholdsSchema = z.strictObject({
  responseTimeMs: z.number().min(1).max(600_000).default(2000).meta({
    description: 'Health response time (ms) above which the database is degraded. 1-600000, default 2000.',
  }),
  poolUtilizationPercent: z.number().min(1).max(100).default(80).meta({
    description:
      'Server connection utilization in percent (0-100) at or above which the database is degraded. 1-100, default 80.',
  }),
  failureThreshold: z.number().int().min(1).max(100).default(1).meta({
    description: 'Unhealthy checks in a row before status turns unhealthy. 1-100, default 1.',
  }),
  successThreshold: z.number().int().min(1).max(100).default(1).meta({
    description: 'Healthy checks in a row before status turns healthy again. 1-100, default 1.',
  }),
});
export type Thresholds = z.infer<typeof thresholdsSchema>;

export const databaseMonitorSpecSchema = z
  .strictObject({
    engine: engineSchema.meta({ description: 'Database engine: postgres (PostgreSQL) or mssql (SQL Server).' }),
    connection: connectionSchema,
    interval: duration('5m').meta({
      description: 'How often the database is checked (Go duration such as 30s, 5m or 1h30m; 1s-24h). Default 5m.',
    }),
    timeoutSeconds: z.number().int().min(1).max(600).default(30).meta({
      description:
        'Seconds one whole check may take (health, migrations, pool and performance share it), 1-600. Default 30.',
    }),
    suspend: z.boolean().default(false).meta({
      description:
        'true pauses checks and closes the connection pool (Ready=Unknown, reason Suspended). Default false.',
    }),
    checks: z
      .strictObject({
        pool: z
          .strictObject({
            enabled: z.boolean().default(true).meta({ description: 'Measure connection utilization. Default true.' }),
          })
          .default({ enabled: true })
          .meta({ description: "The server's connection utilization against its usable maximum (status.pool)." }),
        performance: performanceCheckSchema.optional().meta({
          description: 'Timed connections and test queries rated by Apdex on their own interval. Off when absent.',
        }),
        migrations: migrationsCheckSchema.optional().meta({
          description:
            'Reads the migration history table: current version, pending and failed migrations. Off when absent.',
        }),
        pgbouncer: pgbouncerCheckSchema.optional().meta({
          description:
            "PgBouncer's own pools from its admin console (SHOW POOLS, SHOW DATABASES): clients waiting, servers in use, pool utilization. For monitors that connect through PgBouncer. Off when absent.",
        }),
      })
      .default({ pool: { enabled: true } })
      .meta({ description: 'Checks run besides connection and test query. Default: pool only.' }),
    thresholds: thresholdsSchema.meta({ description: 'Limits that turn a result degraded or unhealthy.' }).default({
      responseTimeMs: 2000,
      poolUtilizationPercent: 80,
      failureThreshold: 1,
      successThreshold: 1,
    }),
    slo: sloSchema.optional().meta({
      description: 'Availability objective; adds the SLOMet condition and status.availability.errorBudgetRemaining.',
    }),
  })
  .meta({ description: 'What to monitor: the database, how often, which checks and their thresholds.' });
export type DatabaseMonitorSpec = z.infer<typeof databaseMonitorSpecSchema>;

export const databaseMonitorStatusSchema = z
  .strictObject({
    observedGeneration: z
      .number()
      .int()
      .optional()
      .meta({ description: 'metadata.generation of the spec the results below were measured for.' }),
    conditions: conditionsList.optional().meta({
      description:
        'Standard conditions (metav1.Condition): Ready, Reconciling, Stalled, Connected, MigrationsApplied, ConnectionUtilizationWithinLimits, PerformanceWithinTarget, SLOMet (docs/operator.md).',
    }),
    status: healthStatusSchema.optional().meta({
      description:
        'Debounced health (failure/success thresholds): healthy, degraded or unhealthy. Absent while stalled, suspended or not yet checked.',
    }),
    lastCheckTime: z.string().optional().meta({
      description:
        'When the check this status reports ran (RFC 3339 UTC). A check that finds nothing new is not written: this is rewritten at least by nextHeartbeatTime. Absent when not checked.',
    }),
    nextHeartbeatTime: z.string().optional().meta({
      description:
        'The status is rewritten by then even if nothing changes (lastCheckTime + max(interval, 5m)); a time long past means no operator is checking this monitor.',
    }),
    lastSuccessTime: z
      .string()
      .optional()
      .meta({ description: 'When a check last found the database healthy (RFC 3339 UTC); kept while stalled.' }),
    lastPerformanceTime: z.string().optional().meta({
      description: 'When the performance test last ran (RFC 3339 UTC). Absent unless spec.checks.performance is set.',
    }),
    consecutiveFailures: z.number().int().optional().meta({
      description:
        'Unhealthy checks in a row up to lastCheckTime, compared with thresholds.failureThreshold (the metric dbwatch_database_consecutive_failures has the same value at each write).',
    }),
    consecutiveSuccesses: z.number().int().optional().meta({
      description: 'Healthy checks in a row up to lastCheckTime, compared with thresholds.successThreshold.',
    }),
    shard: z.string().optional().meta({
      description:
        'The operator replica that owns this object and wrote this status, when the operator runs sharded (docs/operator.md, Sharding).',
    }),
    lastHandledReconcileAt: z.string().optional().meta({
      description: 'The last dbwatch.dev/requestedAt annotation value acted on (a check was run for it).',
    }),
    health: healthResultSchema.optional().meta({
      description: 'Raw result of the last health check. Absent while stalled, suspended or not yet checked.',
    }),
    pool: poolResultSchema.optional().meta({
      description:
        "Connection utilization of the server and dbwatch's own client pool. Absent when spec.checks.pool.enabled is false or the database was unreachable.",
    }),
    pgbouncer: pgbouncerResultSchema.optional().meta({
      description: "PgBouncer's pools as last read. Absent unless spec.checks.pgbouncer is set.",
    }),
    performance: performanceResultSchema.optional().meta({
      description:
        'Result of the last performance test, kept between its runs. Absent unless spec.checks.performance is set.',
    }),
    diagnostics: diagnosticsResultSchema.optional().meta({
      description:
        'Step-by-step connectivity diagnosis (DNS, TCP, TLS, login…); present only while the database is unreachable.',
    }),
    alerts: z
      .array(
        z
          .string()
          .meta({ description: 'One alert, e.g. "degraded: response time 2300 ms is over the 2000 ms threshold".' }),
      )
      .optional()
      .meta({
        description: 'Every reason the last check was not healthy, prefixed by its status, and poor performance.',
      }),
    availability: availabilityStatusSchema.optional(),
    transitionEvents: transitionEventsSchema.optional(),
  })
  .meta({ description: 'What the operator last observed; written by dbwatch, never by hand.' });
export type DatabaseMonitorStatus = z.infer<typeof databaseMonitorStatusSchema>;

export const objectMetaSchema = z.looseObject({
  name: dnsName,
  namespace: z.string().optional(),
  generation: z.number().optional(),
  uid: z.string().optional(),
  resourceVersion: z.string().optional(),
  annotations: z.record(z.string(), z.string()).optional(),
});

export const databaseMonitorSchema = z.strictObject({
  apiVersion: z.literal('dbwatch.dev/v1alpha1'),
  kind: z.literal('DatabaseMonitor'),
  metadata: objectMetaSchema,
  spec: databaseMonitorSpecSchema,
  status: databaseMonitorStatusSchema.optional(),
});
export type DatabaseMonitor = z.infer<typeof databaseMonitorSchema>;
