import { ConditionType, type DatabaseMonitorStatus } from '../../api/index.js';
import { isTrue } from '../status/conditions.js';

/*
 * When a monitor is checked. Checks start on a fixed-rate grid of the monitor's interval, shifted by a
 * phase that is a stable hash of namespace/name: a 15 s monitor runs 4 checks a minute however long each
 * takes (no drift), a fleet's checks are spread over the interval, and every replica computes the same
 * slots, so after a restart or a handover the first checks come at each object's own slot, not all at once.
 * Pure: the clock and the object's last status are inputs.
 */

export interface Grid {
  intervalMs: number;
  phaseMs: number;
}

/** FNV-1a (32 bit): stable across processes and versions, unlike any runtime's string hash. */
function fnv1a(text: string): number {
  let hash = 0x811c9dc5;
  for (let i = 0; i < text.length; i++) {
    hash ^= text.charCodeAt(i);
    hash = Math.imul(hash, 0x01000193) >>> 0;
  }
  return hash;
}

export const gridOf = (namespace: string, name: string, intervalMs: number): Grid => ({
  intervalMs,
  phaseMs: fnv1a(`${namespace}/${name}`) % intervalMs,
});

/** The slot a time falls in: slot k runs from slotStart(k) to slotStart(k + 1). */
export const slotOf = (grid: Grid, atMs: number) => Math.floor((atMs - grid.phaseMs) / grid.intervalMs);
export const slotStart = (grid: Grid, slot: number) => slot * grid.intervalMs + grid.phaseMs;

/**
 * The status is rewritten at least this often even when nothing changes (status/status-writes.ts): a
 * status older than heartbeat + interval was not written by a working operator.
 */
export const heartbeatMs = (intervalMs: number) => Math.max(intervalMs, 5 * 60_000);

/** Why a check runs now. */
export type CheckTrigger =
  | 'NoResult'
  | 'NewGeneration'
  | 'RunRequested'
  | 'WasStalled'
  | 'ConnectionChanged'
  | 'StaleStatus'
  | 'Retry'
  | 'TakenOver'
  | 'Slot';

export type Plan =
  | { check: true; trigger: CheckTrigger; slot: number; dueAtMs: number }
  | { check: false; slot: number; nextAtMs: number };

export interface PlanInput {
  grid: Grid;
  nowMs: number;
  previous: DatabaseMonitorStatus | undefined;
  generation: number;
  /** metadata.annotations[dbwatch.dev/requestedAt]. */
  requestedAt: string | undefined;
  /** This process checked with a different connection (spec + Secret) than the one resolved now. */
  connectionChanged: boolean;
  /** The slot this process last checked (or decided was done); undefined after a restart or handover. */
  lastSlot: number | undefined;
  /** This process's last pass checked but could not write its result: check again now. */
  retry?: boolean;
  /** Sharded: taken over from a member that died (nobody has checked it since): check now. */
  takenOver?: boolean;
  /**
   * Sharded: handed over at a clean leave. The member that left stopped taking work some time before its Lease
   * went (its shutdown grace), so the current slot is checked at once unless the status shows it checked. The
   * status is written on change or heartbeat, not after every check, so it seldom does: most such objects get a
   * second check in that slot (one, never at the same time) rather than a gap of two intervals.
   */
  handedOver?: boolean;
  /**
   * Sharded: moved at a join, at the earliest moment the old owner can have dropped it (its view changed) by this
   * replica's clock. The old owner, live and on schedule, checked every slot that started at least JOIN_MARGIN_MS
   * before; a slot that started later is this replica's to check, at once. Only for a database whose status is
   * healthy; otherwise as handedOver. (The slots are the same on every node only as far as their clocks agree.)
   */
  joinedAtMs?: number;
}

/**
 * How late before a join an old owner's check may start and still count as done: its lag behind the slot
 * (0.1 s p99 at 10,000 monitors) plus the spread of the replicas' views of the join (milliseconds).
 */
export const JOIN_MARGIN_MS = 5_000;

