import type { HealthStatus, HealthSummary } from '../api/index.js';
import type { MonitorReport } from './monitor.js';

const SEVERITY: HealthStatus[] = ['healthy', 'degraded', 'unhealthy'];

/** The multi-database summary: worst case wins; alerts and recommendations are gathered per database. */
export function summarizeHealth(reports: { name: string; report: MonitorReport }[]): HealthSummary {
  const breakdown = { healthy: 0, degraded: 0, unhealthy: 0 };
  let worst = 0;
  const alerts: string[] = [];
  const recommendations: string[] = [];
  for (const { name, report } of reports) {
    const status = report.health.status;
    breakdown[status]++;
    worst = Math.max(worst, SEVERITY.indexOf(status));
    alerts.push(...report.alerts.map((a) => `${name}: ${a}`));
    recommendations.push(...(report.diagnostics?.recommendations ?? []).map((r) => `${name}: ${r}`));
    if (report.pool?.poolHealth === 'high') recommendations.push(`${name}: ${report.pool.recommendation}`);
  }
  if (alerts.length === 0) recommendations.push('All databases are healthy');
  return {
    overallStatus: SEVERITY[worst]!,
    statusBreakdown: breakdown,
    databases: reports.map(({ name, report }) => ({
      name,
      status: report.health.status,
      ...(report.health.responseTimeMs !== undefined ? { responseTimeMs: report.health.responseTimeMs } : {}),
      ...(report.health.error ? { error: report.health.error } : {}),
    })),
    alerts,
    recommendations,
  };
}
