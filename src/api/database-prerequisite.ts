import { z } from 'zod';
import { conditionsList, connectionSchema, dnsName, duration, engineSchema } from './common.js';
import { migrationsCheckSchema, objectMetaSchema } from './database-monitor.js';
import { prerequisiteResultSchema } from './results.js';
import { withRules } from './validation-rule.js';

export const prerequisiteDatabaseSchema = withRules(
  z.strictObject({
    name: z.string().min(1).max(63).meta({ description: 'Label for this database in the results.' }),
    monitorRef: z.strictObject({ name: dnsName }).optional().meta({
      description: 'A DatabaseMonitor in the same namespace whose connection and migration settings are reused.',
    }),
    engine: engineSchema.optional(),
    connection: connectionSchema.optional(),
    checks: z
      .strictObject({ migrations: migrationsCheckSchema.optional() })
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

export const databasePrerequisiteSpecSchema = z.strictObject({
  databases: z
    .array(prerequisiteDatabaseSchema)
    .min(1)
    .max(50)
    .meta({ 'x-kubernetes-list-type': 'map', 'x-kubernetes-list-map-keys': ['name'] }),
  checkMigrations: z.boolean().default(true),
  performanceThresholdMs: z.number().min(1).max(600_000).default(1000),
  allowWarnings: z.boolean().default(false),
  interval: duration('1m'),
});
export type DatabasePrerequisiteSpec = z.infer<typeof databasePrerequisiteSpecSchema>;

export const databasePrerequisiteStatusSchema = prerequisiteResultSchema.partial().extend({
  observedGeneration: z.number().int().optional(),
  conditions: conditionsList.optional(),
  lastCheckTime: z.string().optional(),
  lastSuccessTime: z.string().optional(),
  consecutiveFailures: z.number().int().optional(),
  lastHandledReconcileAt: z.string().optional(),
});
export type DatabasePrerequisiteStatus = z.infer<typeof databasePrerequisiteStatusSchema>;

export const databasePrerequisiteSchema = z.strictObject({
  apiVersion: z.literal('dbwatch.dev/v1alpha1'),
  kind: z.literal('DatabasePrerequisite'),
  metadata: objectMetaSchema,
  spec: databasePrerequisiteSpecSchema,
  status: databasePrerequisiteStatusSchema.optional(),
});
export type DatabasePrerequisite = z.infer<typeof databasePrerequisiteSchema>;
