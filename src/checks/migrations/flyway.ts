import type { MigrationHistory, Row } from './history.js';
import { defined, inOrder, text, truthy } from './history.js';
import { compareVersions, highestVersion } from './version-order.js';

/** Row types that mark the history rather than record a migration. */
const MARKERS = new Set(['BASELINE', 'SQL_BASELINE', 'JDBC_BASELINE', 'SCHEMA', 'DELETE']);

/**
 * Flyway's `info` from flyway_schema_history alone. A DELETE row (written by `repair` for a migration whose
 * file is gone) cancels the earlier rows of its version; a failed row is still the current version; versions at
 * or below the baseline count as applied (BELOW_BASELINE); a version under the current one that has no row is
 * IGNORED (or run later out of order), so it is pending, not reached.
 */
export function flywayHistory(rows: Row[]): MigrationHistory {
  const live: Row[] = [];
  for (const row of inOrder(rows, 'installed_rank')) {
    if (row.type !== 'DELETE') {
      live.push(row);
      continue;
    }
    const key = migrationKey(row);
    for (let i = live.length - 1; i >= 0; i--) if (migrationKey(live[i] as Row) === key) live.splice(i, 1);
  }
  const baseline = live.find((r) => String(r.type).endsWith('BASELINE'));
  const migrations = live.filter((r) => !MARKERS.has(String(r.type)));
  const succeeded = migrations.filter((r) => truthy(r.success));
  const failedRows = migrations.filter((r) => !truthy(r.success));
  const appliedVersions = succeeded.map((r) => text(r.version)).filter(defined);
  const baselineVersion = baseline ? text(baseline.version) : undefined;
  const has = (list: string[], v: string) => list.some((x) => compareVersions(x, v) === 0);
  const failed = failedRows.map((r) => text(r.version) ?? String(r.script));
  const currentVersion = highestVersion(
    [...appliedVersions, ...failedRows.map((r) => text(r.version)).filter(defined), baselineVersion].filter(defined),
  );
  return {
    ...(currentVersion !== undefined ? { currentVersion } : {}),
    // Repeatable migrations count once however often they re-ran.
    appliedCount: new Set(succeeded.map(migrationKey)).size,
    failed,
    stateOf: (v) => {
      if (has(appliedVersions, v)) return 'applied';
      if (has(failed, v)) return 'failed';
      if (baselineVersion !== undefined && compareVersions(v, baselineVersion) <= 0) return 'applied';
      return 'pending';
    },
  };
}

const migrationKey = (r: Row) => text(r.version) ?? `R:${String(r.description)}`;
