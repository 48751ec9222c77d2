import { z } from 'zod';

/** The result shapes of the original design's operations, in camelCase. Checks produce them; status holds them. */

export const healthStatusSchema = z.enum(['healthy', 'degraded', 'unhealthy']);
export type HealthStatus = z.infer<typeof healthStatusSchema>;

export const migrationStatusSchema = z.strictObject({
  tool: z.string(),
  table: z.string(),
  currentVersion: z.string().optional(),
  appliedCount: z
    .number()
    .int()
    .optional()
    .meta({ description: 'Migrations applied (not rows); absent when the table alone cannot count them.' }),
  pendingMigrations: z.array(z.string()),
  failedMigrations: z.array(z.string()),
  unknownReason: z.string().optional().meta({
    description: 'Why the table alone cannot tell whether every expected migration is applied (docs/checks.md).',
  }),
  error: z.string().optional().meta({ description: 'Why the migration table could not be read.' }),
});
export type MigrationStatus = z.infer<typeof migrationStatusSchema>;

export const databaseInfoSchema = z.strictObject({
  version: z.string(),
  state: z.string().meta({ description: 'ONLINE, or why not (SQL Server state_desc).' }),
  readOnly: z.boolean(),
});

export const healthResultSchema = z.strictObject({
  status: healthStatusSchema,
  connection: z.boolean(),
  queryTest: z.boolean(),
  responseTimeMs: z.number().optional(),
  database: databaseInfoSchema.optional(),
  migrationStatus: migrationStatusSchema.optional(),
  reasons: z.array(z.string()).meta({ description: 'Why the status is not healthy, one line each.' }),
  timestamp: z.string(),
  error: z.string().optional(),
  errorReason: z
    .string()
    .optional()
    .meta({ description: 'CamelCase cause of the error, e.g. WrongPassword, DatabaseMissing.' }),
});
export type HealthResult = z.infer<typeof healthResultSchema>;

export const serverConnectionsSchema = z.strictObject({
  active: z.number().int(),
  idle: z.number().int(),
  idleInTransaction: z.number().int(),
  other: z.number().int(),
  total: z.number().int(),
  maxUsable: z.number().int().meta({ description: 'Connections available to non-superusers.' }),
  utilizationPercent: z.number(),
  visibility: z
    .enum(['full', 'partial'])
    .meta({ description: 'partial: the login cannot see other sessions; figures are a lower bound.' }),
});
export type ServerConnections = z.infer<typeof serverConnectionsSchema>;

export const poolHealthSchema = z.enum(['optimal', 'moderate', 'high']);

export const poolResultSchema = z.strictObject({
  poolSize: z.number().int().meta({ description: "dbwatch's own client pool: configured size." }),
  checkedOut: z.number().int(),
  waiting: z.number().int(),
  server: serverConnectionsSchema.optional(),
  utilizationPercent: z.number().optional(),
  poolHealth: poolHealthSchema.optional(),
  recommendation: z.string(),
  overflowAnalysis: z.string(),
  error: z.string().optional(),
});
export type PoolResult = z.infer<typeof poolResultSchema>;

export const timingSchema = z.strictObject({
  avgMs: z.number(),
  p50Ms: z.number(),
  p95Ms: z.number(),
  minMs: z.number(),
  maxMs: z.number(),
});
export type Timing = z.infer<typeof timingSchema>;

export const queryPerformanceSchema = z.strictObject({
  name: z.string(),
  iterations: z.number().int(),
  successRate: z.number(),
  timing: timingSchema.optional(),
  error: z.string().optional(),
});
export type QueryPerformance = z.infer<typeof queryPerformanceSchema>;

export const performanceRatingSchema = z.enum(['excellent', 'good', 'fair', 'poor']);
export type PerformanceRating = z.infer<typeof performanceRatingSchema>;

export const performanceResultSchema = z.strictObject({
  connectionMetrics: z.strictObject({
    attempts: z.number().int(),
    successfulConnections: z.number().int(),
    timing: timingSchema.optional(),
  }),
  queryPerformance: z.array(queryPerformanceSchema),
  poolEfficiency: z.strictObject({
    poolSize: z.number().int(),
    queriesRun: z.number().int(),
    savedPerQueryMs: z
      .number()
      .optional()
      .meta({ description: 'Average fresh-connection time that a pooled connection avoids on each query.' }),
    note: z.string(),
  }),
  overallAssessment: z.strictObject({
    performanceRating: performanceRatingSchema,
    apdex: z.number(),
    targetMs: z.number(),
    avgQueryTimeMs: z.number().optional(),
    recommendations: z.array(z.string()),
  }),
  percentileMethod: z.string(),
  timestamp: z.string(),
});
export type PerformanceResult = z.infer<typeof performanceResultSchema>;

export const diagnosticStageSchema = z.strictObject({
  name: z.enum(['configuration', 'dns', 'tcp', 'tls', 'authentication', 'database', 'query']),
  outcome: z.enum(['ok', 'failed', 'skipped']),
  durationMs: z.number().optional(),
  detail: z.string(),
});
export type DiagnosticStage = z.infer<typeof diagnosticStageSchema>;

export const diagnosticsResultSchema = z.strictObject({
  configuration: z.strictObject({
    valid: z.boolean(),
    issues: z.array(z.string()),
    host: z.string().optional(),
    port: z.number().int().optional(),
    database: z.string().optional(),
    tlsMode: z.string(),
  }),
  connectivity: z.strictObject({
    connectionSuccessful: z.boolean(),
    failedStage: z.string().optional(),
    stages: z.array(diagnosticStageSchema),
  }),
  recommendations: z.array(z.string()),
  timestamp: z.string(),
});
export type DiagnosticsResult = z.infer<typeof diagnosticsResultSchema>;

export const prerequisiteStatusSchema = z.enum(['passed', 'warning', 'failed']);
export type PrerequisiteStatus = z.infer<typeof prerequisiteStatusSchema>;

export const databaseValidationSchema = z.strictObject({
  name: z.string(),
  status: prerequisiteStatusSchema,
  issues: z.array(z.string()),
  health: healthStatusSchema.optional(),
  responseTimeMs: z.number().optional(),
});
export type DatabaseValidation = z.infer<typeof databaseValidationSchema>;

export const validationSummarySchema = z.strictObject({
  passed: z.number().int(),
  warning: z.number().int(),
  failed: z.number().int(),
  total: z.number().int(),
});

export const prerequisiteResultSchema = z.strictObject({
  overallStatus: prerequisiteStatusSchema,
  databases: z.array(databaseValidationSchema).meta({
    'x-kubernetes-list-type': 'map',
    'x-kubernetes-list-map-keys': ['name'],
  }),
  summary: validationSummarySchema,
});
export type PrerequisiteResult = z.infer<typeof prerequisiteResultSchema>;

export const healthSummarySchema = z.strictObject({
  overallStatus: healthStatusSchema,
  statusBreakdown: z.strictObject({
    healthy: z.number().int(),
    degraded: z.number().int(),
    unhealthy: z.number().int(),
  }),
  databases: z.array(
    z.strictObject({
      name: z.string(),
      status: healthStatusSchema,
      responseTimeMs: z.number().optional(),
      error: z.string().optional(),
    }),
  ),
  alerts: z.array(z.string()),
  recommendations: z.array(z.string()),
});
export type HealthSummary = z.infer<typeof healthSummarySchema>;
