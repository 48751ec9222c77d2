import { describe, expect, test } from '@jest/globals';
import { nextAvailability } from '../../src/controller/monitor/availability.js';

const at = (iso: string) => new Date(iso);

describe('availability buckets', () => {
  test('the first check opens an hour and a day bucket', () => {
    const a = nextAvailability(undefined, at('2026-11-27T08:20:00Z'), { available: true });
    expect(a).toEqual({
      last24h: 1,
      last7d: 1,
      hours: [{ start: '2026-11-27T08:00:00.000Z', checks: 1, available: 1 }],
      days: [{ start: '2026-11-27T00:00:00.000Z', checks: 1, available: 1 }],
    });
  });

  test('checks in the same hour add up; an unavailable one lowers the ratio', () => {
    let a = nextAvailability(undefined, at('2026-11-27T08:01:00Z'), { available: true });
    a = nextAvailability(a, at('2026-11-27T08:02:00Z'), { available: true });
    a = nextAvailability(a, at('2026-11-27T08:03:00Z'), { available: true });
    a = nextAvailability(a, at('2026-11-27T09:00:00Z'), { available: false });
    expect(a?.hours.map((h) => [h.checks, h.available])).toEqual([
      [3, 3],
      [1, 0],
    ]);
    expect(a?.last24h).toBe(0.75);
    expect(a?.last7d).toBe(0.75);
  });

  test('hours older than 24 h and days older than 7 d leave their windows', () => {
    let a = nextAvailability(undefined, at('2026-11-20T10:00:00Z'), { available: false });
    a = nextAvailability(a, at('2026-11-26T10:00:00Z'), { available: false });
    a = nextAvailability(a, at('2026-11-27T09:30:00Z'), { available: true });
    // 24 h: only 2026-11-26T10 (inside, 23.5 h ago) and now; 7 d: 2026-11-21 onwards.
    expect(a?.hours.map((h) => h.start)).toEqual(['2026-11-26T10:00:00.000Z', '2026-11-27T09:00:00.000Z']);
    expect(a?.days.map((d) => d.start)).toEqual(['2026-11-26T00:00:00.000Z', '2026-11-27T00:00:00.000Z']);
    expect(a?.last24h).toBe(0.5);
  });

  test('without a new check the windows still move: a day-old record shows no 24 h ratio', () => {
    const old = nextAvailability(undefined, at('2026-11-25T08:00:00Z'), { available: true });
    const later = nextAvailability(old, at('2026-11-27T08:00:00Z'), {});
    expect(later?.last24h).toBeUndefined();
    expect(later?.last7d).toBe(1);
  });

  test('the error budget: 1 untouched, 0 spent, negative overspent', () => {
    const checks = (n: number, bad: number) => {
      let a: ReturnType<typeof nextAvailability>;
      for (let i = 0; i < n; i++)
        a = nextAvailability(a, at(`2026-11-27T08:00:${String(i % 60).padStart(2, '0')}Z`), {
          available: i >= bad,
          target: '99',
        });
      return a!;
    };
    expect(checks(100, 0)).toMatchObject({ last7d: 1, target: '99', errorBudgetRemaining: 1 });
    expect(checks(100, 1)).toMatchObject({ last7d: 0.99, errorBudgetRemaining: 0 });
    expect(checks(100, 2).errorBudgetRemaining).toBe(-1);
  });
});
