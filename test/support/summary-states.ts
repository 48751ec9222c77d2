import { type DatabaseMonitorSpec, databaseMonitorSpecSchema, type HealthResult } from '../../src/api/index.js';
import type { MonitorReport } from '../../src/checks/monitor.js';
import { nextMonitorStatus } from '../../src/controller/monitor/status.js';

/**
 * Monitor statuses exactly as the operator writes them (its own pure status functions), for a chosen state
 * and time: the summary tests set up healthy, degraded, unhealthy, stalled, suspended and stale monitors
 * without waiting for real databases to get there.
 */
export type MonitorState = 'healthy' | 'degraded' | 'unhealthy' | 'stalled' | 'suspended';

export const monitorSpec = (interval = '30s'): Record<string, unknown> => ({
  engine: 'postgres',
  connection: { secretRef: { name: 'db' } },
  interval,
  checks: { migrations: { tool: 'flyway' } },
});

const parsed = (interval: string): DatabaseMonitorSpec => databaseMonitorSpecSchema.parse(monitorSpec(interval));

function report(state: 'healthy' | 'degraded' | 'unhealthy', at: Date): MonitorReport {
  const timestamp = at.toISOString();
  const migrationStatus = {
    tool: 'flyway',
    table: 'flyway_schema_history',
    currentVersion: '1',
    appliedCount: 1,
    pendingMigrations: state === 'degraded' ? ['2'] : [],
    failedMigrations: [],
  };
  const health: HealthResult =
    state === 'unhealthy'
      ? {
          status: 'unhealthy',
          connection: false,
          queryTest: false,
          reasons: ['cannot connect: password authentication failed for user "app"'],
          timestamp,
          error: 'password authentication failed for user "app"',
          errorReason: 'WrongPassword',
        }
      : {
          status: state,
          connection: true,
          queryTest: true,
          responseTimeMs: 4,
          migrationStatus,
          reasons: state === 'degraded' ? ['1 pending migration(s): 2'] : [],
          timestamp,
        };
  return {
    health,
    ...(state === 'unhealthy'
      ? {
          diagnostics: {
            configuration: { valid: true, issues: [], tlsMode: 'disable' },
            connectivity: { connectionSuccessful: false, failedStage: 'authentication', stages: [] },
            recommendations: ['The server rejected the password for user app: update the password key in the Secret'],
            timestamp,
          },
        }
      : {}),
    alerts: health.reasons.map((r) => `${state}: ${r}`),
    durations: {},
  };
}

/** The status a monitor in `state` has when its last check ran at `at` (a Ready transition at `since`). */
export function monitorStatus(state: MonitorState, at: Date, interval = '30s', since = at): object {
  if (state === 'stalled') {
    return nextMonitorStatus({
      observation: { kind: 'Unresolved', reason: 'SecretNotFound', message: 'Secret db not found in this namespace' },
      previous: undefined,
      generation: 1,
      now: at,
    }).status;
  }
  if (state === 'suspended')
    return nextMonitorStatus({ observation: { kind: 'Suspended' }, previous: undefined, generation: 1, now: at })
      .status;
  const spec = parsed(interval);
  const checked = (previous: object | undefined, when: Date) =>
    nextMonitorStatus({
      observation: { kind: 'Checked', spec, report: report(state, when), at: when, unwrittenChecks: 0 },
      previous,
      generation: 1,
      now: when,
    }).status;
  return checked(checked(undefined, since), at);
}
