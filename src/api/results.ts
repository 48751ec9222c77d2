import { z } from 'zod';

/** The result shapes of the original design's operations, in camelCase. Checks produce them; status holds them. */

export const healthStatusSchema = z.enum(['healthy', 'degraded', 'unhealthy']);
export type HealthStatus = z.infer<typeof healthStatusSchema>;

export const migrationStatusSchema = z.strictObject({
  tool: z.string().meta({ description: 'spec.checks.migrations.tool, e.g. flyway.' }),
  table: z.string().meta({ description: 'Migration table read, e.g. flyway_schema_history.' }),
  currentVersion: z.string().optional().meta({
    description:
      'Current version as the tool\'s own status command prints it, e.g. "42". Absent when nothing is applied or the table could not be read.',
  }),
  appliedCount: z
    .number()
    .int()
    .optional()
    .meta({ description: 'Migrations applied (not rows); absent when the table alone cannot count them.' }),
  pendingMigrations: z.array(z.string()).meta({
    description:
      'Expected migrations the tool would still run (known only with expectedVersion or expectedMigrations).',
  }),
  failedMigrations: z.array(z.string()).meta({
    description: 'Migrations the table records as failed, e.g. Flyway success = false or golang-migrate dirty.',
  }),
  unknownReason: z.string().optional().meta({
    description: 'Why the table alone cannot tell whether every expected migration is applied (docs/checks.md).',
  }),
  error: z.string().optional().meta({ description: 'Why the migration table could not be read.' }),
});
export type MigrationStatus = z.infer<typeof migrationStatusSchema>;

export const databaseInfoSchema = z.strictObject({
  version: z.string().meta({ description: 'Server version, e.g. 16.4 (PostgreSQL server_version).' }),
  state: z.string().meta({ description: 'ONLINE, or why not (SQL Server state_desc).' }),
  readOnly: z.boolean().meta({ description: 'true on a read-only database or a PostgreSQL standby (in recovery).' }),
});

export const loginResultSchema = z.strictObject({
  succeeded: z
    .boolean()
    .meta({ description: 'Whether the fresh login (connect, authenticate, SELECT 1, close) worked.' }),
  durationMs: z
    .number()
    .optional()
    .meta({ description: 'Milliseconds the whole fresh login took, e.g. 12.4. Absent when it failed.' }),
  error: z.string().optional().meta({ description: 'Why it failed (passwords removed). Absent when it worked.' }),
  errorReason: z.string().optional().meta({
    description:
      'CamelCase cause, e.g. TooManyConnections, RoleConnectionLimit, RoleExpired, HbaRejected, WrongPassword, LoginDisabled.',
  }),
});
export type LoginResult = z.infer<typeof loginResultSchema>;

export const healthResultSchema = z.strictObject({
  status: healthStatusSchema.meta({
    description: 'Health of this one check, before failure/success-threshold damping: healthy, degraded or unhealthy.',
  }),
  connection: z
    .boolean()
    .meta({ description: 'Whether a connection could be opened (and was not lost during the check).' }),
  queryTest: z.boolean().meta({ description: 'Whether the test query SELECT 1 succeeded.' }),
  responseTimeMs: z.number().optional().meta({
    description: 'Milliseconds to acquire a pooled connection and run SELECT 1, e.g. 3.42. Absent when it failed.',
  }),
  login: loginResultSchema.optional().meta({
    description:
      "A fresh login run in this check, as an application's new connection would (docs/checks.md): at least every connection.freshLoginInterval, on every check while it fails and after the warm session fails. Absent when none ran in this check.",
  }),
  database: databaseInfoSchema
    .optional()
    .meta({ description: 'Server version and database state. Absent when they could not be read.' }),
  migrationStatus: migrationStatusSchema.optional().meta({
    description: 'Migration state. Absent unless spec.checks.migrations is set and the database was reached.',
  }),
  reasons: z.array(z.string()).meta({ description: 'Why the status is not healthy, one line each.' }),
  timestamp: z.string().meta({ description: 'When the check ran (RFC 3339 UTC).' }),
  error: z
    .string()
    .optional()
    .meta({ description: 'Why the connection or test query failed (passwords removed). Absent when both succeeded.' }),
  errorReason: z
    .string()
    .optional()
    .meta({ description: 'CamelCase cause of the error, e.g. WrongPassword, DatabaseMissing.' }),
});
export type HealthResult = z.infer<typeof healthResultSchema>;

export const serverConnectionsSchema = z.strictObject({
  active: z.number().int().meta({ description: 'Client sessions running a statement.' }),
  idle: z.number().int().meta({ description: 'Client sessions open and idle.' }),
  idleInTransaction: z
    .number()
    .int()
    .meta({ description: 'Client sessions idle inside an open transaction (they hold connections and locks).' }),
  other: z
    .number()
    .int()
    .meta({ description: 'Sessions in any other state, or whose state this login cannot see (visibility partial).' }),
  total: z.number().int().meta({ description: 'All client sessions counted against the maximum.' }),
  maxUsable: z.number().int().meta({ description: 'Connections available to non-superusers.' }),
  utilizationPercent: z.number().meta({ description: 'total / maxUsable in percent (0-100), e.g. 42.5.' }),
  visibility: z
    .enum(['full', 'partial'])
    .meta({ description: 'partial: the login cannot see other sessions; figures are a lower bound.' }),
});
export type ServerConnections = z.infer<typeof serverConnectionsSchema>;

