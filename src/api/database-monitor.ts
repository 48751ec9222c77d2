import { z } from 'zod';
import { availabilityStatusSchema, sloSchema } from './availability.js';
import { conditionsList, connectionSchema, dnsName, duration, engineSchema } from './common.js';
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
    tool: migrationToolSchema,
    schema: z
      .string()
      .max(128)
      .optional()
      .meta({ description: 'Schema holding the table; the default search path when empty.' }),
    table: z.string().max(128).optional().meta({ description: "Overrides the tool's default table name." }),
    versionColumn: z.string().max(128).optional().meta({ description: 'Required for tool: custom.' }),
    expectedVersion: z
      .string()
      .max(128)
      .optional()
      .meta({ description: 'Version the database must have reached; older means pending.' }),
    expectedMigrations: z
      .array(z.string().max(256))
      .max(10_000)
      .optional()
      .meta({ description: 'Migrations that must all be applied; any missing are pending.' }),
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
  name: z.string().min(1).max(63),
  sql: z.string().min(1).max(10_000),
});

export const performanceCheckSchema = z.strictObject({
  queries: z
    .array(testQuerySchema)
    .min(1)
    .max(20)
    .default([{ name: 'select-1', sql: 'SELECT 1' }])
    .meta({ description: 'Run read-only inside a transaction that is always rolled back.' }),
  iterations: z.number().int().min(1).max(100).default(5),
  targetMs: z
    .number()
    .min(1)
    .max(600_000)
    .default(100)
    .meta({ description: 'Apdex target T: satisfied <= T, tolerating <= 4T.' }),
  interval: duration('1h'),
});
export type PerformanceCheck = z.infer<typeof performanceCheckSchema>;

export const thresholdsSchema = z.strictObject({
  responseTimeMs: z.number().min(1).max(600_000).default(2000),
  poolUtilizationPercent: z.number().min(1).max(100).default(80),
  failureThreshold: z.number().int().min(1).max(100).default(1),
  successThreshold: z.number().int().min(1).max(100).default(1),
});
export type Thresholds = z.infer<typeof thresholdsSchema>;

export const databaseMonitorSpecSchema = z.strictObject({
  engine: engineSchema,
  connection: connectionSchema,
  interval: duration('5m'),
  timeoutSeconds: z.number().int().min(1).max(600).default(30),
  suspend: z.boolean().default(false),
  checks: z
    .strictObject({
      pool: z.strictObject({ enabled: z.boolean().default(true) }).default({ enabled: true }),
      performance: performanceCheckSchema.optional(),
      migrations: migrationsCheckSchema.optional(),
    })
    .default({ pool: { enabled: true } }),
  thresholds: thresholdsSchema.default({
    responseTimeMs: 2000,
    poolUtilizationPercent: 80,
    failureThreshold: 1,
    successThreshold: 1,
  }),
  slo: sloSchema.optional(),
});
export type DatabaseMonitorSpec = z.infer<typeof databaseMonitorSpecSchema>;

export const databaseMonitorStatusSchema = z.strictObject({
  observedGeneration: z.number().int().optional(),
  conditions: conditionsList.optional(),
  status: healthStatusSchema.optional().meta({ description: 'Debounced health (failure/success thresholds).' }),
  lastCheckTime: z.string().optional(),
  lastSuccessTime: z.string().optional(),
  lastPerformanceTime: z.string().optional(),
  consecutiveFailures: z.number().int().optional(),
  consecutiveSuccesses: z.number().int().optional(),
  lastHandledReconcileAt: z.string().optional(),
  health: healthResultSchema.optional(),
  pool: poolResultSchema.optional(),
  performance: performanceResultSchema.optional(),
  diagnostics: diagnosticsResultSchema.optional(),
  alerts: z.array(z.string()).optional(),
  availability: availabilityStatusSchema.optional(),
});
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
