import type { EngineName, PrerequisiteResult } from '../api/index.js';
import type { MonitorReport } from '../checks/index.js';
import { renderTable } from './table.js';

export interface MonitorOutcome {
  name: string;
  namespace: string;
  engine: EngineName;
  report: MonitorReport;
}

export interface PrerequisiteOutcome {
  name: string;
  namespace: string;
  result: PrerequisiteResult;
}

const ms = (n?: number) => (n === undefined ? '-' : `${n}ms`);
const pct = (n?: number) => (n === undefined ? '-' : `${n}%`);

function monitorDetails({ name, report }: MonitorOutcome): string[] {
  const lines: string[] = [];
  const { health, diagnostics, performance } = report;
  if (health.reasons.length > 0) {
    lines.push(`${name}: ${health.status}`);
    lines.push(...health.reasons.map((r) => `  - ${r}`));
  }
  if (diagnostics) {
    const failed = diagnostics.connectivity.failedStage;
    lines.push(`  diagnostics${failed ? ` (failed at ${failed})` : ''}:`);
    for (const s of diagnostics.connectivity.stages) {
      if (s.outcome === 'skipped') continue;
      const mark = s.outcome === 'ok' ? 'ok  ' : 'FAIL';
      lines.push(
        `    ${mark} ${s.name.padEnd(14)} ${s.durationMs !== undefined ? `${s.durationMs}ms `.padStart(10) : ''.padStart(10)}${s.detail}`,
      );
    }
    lines.push(...diagnostics.recommendations.map((r) => `  → ${r}`));
  }
  if (performance) {
    const a = performance.overallAssessment;
    lines.push(
      `${name}: performance ${a.performanceRating} (Apdex ${a.apdex} at T=${a.targetMs}ms, avg query ${ms(a.avgQueryTimeMs)})`,
    );
    for (const q of performance.queryPerformance) {
      const t = q.timing;
      lines.push(
        `  ${q.name}: ${q.successRate}% ok${t ? `, p50 ${t.p50Ms}ms, p95 ${t.p95Ms}ms, max ${t.maxMs}ms` : ''}${q.error ? ` — ${q.error}` : ''}`,
      );
    }
  }
  if (report.pool?.poolHealth && report.pool.poolHealth !== 'optimal')
    lines.push(`  utilization: ${report.pool.recommendation}`);
  const bouncer = report.pgbouncer;
  if (bouncer) {
    lines.push(
      `${name}: pgbouncer ${bouncer.poolHealth ?? 'not measured'} (${bouncer.reason}) — ${bouncer.recommendation}`,
    );
    for (const p of bouncer.pools) {
      lines.push(
        `  ${p.database}/${p.user} (${p.poolMode}${p.paused ? ', paused' : ''}): clients ${p.clientsActive} active, ${p.clientsWaiting} waiting (longest ${p.maxWaitMs}ms); servers ${p.serversActive}/${p.poolSize ?? '?'} active, ${p.serversIdle} idle`,
      );
    }
  }
  return lines;
}

export function renderMonitors(outcomes: MonitorOutcome[]): string {
  if (outcomes.length === 0) return '';
  const table = renderTable(
    ['MONITOR', 'ENGINE', 'STATUS', 'RESPONSE', 'UTILIZATION %', 'MIGRATION'],
    outcomes.map(({ name, engine, report: r }) => [
      name,
      engine,
      r.health.status,
      ms(r.health.responseTimeMs),
      pct(r.pool?.utilizationPercent),
      r.health.migrationStatus?.currentVersion ?? (r.health.migrationStatus ? '(none)' : '-'),
    ]),
  );
  const details = outcomes.flatMap(monitorDetails);
  return [table, ...(details.length > 0 ? ['', ...details] : [])].join('\n');
}

export function renderPrerequisites(outcomes: PrerequisiteOutcome[]): string {
  if (outcomes.length === 0) return '';
  const table = renderTable(
    ['PREREQUISITE', 'STATUS', 'PASSED', 'FAILED', 'WARNING'],
    outcomes.map(({ name, result: r }) => [
      name,
      r.overallStatus,
      ...[r.summary.passed, r.summary.failed, r.summary.warning].map(String),
    ]),
  );
  const details = outcomes.flatMap(({ name, result }) =>
    result.databases.flatMap((d) => [`${name}/${d.name}: ${d.status}`, ...d.issues.map((i) => `  - ${i}`)]),
  );
  return [table, '', ...details].join('\n');
}
