import type { DatabaseMonitorSpec, DatabaseMonitorStatus, HealthResult } from '../../src/api/index.js';
import type { MonitorReport } from '../../src/checks/monitor.js';
import { type MonitorObservation, nextMonitorStatus } from '../../src/controller/monitor/status.js';

/**
 * A check's report as the checks would return it, for feeding the pure status functions: unhealthy means the
 * connection was refused. `extra` overrides health fields (a migration status, a reachable-but-failing check).
 */
export const healthReport = (
  status: HealthResult['status'],
  extra: Partial<HealthResult> = {},
  timestamp = '2026-01-01T00:00:00.000Z',
): MonitorReport => ({
  health: {
    status,
    connection: status !== 'unhealthy',
    queryTest: status !== 'unhealthy',
    responseTimeMs: 3,
    reasons: status === 'healthy' ? [] : [`it is ${status}`],
    timestamp,
    ...(status === 'unhealthy' ? { error: 'connect ECONNREFUSED', errorReason: 'ConnectionRefused' } : {}),
    ...extra,
  },
  alerts: [],
  durations: {},
});

/** A pass that ran a check, as the reconciler hands it to nextMonitorStatus (unwrittenChecks: since the last write). */
export const checkedStatus = (input: {
  previous: DatabaseMonitorStatus | undefined;
  report: MonitorReport;
  spec: DatabaseMonitorSpec;
  generation: number;
  now: Date;
  unwrittenChecks?: number;
}) =>
  nextMonitorStatus({
    observation: {
      kind: 'Checked',
      spec: input.spec,
      report: input.report,
      at: input.now,
      unwrittenChecks: input.unwrittenChecks ?? 0,
    },
    previous: input.previous,
    generation: input.generation,
    now: input.now,
  });

/** A pass that could not resolve the connection (a Secret or key missing, a bad value). */
export const stalledStatus = (
  previous: DatabaseMonitorStatus | undefined,
  reason: Extract<MonitorObservation, { kind: 'Unresolved' }>['reason'],
  message: string,
  generation: number,
  now: Date,
) => nextMonitorStatus({ observation: { kind: 'Unresolved', reason, message }, previous, generation, now });

/** A pass over a suspended monitor. */
export const suspendedStatus = (previous: DatabaseMonitorStatus | undefined, generation: number, now: Date) =>
  nextMonitorStatus({ observation: { kind: 'Suspended' }, previous, generation, now }).status;
