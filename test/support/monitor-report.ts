import type { HealthResult } from '../../src/api/index.js';
import type { MonitorReport } from '../../src/checks/monitor.js';

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