/**
 * Check now, or when. Triggers run at once; otherwise a check runs once per slot. A process that does not
 * know whether the current slot was checked (it just started) waits for the next slot unless the status is
 * missing, for another generation, or older than the staleness limit: a restart must not check everything at
 * once. An object handed over by a live member is the exception (see PlanInput.handedOver and joinedAtMs).
 */
export function planCheck(input: PlanInput): Plan {
  const { grid, nowMs, previous } = input;
  const slot = slotOf(grid, nowMs);
  const now = (trigger: CheckTrigger): Plan => ({ check: true, trigger, slot, dueAtMs: nowMs });
  if (previous?.health === undefined) return now('NoResult');
  if (previous.observedGeneration !== input.generation) return now('NewGeneration');
  if (input.requestedAt !== undefined && input.requestedAt !== previous.lastHandledReconcileAt)
    return now('RunRequested');
  if (isTrue(previous.conditions, ConditionType.Stalled)) return now('WasStalled');
  if (input.connectionChanged) return now('ConnectionChanged');
  if (input.retry) return now('Retry');
  if (input.takenOver) return now('TakenOver');
  const lastCheck = previous.lastCheckTime ? Date.parse(previous.lastCheckTime) : Number.NaN;
  if (!(nowMs - lastCheck <= heartbeatMs(grid.intervalMs) + grid.intervalMs)) return now('StaleStatus');
  const done = input.lastSlot ?? unknownSlotDone(input, slot, lastCheck);
  if (done >= slot) return { check: false, slot: done, nextAtMs: slotStart(grid, done + 1) };
  return { check: true, trigger: 'Slot', slot, dueAtMs: slotStart(grid, slot) };
}

/** The last slot taken as checked when this process has not checked the object itself. */
function unknownSlotDone(input: PlanInput, slot: number, lastCheckMs: number): number {
  // Never a slot ahead of now: a status written by a replica whose clock runs fast must not skip checks here.
  const shown = Math.min(slot, slotOf(input.grid, lastCheckMs));
  // Only for a healthy database: its checks take milliseconds. A degraded or failing one's may run for the check's
  // timeout, past the join, and a result that comes back after the object moved is dropped (reconciler.ts).
  if (input.joinedAtMs !== undefined && input.previous?.health?.status === 'healthy')
    return slotStart(input.grid, slot) <= input.joinedAtMs - JOIN_MARGIN_MS ? slot : Math.max(shown, slot - 1);
  return input.handedOver || input.joinedAtMs !== undefined ? shown : slot;
}

/** After a check that started in `slot` and ended at `endMs`: the next slot's start and the slots overrun. */
export function afterCheck(grid: Grid, slot: number, endMs: number): { nextAtMs: number; skipped: number } {
  const next = Math.max(slot + 1, slotOf(grid, endMs) + 1);
  return { nextAtMs: slotStart(grid, next), skipped: next - slot - 1 };
}

/**
 * Checks that ran since the status was last written, not counting this one: one per slot between the
 * written check and now (between writes nothing significant changed, so each had the written result),
 * no more than a heartbeat holds — beyond that nobody was checking.
 */
export function unwrittenChecks(grid: Grid, previous: DatabaseMonitorStatus | undefined, slot: number): number {
  if (!previous?.health || !previous.lastCheckTime) return 0;
  const between = slot - slotOf(grid, Date.parse(previous.lastCheckTime)) - 1;
  const cap = Math.ceil(heartbeatMs(grid.intervalMs) / grid.intervalMs);
  return Math.max(0, Math.min(between, cap));
}

/** A fresh login runs on every k-th slot, k = freshLoginInterval / interval (at least every check). */
export function freshLoginDue(grid: Grid, slot: number, freshLoginIntervalMs: number): boolean {
  const every = Math.max(1, Math.round(freshLoginIntervalMs / grid.intervalMs));
  // Offset by the object's phase: a fleet with one interval spreads its fresh logins over all `every` slots.
  const offset = Math.floor((grid.phaseMs / grid.intervalMs) * every);
  return (((slot + offset) % every) + every) % every === 0;
}
