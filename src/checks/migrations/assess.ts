import type { MigrationStatus } from '../../api/index.js';
import type { MigrationHistory, MigrationState } from './history.js';

export interface Expectation {
  expectedVersion?: string;
  expectedMigrations?: string[];
}

interface Judgement {
  pending: string[];
  unknownReason?: string;
}

const isUnknown = (s: MigrationState): s is { unknown: string } => typeof s === 'object';

/** A few names and a count: an expectation can list thousands, and the reason ends up in a condition message. */
const someOf = (names: string[], shown = 5) =>
  names.length <= shown ? names.join(', ') : `${names.slice(0, shown).join(', ')} and ${names.length - shown} more`;

/**
 * Pending is only knowable against an expectation, and only as far as the tool's own semantics allow: a
 * migration the table cannot decide is not called pending, it makes the answer unknown, with the reason.
 */
export function judgeExpectation(history: MigrationHistory, expected: Expectation): Judgement {
  const wanted = expected.expectedMigrations ?? (expected.expectedVersion ? [expected.expectedVersion] : []);
  const states = wanted.map((m) => ({ m, state: history.stateOf(m) }));
  const pending = states.filter((s) => s.state === 'pending').map((s) => s.m);
  const undecided = states.filter((s) => isUnknown(s.state));
  const first = undecided[0];
  if (first && isUnknown(first.state))
    return {
      pending,
      unknownReason: `cannot tell whether ${someOf(undecided.map((s) => s.m))} applied: ${first.state.unknown}`,
    };
  const version = expected.expectedVersion;
  if (version !== undefined && history.runsMissingOlder && states[0]?.state === 'applied')
    return {
      pending,
      unknownReason: `${version} is applied, but ${history.runsMissingOlder}: list them in expectedMigrations to know none is missing`,
    };
  return { pending };
}

export function assessMigrations(
  tool: string,
  table: string,
  history: MigrationHistory,
  expected: Expectation,
): MigrationStatus {
  const { pending, unknownReason } = judgeExpectation(history, expected);
  return {
    tool,
    table,
    ...(history.currentVersion !== undefined ? { currentVersion: history.currentVersion } : {}),
    ...(history.appliedCount !== undefined ? { appliedCount: history.appliedCount } : {}),
    pendingMigrations: pending,
    failedMigrations: history.failed,
    ...(unknownReason ? { unknownReason } : {}),
  };
}
