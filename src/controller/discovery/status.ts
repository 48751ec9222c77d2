import {
  ConditionType,
  type DatabaseDiscoveryStatus,
  type DiscoveryProblem,
  DiscoveryReason as R,
} from '../../api/index.js';
import { type ConditionInput, recomputeConditions } from '../status/conditions.js';

export const MAX_PROBLEMS = 50;

export interface DiscoveryOutcome {
  discovered: number;
  /** Databases whose monitor exists as desired (after this pass's writes). */
  created: number;
  waiting: number;
  failed: number;
  problems: DiscoveryProblem[];
  /** Sources whose objects cannot be listed now (CRD missing, RBAC, API errors): their monitors are kept. */
  unavailable: string[];
  /** Problems in the spec or settings that no retry fixes; the other sources still run. */
  stalled?: { reason: string; message: string };
  /** false when nothing was discovered at all (invalid spec): the counts are then absent, not zero. */
  counted?: boolean;
}

const plural = (n: number, word: string) => `${n} ${word}${n === 1 ? '' : 's'}`;

function ready(o: DiscoveryOutcome): ConditionInput {
  const c = (status: ConditionInput['status'], reason: string, message: string): ConditionInput => ({
    type: ConditionType.Ready,
    status,
    reason,
    message,
  });
  const first = (reason: string) => o.problems.find((p) => p.reason === reason);
  if (o.stalled) return c('False', o.stalled.reason, o.stalled.message);
  if (o.unavailable.length > 0) return c('False', R.SourceUnavailable, o.unavailable.join('; '));
  if (o.failed > 0) {
    const p = o.problems.find((x) => x.reason !== R.SourceNotReady && x.reason !== R.SecretNotFound);
    return c(
      'False',
      R.MonitorsFailed,
      `${plural(o.failed, 'database')} without a monitor; first: ${p?.source}: ${p?.message}`,
    );
  }
  if (o.waiting > 0) {
    const p = first(R.SourceNotReady) ?? first(R.SecretNotFound);
    return c('False', R.Waiting, `${plural(o.waiting, 'database')} not ready yet; first: ${p?.message}`);
  }
  return c('True', R.AllMonitored, `${plural(o.created, 'database')} monitored`);
}

/** Pure: the whole next status from this pass's outcome; only lastTransitionTime is carried over. */
export function discoveryStatus(
  previous: DatabaseDiscoveryStatus | undefined,
  outcome: DiscoveryOutcome,
  generation: number,
  now: Date,
): DatabaseDiscoveryStatus {
  const conditions = recomputeConditions(
    previous?.conditions,
    [
      ready(outcome),
      { type: ConditionType.Reconciling, status: 'False', reason: R.Reconciled, message: '' },
      outcome.stalled
        ? {
            type: ConditionType.Stalled,
            status: 'True',
            reason: outcome.stalled.reason,
            message: outcome.stalled.message,
          }
        : { type: ConditionType.Stalled, status: 'False', reason: R.Reconciled, message: '' },
    ],
    generation,
    now,
  );
  const problems = [...outcome.problems]
    .sort((a, b) => (a.source < b.source ? -1 : a.source > b.source ? 1 : 0))
    .slice(0, MAX_PROBLEMS);
  if (outcome.counted === false) return { observedGeneration: generation, conditions };
  return {
    observedGeneration: generation,
    conditions,
    discovered: outcome.discovered,
    created: outcome.created,
    waiting: outcome.waiting,
    failed: outcome.failed,
    ...(problems.length > 0 ? { problems } : {}),
  };
}