export const poolHealthSchema = z.enum(['optimal', 'moderate', 'high']);

export const poolResultSchema = z.strictObject({
  poolSize: z.number().int().meta({ description: "dbwatch's own client pool: configured size." }),
  checkedOut: z.number().int().meta({ description: "dbwatch's own client pool: connections in use." }),
  waiting: z.number().int().meta({ description: "dbwatch's own client pool: requests waiting for a connection." }),
  server: serverConnectionsSchema
    .optional()
    .meta({ description: "The server's connections by state. Absent when they could not be read (see error)." }),
  utilizationPercent: z.number().optional().meta({
    description:
      "The server's connections in use against its usable maximum, in percent (0-100); the Utilization % column. Absent when not read.",
  }),
  poolHealth: poolHealthSchema.optional().meta({
    description:
      'optimal below 50 %, high at or over thresholds.poolUtilizationPercent, moderate between. Absent when not read.',
  }),
  recommendation: z.string().meta({ description: 'What to do about the utilization, in one line.' }),
  overflowAnalysis: z
    .string()
    .meta({ description: 'Server connections in use by state, and whether requests wait for the client pool.' }),
  error: z.string().optional().meta({ description: "Why the server's connection figures could not be read." }),
});
export type PoolResult = z.infer<typeof poolResultSchema>;

export const timingSchema = z.strictObject({
  avgMs: z.number().meta({ description: 'Mean of the successful samples, in milliseconds.' }),
  p50Ms: z.number().meta({ description: 'Median (nearest rank), in milliseconds.' }),
  p95Ms: z
    .number()
    .meta({ description: '95th percentile (nearest rank; with 5 samples, the maximum), in milliseconds.' }),
  minMs: z.number().meta({ description: 'Fastest sample, in milliseconds.' }),
  maxMs: z.number().meta({ description: 'Slowest sample, in milliseconds.' }),
});
export type Timing = z.infer<typeof timingSchema>;

export const queryPerformanceSchema = z.strictObject({
  name: z.string().meta({ description: 'spec.checks.performance.queries[].name.' }),
  iterations: z.number().int().meta({ description: 'Times the query was run.' }),
  successRate: z.number().meta({ description: 'Runs that succeeded, in percent (0-100).' }),
  timing: timingSchema.optional().meta({ description: 'Timings of the successful runs. Absent when none succeeded.' }),
  error: z.string().optional().meta({ description: 'The first failure. Absent when every run succeeded.' }),
});
export type QueryPerformance = z.infer<typeof queryPerformanceSchema>;

export const performanceRatingSchema = z.enum(['excellent', 'good', 'fair', 'poor']);
export type PerformanceRating = z.infer<typeof performanceRatingSchema>;

export const performanceResultSchema = z.strictObject({
  connectionMetrics: z
    .strictObject({
      attempts: z.number().int().meta({ description: 'Fresh connections attempted (iterations).' }),
      successfulConnections: z.number().int().meta({ description: 'Fresh connections that opened.' }),
      timing: timingSchema
        .optional()
        .meta({ description: 'Time to open a fresh connection. Absent when none opened.' }),
    })
    .meta({ description: 'Fresh (unpooled) connections opened and timed.' }),
  queryPerformance: z.array(queryPerformanceSchema).meta({ description: 'One entry per test query.' }),
  poolEfficiency: z
    .strictObject({
      poolSize: z.number().int().meta({ description: "Size of dbwatch's own client pool." }),
      queriesRun: z.number().int().meta({ description: 'Test query runs, successful or not.' }),
      savedPerQueryMs: z
        .number()
        .optional()
        .meta({ description: 'Average fresh-connection time that a pooled connection avoids on each query.' }),
      note: z.string().meta({ description: 'The saving in one sentence.' }),
    })
    .meta({ description: 'What pooling saves compared with a fresh connection per query.' }),
  overallAssessment: z
    .strictObject({
      performanceRating: performanceRatingSchema.meta({
        description: 'From Apdex: excellent >= 0.94, good >= 0.85, fair >= 0.70, else poor.',
      }),
      apdex: z.number().meta({
        description: 'Apdex score, a ratio 0-1: (satisfied + tolerating / 2) / all runs; failures count as frustrated.',
      }),
      targetMs: z
        .number()
        .meta({ description: 'Apdex target T used, in milliseconds (spec.checks.performance.targetMs).' }),
      avgQueryTimeMs: z
        .number()
        .optional()
        .meta({ description: 'Mean of all successful query runs, in milliseconds. Absent when none succeeded.' }),
      recommendations: z.array(z.string()).meta({ description: 'What to look at, one line each.' }),
    })
    .meta({ description: 'Rating of all test queries together.' }),
  percentileMethod: z.string().meta({ description: 'How percentiles were computed (nearest rank).' }),
  timestamp: z.string().meta({ description: 'When the performance test ran (RFC 3339 UTC).' }),
});
export type PerformanceResult = z.infer<typeof performanceResultSchema>;

