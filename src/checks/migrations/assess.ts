import type { MigrationStatus } from '../../api/index.js';
import type { AppliedMigrations } from './tools.js';
import { compareVersions } from './version-order.js';

export interface Expectation {
  expectedVersion?: string;
  expectedMigrations?: string[];
}

/**
 * Pending is only knowable against an expectation. For ordered tools a migration at or below the
 * current version counts as applied; otherwise it must appear by name.
 */
export function pendingMigrations(found: AppliedMigrations, expected: Expectation): string[] {
  const applied = new Set(found.applied);
  const reached = (v: string) =>
    applied.has(v) ||
    (found.ordered &&
      found.currentVersion !== undefined &&
      found.failed.length === 0 &&
      compareVersions(found.currentVersion, v) >= 0);
  const wanted = expected.expectedMigrations ?? (expected.expectedVersion ? [expected.expectedVersion] : []);
  return wanted.filter((v) => !reached(v));
}

export function assessMigrations(
  tool: string,
  table: string,
  found: AppliedMigrations,
  expected: Expectation,
): MigrationStatus {
  return {
    tool,
    table,
    ...(found.currentVersion !== undefined ? { currentVersion: found.currentVersion } : {}),
    appliedCount: found.applied.length,
    pendingMigrations: pendingMigrations(found, expected),
    failedMigrations: found.failed,
  };
}
