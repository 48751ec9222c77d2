import type { CliOutput, DatabaseEntry, PrerequisiteEntry } from '../api/index.js';
import { ageOf } from './summary-cluster-age.js';
import { renderTable } from './table.js';

/** A status the table can show in one word: the health, or why there is none (stale, stalled…). */
const shown = (s: DatabaseEntry | PrerequisiteEntry) => (s.checkState === 'current' ? s.status : s.checkState);

const plural = (n: number, word: string) => `${n} ${word}${n === 1 ? '' : 's'}`;

/** Where the objects came from: files, one namespace, or all. */
function scopeOf(output: CliOutput): string {
  if (output.source === 'files') return 'files';
  return output.namespace === undefined ? 'all namespaces' : `namespace ${output.namespace}`;
}

/** "Overall: …" with every count the verdict rests on: databases and prerequisites both. */
export function headline(output: CliOutput): string {
  const { summary, databases, prerequisites } = output;
  const b = summary.statusBreakdown;
  const causes = Object.entries(summary.unknownBreakdown).map(([cause, n]) => `${n} ${cause}`);
  const unknown = b.unknown > 0 ? `, ${b.unknown} unknown (${causes.join(', ')})` : '';
  const parts = [
    `${plural(databases.length, 'database')}: ${b.healthy} healthy, ${b.degraded} degraded, ${b.unhealthy} unhealthy${unknown}`,
  ];
  if (prerequisites.length > 0) {
    const p = summary.prerequisiteBreakdown;
    parts.push(
      `${plural(prerequisites.length, 'prerequisite')}: ${p.passed} passed, ${p.warning} warning, ${p.failed} failed` +
        (p.unknown > 0 ? `, ${p.unknown} unknown` : ''),
    );
  }
  return `Overall: ${summary.overallStatus}  ${scopeOf(output)}: ${parts.join('; ')}`;
}

const list = (title: string, lines: string[]) =>
  lines.length > 0 ? ['', `${title}:`, ...lines.map((l) => `  - ${l}`)] : [];

const ms = (n?: number) => (n === undefined ? '-' : `${n}ms`);

/**
 * The summary as a table, for files and the cluster alike: headline, databases (problems first), prerequisites,
 * alerts, recommendations. NAMESPACE unless one namespace was read; AGE (how long Ready has had its current value)
 * and REPORTED (age of the check the status reports) only for the cluster, where there is a history; SHARD (the
 * replica that owns it) when the operator runs sharded.
 */
export function renderSummary(output: CliOutput, now: Date): string {
  const withNamespace = !(output.source === 'cluster' && output.namespace !== undefined);
  const withHistory = output.source === 'cluster';
  // A sharded operator: which replica owns each object (status.shard).
  const withShard = [...output.databases, ...output.prerequisites].some((e) => e.shard !== undefined);
  const table = (first: string, entries: (DatabaseEntry | PrerequisiteEntry)[], response: boolean) =>
    renderTable(
      [
        ...(withNamespace ? ['NAMESPACE'] : []),
        first,
        'STATUS',
        'REASON',
        ...(response ? ['RESPONSE'] : []),
        ...(withHistory ? ['AGE', 'REPORTED'] : []),
        ...(withShard ? ['SHARD'] : []),
        'MESSAGE',
      ],
      entries.map((s) => [
        ...(withNamespace ? [s.namespace] : []),
        s.name,
        shown(s),
        s.reason,
        ...(response ? [ms((s as DatabaseEntry).responseTimeMs)] : []),
        ...(withHistory ? [ageOf(s.since, now), ageOf(s.lastCheckTime, now)] : []),
        ...(withShard ? [s.shard ?? '-'] : []),
        s.message,
      ]),
    );
  const sections = [headline(output)];
  if (output.databases.length > 0) sections.push('', table('DATABASE', output.databases, true));
  if (output.prerequisites.length > 0) sections.push('', table('PREREQUISITE', output.prerequisites, false));
  return [
    ...sections,
    ...list('Alerts', output.summary.alerts),
    ...list('Recommendations', output.summary.recommendations),
  ].join('\n');
}
