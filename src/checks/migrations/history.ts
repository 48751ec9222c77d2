/**
 * What a tool's bookkeeping table says, in the tool's own terms (docs/checks.md, "Migrations": one row per tool).
 * Readers build one from the rows; assess.ts compares it with what the spec expects.
 */

/** One expected migration in the tool's eyes, or why the table alone cannot tell. */
export type MigrationState = 'applied' | 'pending' | 'failed' | { unknown: string };

export interface MigrationHistory {
  currentVersion?: string;
  /** Migrations applied (not rows); absent when the table alone cannot count them. */
  appliedCount?: number;
  failed: string[];
  stateOf(migration: string): MigrationState;
  /**
   * Set for tools that run every missing migration, older ones too (Rails, knex, EF Core, Prisma, DbUp,
   * Liquibase, Django): why an applied expectedVersion says nothing about the migrations before it.
   */
  runsMissingOlder?: string;
}

export type Row = Record<string, unknown>;

export const text = (v: unknown) => (v === null || v === undefined ? undefined : String(v));
export const defined = (v: string | undefined): v is string => v !== undefined;
export const truthy = (v: unknown) => v === true || v === 1 || v === '1' || v === 't' || v === 'true';
const byNumber = (column: string) => (a: Row, b: Row) => Number(a[column]) - Number(b[column]);

/** Rows in the order the tool wrote them. */
export const inOrder = (rows: Row[], orderColumn: string) => [...rows].sort(byNumber(orderColumn));

/** A tool that applies named migrations, each once, in any order: applied means "has a row". */
export function namedHistory(
  tool: string,
  applied: Iterable<string>,
  options: { currentVersion?: string; failed?: string[]; matches?: (expected: string, name: string) => boolean } = {},
): MigrationHistory {
  const names = [...new Set(applied)];
  const failed = options.failed ?? [];
  const matches = options.matches ?? ((e, n) => e === n);
  return {
    ...(options.currentVersion !== undefined ? { currentVersion: options.currentVersion } : {}),
    appliedCount: names.length,
    failed,
    stateOf: (m) => {
      if (names.some((n) => matches(m, n))) return 'applied';
      return failed.some((n) => matches(m, n)) ? 'failed' : 'pending';
    },
    runsMissingOlder: `${tool} runs every migration it has no row for, older ones included`,
  };
}
