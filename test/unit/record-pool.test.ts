import { describe, expect, test } from '@jest/globals';
import { RecordPool } from '../../src/controller/record-pool.js';

const bucket = (start: string, checks: number, available: number) => ({ start, checks, available });
const availability = (checks: number) => ({
  hours: [bucket('2026-12-05T20:00:00.000Z', 60, 60), bucket('2026-12-05T21:00:00.000Z', checks, checks)],
  days: [bucket('2026-12-05T00:00:00.000Z', 1260, 1260)],
  last24h: 1,
});

/** Two availability blocks (of `checksA` and `checksB` checks this hour) through one pool. */
function sharedPair(checksA: number, checksB: number) {
  const pool = new RecordPool();
  const a = availability(checksA);
  const b = availability(checksB);
  pool.shareTree(a);
  pool.shareTree(b);
  return { pool, a, b };
}

describe('the pool of shared records', () => {
  test('equal buckets of two trees become one frozen object; the trees stay equal to what was parsed', () => {
    const { pool, a, b } = sharedPair(12, 12);
    expect(a).toEqual(availability(12));
    expect(b.hours[0]).toBe(a.hours[0]);
    expect(b.hours[1]).toBe(a.hours[1]);
    expect(b.days[0]).toBe(a.days[0]);
    expect(Object.isFrozen(a.hours[0])).toBe(true);
    expect(pool.size).toBe(3);
  });

  test('a bucket that differs in any value is its own', () => {
    const { a, b } = sharedPair(12, 13);
    expect(b.hours[0]).toBe(a.hours[0]);
    expect(b.hours[1]).not.toBe(a.hours[1]);
    expect(b.hours[1]).toEqual(bucket('2026-12-05T21:00:00.000Z', 13, 13));
  });

  test('a shared bucket cannot be changed in place (ESM code is strict: it throws)', () => {
    const pool = new RecordPool();
    const a = availability(12);
    pool.shareTree(a);
    expect(() => {
      (a.hours[0] as { checks: number }).checks++;
    }).toThrow(TypeError);
  });

  test('leaves records with nested values, and what is not in an array, alone', () => {
    const pool = new RecordPool();
    const tree = { one: { a: 1 }, list: [{ a: 1, nested: { b: 2 } }, 'text', 3, null] };
    pool.shareTree(tree);
    expect(pool.size).toBe(0);
    expect(Object.isFrozen(tree.one)).toBe(false);
    expect(tree).toEqual({ one: { a: 1 }, list: [{ a: 1, nested: { b: 2 } }, 'text', 3, null] });
  });

  test('starts over when full instead of growing', () => {
    const pool = new RecordPool(2);
    pool.shareTree([{ a: 1 }, { a: 2 }]);
    expect(pool.size).toBe(2);
    pool.shareTree([{ a: 3 }]);
    expect(pool.size).toBe(1);
  });
});
