import type { ClusterSummary, DatabaseSummary, PrerequisiteSummary } from './summary-cluster.js';
import { ageOf } from './summary-cluster-age.js';
import { renderTable } from './table.js';

/** A status the table can show in one word: the health, or why there is none (stale, stalled…). */
const shown = (s: DatabaseSummary | PrerequisiteSummary) => (s.checkState === 'current' ? s.status : s.checkState);

function headline(summary: ClusterSummary, scope: string): string {
  const b = summary.statusBreakdown;
  const unknownCauses = Object.entries(summary.unknownBreakdown).map(([cause, n]) => `${n} ${cause}`);
  const unknown = b.unknown > 0 ? `, ${b.unknown} unknown (${unknownCauses.join(', ')})` : '';
  const total = summary.databases.length;
  return (
    `Overall: ${summary.overallStatus}  ${scope}: ${total} database${total === 1 ? '' : 's'}: ` +
    `${b.healthy} healthy, ${b.degraded} degraded, ${b.unhealthy} unhealthy${unknown}`
  );
}

function rows<T extends DatabaseSummary | PrerequisiteSummary>(items: T[], now: Date, withNamespace: boolean) {
  return items.map((s) => [
    ...(withNamespace ? [s.namespace] : []),
    s.name,
    shown(s),
    s.reason,
    ageOf(s.since, now),
    ageOf(s.lastCheckTime, now),
    s.message,
  ]);
}

const list = (title: string, lines: string[]) =>
  lines.length > 0 ? ['', `${title}:`, ...lines.map((l) => `  - ${l}`)] : [];

/**
 * The table form: headline, databases (problems first), prerequisites, alerts, recommendations.
 * AGE is how long Ready has had its current value; REPORTED how old the check the status reports is.
 */
export function renderClusterSummary(summary: ClusterSummary, scope: { namespace?: string }, now: Date): string {
  const all = scope.namespace === undefined;
  const header = (first: string) => [
    ...(all ? ['NAMESPACE'] : []),
    first,
    'STATUS',
    'REASON',
    'AGE',
    'REPORTED',
    'MESSAGE',
  ];
  const sections = [headline(summary, all ? 'all namespaces' : `namespace ${scope.namespace}`)];
  if (summary.databases.length > 0)
    sections.push('', renderTable(header('DATABASE'), rows(summary.databases, now, all)));
  if (summary.prerequisites.length > 0)
    sections.push('', renderTable(header('PREREQUISITE'), rows(summary.prerequisites, now, all)));
  return [...sections, ...list('Alerts', summary.alerts), ...list('Recommendations', summary.recommendations)].join(
    '\n',
  );
}
