import { z } from 'zod';
import { engineSchema } from './common.js';
import {
  diagnosticsResultSchema,
  healthResultSchema,
  healthStatusSchema,
  performanceResultSchema,
  poolResultSchema,
  prerequisiteResultSchema,
  prerequisiteStatusSchema,
} from './results.js';

/*
 * What `dbwatch check`, `dbwatch summary -f` and `dbwatch summary --cluster` print with -o json|yaml: one
 * versioned envelope. A field is added without a new version; renaming or removing one, or changing its
 * meaning, makes cli.dbwatch.dev/v2. docs/cli-output.md is generated from these schemas.
 */

export const CLI_OUTPUT_API_VERSION = 'cli.dbwatch.dev/v1';

export const summaryStatusSchema = z
  .enum(['healthy', 'degraded', 'unhealthy', 'unknown'])
  .meta({ description: 'healthy, degraded, unhealthy, or unknown: no current measurement to vouch for.' });
export type SummaryStatus = z.infer<typeof summaryStatusSchema>;

export const checkStateSchema = z.enum(['current', 'stale', 'stalled', 'suspended', 'pending']).meta({
  description:
    'Whether `status` is a current measurement: current, or why not — stale (no check written within the staleness limit), stalled (Stalled=True), suspended, pending (not checked yet). Always current for files.',
});
export type CheckState = z.infer<typeof checkStateSchema>;

const entryFields = {
  namespace: z.string().meta({ description: 'Namespace of the object (metadata.namespace; "default" when absent).' }),
  name: z.string().meta({ description: 'metadata.name.' }),
  checkState: checkStateSchema,
  reason: z.string().meta({
    description:
      'CamelCase: what is wrong first (WrongPassword, MigrationsPending…), else the overall reason (Healthy, Passed).',
  }),
  message: z.string().meta({ description: 'One line: why, in words.' }),
  since: z.string().optional().meta({
    description: 'Cluster only: when Ready took its current value (RFC 3339 UTC), i.e. how long it has been so.',
  }),
  lastCheckTime: z
    .string()
    .optional()
    .meta({ description: 'Cluster only: status.lastCheckTime, the last check the operator wrote (RFC 3339 UTC).' }),
  shard: z.string().optional().meta({
    description: 'Cluster only, operator sharded: status.shard, the replica that owns the object and wrote its status.',
  }),
};

export const monitorResultSchema = z
  .strictObject({
    health: healthResultSchema.meta({ description: 'The health check (as status.health).' }),
    pool: poolResultSchema.optional().meta({ description: 'Connection utilization (as status.pool).' }),
    performance: performanceResultSchema.optional().meta({ description: 'Performance test (as status.performance).' }),
    diagnostics: diagnosticsResultSchema
      .optional()
      .meta({ description: 'Connectivity diagnosis, when the database was unreachable (as status.diagnostics).' }),
    alerts: z.array(z.string()).meta({ description: 'Every reason the check was not healthy, and poor performance.' }),
    durationsMs: z
      .record(z.string(), z.number())
      .meta({ description: 'Milliseconds each step took (health, migrations, pool, performance, diagnostics).' }),
  })
  .meta({ description: 'check only: the whole result of running the monitor.' });

export const databaseEntrySchema = z
  .strictObject({
    ...entryFields,
    engine: engineSchema.optional().meta({ description: 'spec.engine: postgres or mssql.' }),
    status: summaryStatusSchema,
    lastStatus: healthStatusSchema
      .optional()
      .meta({ description: 'The last measured health, when `status` is unknown because it is not current.' }),
    responseTimeMs: z.number().optional().meta({ description: 'Health response time in milliseconds.' }),
    result: monitorResultSchema.optional(),
  })
  .meta({ description: 'One DatabaseMonitor.' });
export type DatabaseEntry = z.infer<typeof databaseEntrySchema>;

export const prerequisiteEntrySchema = z
  .strictObject({
    ...entryFields,
    status: z
      .enum(['passed', 'warning', 'failed', 'unknown'])
      .meta({ description: 'passed, warning, failed, or unknown (no current evaluation).' }),
    lastStatus: prerequisiteStatusSchema
      .optional()
      .meta({ description: 'The last evaluation, when `status` is unknown because it is not current.' }),
    result: prerequisiteResultSchema
      .optional()
      .meta({ description: 'check only: the per-database evaluation (as a DatabasePrerequisite status).' }),
  })
  .meta({ description: 'One DatabasePrerequisite.' });
export type PrerequisiteEntry = z.infer<typeof prerequisiteEntrySchema>;

const count = (what: string) => z.number().int().meta({ description: what });

export const summarySchema = z
  .strictObject({
    overallStatus: summaryStatusSchema.meta({
      description:
        'Worst case over databases and prerequisites (passed=healthy, warning=degraded, failed=unhealthy); stale or stalled objects count as degraded; unknown when nothing is current.',
    }),
    exitCode: z
      .number()
      .int()
      .meta({ description: 'The exit code of the command: 0 healthy, 1 degraded or unknown, 2 unhealthy.' }),
    statusBreakdown: z
      .strictObject({
        healthy: count('Databases healthy.'),
        degraded: count('Databases degraded.'),
        unhealthy: count('Databases unhealthy.'),
        unknown: count('Databases without a current measurement (see unknownBreakdown).'),
      })
      .meta({ description: 'DatabaseMonitors by status.' }),
    unknownBreakdown: z
      .partialRecord(z.enum(['stale', 'stalled', 'suspended', 'pending']), z.number().int())
      .meta({ description: 'Databases with status unknown, by checkState.' }),
    prerequisiteBreakdown: z
      .strictObject({
        passed: count('Prerequisites passed.'),
        warning: count('Prerequisites with a warning.'),
        failed: count('Prerequisites failed.'),
        unknown: count('Prerequisites without a current evaluation.'),
      })
      .meta({ description: 'DatabasePrerequisites by status.' }),
    alerts: z
      .array(z.string())
      .meta({ description: 'Everything needing attention, each prefixed with namespace/name.' }),
    recommendations: z
      .array(z.string())
      .meta({ description: 'What to do (diagnostics and pool advice, stale or stalled objects), prefixed likewise.' }),
  })
  .meta({ description: 'The multi-database summary, computed the same way for files and for the cluster.' });
export type Summary = z.infer<typeof summarySchema>;

export const cliOutputSchema = z
  .strictObject({
    apiVersion: z
      .literal(CLI_OUTPUT_API_VERSION)
      .meta({ description: `The output's version: ${CLI_OUTPUT_API_VERSION}.` }),
    kind: z.enum(['CheckReport', 'HealthSummary']).meta({
      description:
        'CheckReport (`dbwatch check`: entries carry their whole `result`) or HealthSummary (`dbwatch summary`).',
    }),
    source: z
      .enum(['files', 'cluster'])
      .meta({ description: 'files: checks run now from manifests (-f); cluster: the status the operator wrote.' }),
    namespace: z
      .string()
      .optional()
      .meta({ description: 'Cluster: the namespace read; absent for all namespaces (-A) and for files.' }),
    summary: summarySchema,
    databases: z
      .array(databaseEntrySchema)
      .meta({ description: 'DatabaseMonitors: unhealthy, degraded, unknown, then healthy; by namespace/name.' }),
    prerequisites: z
      .array(prerequisiteEntrySchema)
      .meta({ description: 'DatabasePrerequisites: failed, warning, unknown, then passed; by namespace/name.' }),
  })
  .meta({ description: 'The JSON/YAML output of check and summary.' });
export type CliOutput = z.infer<typeof cliOutputSchema>;