export const diagnosticStageSchema = z.strictObject({
  name: z
    .enum(['configuration', 'dns', 'tcp', 'tls', 'authentication', 'database', 'query'])
    .meta({ description: 'The step, in order: configuration, dns, tcp, tls, authentication, database, query.' }),
  outcome: z
    .enum(['ok', 'failed', 'skipped'])
    .meta({ description: 'ok, failed, or skipped (not reached after an earlier failure).' }),
  durationMs: z.number().optional().meta({ description: 'Milliseconds the step took. Absent when not timed.' }),
  detail: z.string().meta({ description: 'What the step found, e.g. the address resolved or the error.' }),
});
export type DiagnosticStage = z.infer<typeof diagnosticStageSchema>;

export const diagnosticsResultSchema = z.strictObject({
  configuration: z
    .strictObject({
      valid: z.boolean().meta({ description: 'Whether the Secret resolved to a usable connection.' }),
      issues: z.array(z.string()).meta({ description: 'Why the configuration is not valid; empty when it is.' }),
      host: z
        .string()
        .optional()
        .meta({ description: 'Host from the Secret. Absent when the configuration is invalid.' }),
      port: z.number().int().optional().meta({ description: 'TCP port. Absent when the configuration is invalid.' }),
      database: z.string().optional().meta({ description: 'Database name. Absent when the configuration is invalid.' }),
      tlsMode: z
        .string()
        .meta({ description: 'TLS mode in effect (disable, require, verify-ca, verify-full) or unknown.' }),
    })
    .meta({ description: 'The connection settings as resolved from the Secret (no password).' }),
  connectivity: z
    .strictObject({
      connectionSuccessful: z.boolean().meta({ description: 'Whether every step succeeded.' }),
      failedStage: z
        .string()
        .optional()
        .meta({ description: 'The first step that failed, e.g. tcp. Absent when none failed.' }),
      failureReason: z.string().optional().meta({
        description:
          'CamelCase cause of that failure, e.g. HandshakeTimeout, ConnectionRefused, WrongProtocol (docs/checks.md). Absent when none failed.',
      }),
      stages: z.array(diagnosticStageSchema).meta({ description: 'Every step with its outcome and time.' }),
    })
    .meta({ description: 'The connection attempt step by step, stopping at the first failure.' }),
  recommendations: z
    .array(z.string())
    .meta({ description: 'What to fix for the failing step, e.g. check pg_hba.conf.' }),
  timestamp: z.string().meta({ description: 'When the diagnosis ran (RFC 3339 UTC).' }),
});
export type DiagnosticsResult = z.infer<typeof diagnosticsResultSchema>;

export const prerequisiteStatusSchema = z.enum(['passed', 'warning', 'failed']);
export type PrerequisiteStatus = z.infer<typeof prerequisiteStatusSchema>;

export const databaseValidationSchema = z.strictObject({
  name: z.string().meta({ description: 'spec.databases[].name.' }),
  status: prerequisiteStatusSchema.meta({
    description:
      'failed: unreachable, or failed/pending migrations. warning: slow, high connection utilization or unreadable migration table. Else passed.',
  }),
  issues: z.array(z.string()).meta({ description: 'Why it failed or warned, failures first; empty when passed.' }),
  health: healthStatusSchema
    .optional()
    .meta({ description: 'Health of the database when checked. Absent when it could not be checked at all.' }),
  responseTimeMs: z
    .number()
    .optional()
    .meta({ description: 'Health response time in milliseconds. Absent when not measured.' }),
  waiting: z.boolean().optional().meta({
    description:
      'true while its DatabaseMonitor has not checked its current spec yet (just created or changed): not a failure of the database.',
  }),
});
export type DatabaseValidation = z.infer<typeof databaseValidationSchema>;

export const validationSummarySchema = z.strictObject({
  passed: z.number().int().meta({ description: 'Databases that passed.' }),
  warning: z.number().int().meta({ description: 'Databases with a warning.' }),
  failed: z.number().int().meta({ description: 'Databases that failed.' }),
  total: z.number().int().meta({ description: 'All databases in spec.databases.' }),
});

export const prerequisiteResultSchema = z.strictObject({
  overallStatus: prerequisiteStatusSchema.meta({
    description: 'The worst status of any database: passed, warning or failed.',
  }),
  databases: z.array(databaseValidationSchema).meta({
    'x-kubernetes-list-type': 'map',
    'x-kubernetes-list-map-keys': ['name'],
    description: 'The result for each database, by name.',
  }),
  summary: validationSummarySchema.meta({ description: 'How many databases passed, warned and failed.' }),
});
export type PrerequisiteResult = z.infer<typeof prerequisiteResultSchema>;
