import type { Condition } from '../../api/index.js';

/**
 * Fields that change on every check without telling anyone anything new. The streak counters and the
 * availability counts are among them: the checks between two writes are on the schedule's grid and all had
 * the written result (anything else would have been written), so the next write adds them back
 * (monitor/schedule.ts unwrittenChecks). lastPerformanceTime is not: the next pass decides from it whether
 * the performance test is due.
 */
const TIMING_KEYS = new Set([
  'lastTransitionTime',
  'lastCheckTime',
  'nextHeartbeatTime',
  'lastSuccessTime',
  'timestamp',
  'responseTimeMs',
  // A fresh login's figures; a failed one changes health.connection and errorReason, which are written.
  'login',
  'durationMs',
  'consecutiveSuccesses',
  'consecutiveFailures',
  'server',
  'utilizationPercent',
  'checkedOut',
  'waiting',
  'overflowAnalysis',
  'timing',
  'avgQueryTimeMs',
  'savedPerQueryMs',
  'note',
  'apdex',
  // Counters of every check: written with the heartbeat and with any other change, SLOMet flips included.
  'availability',
  // The Events of the last transition: carried until the next write, which a pass without one need not make.
  'transitionEvents',
]);

/**
 * A status with timings and counters removed and its keys in one order, for comparing what matters: the
 * previous status comes from the API server (its own key order), the next one from nextMonitorStatus.
 */
export function significant(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(significant);
  if (value === null || typeof value !== 'object') return value;
  return Object.fromEntries(
    Object.entries(value)
      .filter(([k]) => !TIMING_KEYS.has(k))
      .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))
      .map(([k, v]) => [k, significant(v)]),
  );
}

export interface WriteDecision {
  write: boolean;
  why: 'changed' | 'heartbeat' | 'unchanged';
}

/**
 * Writes only when something other than timings changed, or when the last written lastCheckTime would
 * otherwise grow older than max(interval, 5 min): the heartbeat that shows the operator is alive.
 */
export function decideStatusWrite(
  lastWritten: { lastCheckTime?: string; conditions?: Condition[] } | undefined,
  next: object,
  intervalMs: number,
  now: Date,
  heartbeatFloorMs = 5 * 60_000,
): WriteDecision {
  if (!lastWritten || JSON.stringify(significant(lastWritten)) !== JSON.stringify(significant(next))) {
    return { write: true, why: 'changed' };
  }
  const last = lastWritten.lastCheckTime ? Date.parse(lastWritten.lastCheckTime) : 0;
  // Write now if waiting for the next check (an interval, a little more if it starts late) would let it grow older than the limit.
  const nextCheckAge = now.getTime() - last + intervalMs * 1.1;
  if (nextCheckAge > Math.max(intervalMs, heartbeatFloorMs)) return { write: true, why: 'heartbeat' };
  return { write: false, why: 'unchanged' };
}
