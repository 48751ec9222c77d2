import { describe, expect, test } from '@jest/globals';
import {
  afterCheck,
  freshLoginDue,
  gridOf,
  JOIN_MARGIN_MS,
  planCheck,
  slotOf,
  slotStart,
} from '../../src/controller/monitor/schedule.js';

describe('the fixed-rate grid', () => {
  test("a fleet's checks spread over the interval, and every replica computes the same slots", () => {
    const grids = Array.from({ length: 2000 }, (_, i) => gridOf('shop', `db-${i}`, 60_000));
    const perTenSeconds = new Array(6).fill(0) as number[];
    for (const g of grids) perTenSeconds[Math.floor(g.phaseMs / 10_000)]!++;
    for (const n of perTenSeconds) expect(n).toBeGreaterThan(2000 / 6 / 1.3);
    expect(gridOf('shop', 'db-7', 60_000)).toEqual(grids[7]);
    const g = grids[0]!;
    expect(slotOf(g, slotStart(g, 42))).toBe(42);
    expect(slotOf(g, slotStart(g, 42) - 1)).toBe(41);
  });

  test('a check that overran its slots says how many it skipped', () => {
    const g = gridOf('shop', 'orders', 10_000);
    expect(afterCheck(g, 5, slotStart(g, 5) + 1000)).toEqual({ nextAtMs: slotStart(g, 6), skipped: 0 });
    expect(afterCheck(g, 5, slotStart(g, 8) + 1)).toEqual({ nextAtMs: slotStart(g, 9), skipped: 3 });
  });

  test("fresh logins come every freshLoginInterval per monitor, spread over a fleet's slots, not all in one", () => {
    const every = 20; // 5m over a 15 s interval
    const perSlot = new Array(every).fill(0) as number[];
    for (let i = 0; i < 2000; i++) {
      const g = gridOf('shop', `db-${i}`, 15_000);
      const due = Array.from({ length: every }, (_, s) => freshLoginDue(g, 1000 + s, 5 * 60_000));
      // Exactly one slot in every 20 for each monitor.
      expect(due.filter(Boolean)).toHaveLength(1);
      perSlot[due.indexOf(true)]!++;
    }
    // 2,000 logins over 20 slots: about 100 each, none near all of them.
    expect(Math.max(...perSlot)).toBeLessThan(200);
    expect(Math.min(...perSlot)).toBeGreaterThan(40);
  });
});

describe('planCheck from a status another process wrote', () => {
  const grid = gridOf('shop', 'orders', 60_000);
  const healthy = (lastCheckMs: number) =>
    ({
      observedGeneration: 1,
      health: { status: 'healthy' },
      conditions: [],
      lastCheckTime: new Date(lastCheckMs).toISOString(),
    }) as never;
  /** A pass of a process that has not checked the object itself (restarted, or moved to it). */
  const planMoved = (nowMs: number, lastCheckMs: number, moved: { handedOver?: boolean; joinedAtMs?: number }) =>
    planCheck({
      grid,
      nowMs,
      previous: healthy(lastCheckMs),
      generation: 1,
      requestedAt: undefined,
      connectionChanged: false,
      lastSlot: undefined,
      ...moved,
    });
  const plan = (nowMs: number, lastCheckMs: number, handedOver: boolean) =>
    planMoved(nowMs, lastCheckMs, { handedOver });

  test('a status from a clock three slots fast never skips slots: the next slot at the latest', () => {
    const now = slotStart(grid, 100) + 5_000;
    for (const handedOver of [false, true]) {
      const p = plan(now, slotStart(grid, 103) + 1_000, handedOver);
      expect(p.check ? now : p.nextAtMs).toBeLessThanOrEqual(slotStart(grid, 101));
    }
  });

  test('handed over: the current slot is checked at once when the status shows an earlier one, else not', () => {
    const now = slotStart(grid, 100) + 5_000;
    expect(plan(now, slotStart(grid, 99) + 1_000, true)).toMatchObject({ check: true, slot: 100 });
    expect(plan(now, slotStart(grid, 100) + 1_000, true)).toMatchObject({ check: false, slot: 100 });
    // A restarted process waits for the next slot either way.
    expect(plan(now, slotStart(grid, 99) + 1_000, false)).toMatchObject({ check: false, slot: 100 });
  });

  test('moved at a join: a slot begun JOIN_MARGIN_MS before the join was checked by the old owner, a later one is due', () => {
    const joined = (nowMs: number, joinedAtMs: number, lastCheckMs = slotStart(grid, 99) + 1_000) =>
      planMoved(nowMs, lastCheckMs, { joinedAtMs });
    const s100 = slotStart(grid, 100);
    expect(joined(s100 + 20_000, s100 + JOIN_MARGIN_MS)).toEqual({ check: false, slot: 100, nextAtMs: s100 + 60_000 });
    expect(joined(s100 + 20_000, s100 + JOIN_MARGIN_MS - 1)).toMatchObject({ check: true, trigger: 'Slot', slot: 100 });
    // Looked at only after the next slot began: nobody checked that one.
    expect(joined(s100 + 61_000, s100 + 30_000)).toMatchObject({ check: true, slot: 101, dueAtMs: s100 + 60_000 });
    // A database that is not healthy: its old owner's check may have run past the join and been dropped, so the
    // status decides, as at a clean leave.
    const failing = planCheck({
      grid,
      nowMs: s100 + 20_000,
      previous: { ...(healthy(slotStart(grid, 99) + 1_000) as object), health: { status: 'unhealthy' } } as never,
      generation: 1,
      requestedAt: undefined,
      connectionChanged: false,
      lastSlot: undefined,
      joinedAtMs: s100 + 10_000,
    });
    expect(failing).toMatchObject({ check: true, slot: 100 });
    // The status shows the slot checked: not again.
    expect(joined(s100 + 3_000, s100 + 2_000, s100 + 1_000)).toMatchObject({ check: false, slot: 100 });
  });
});
