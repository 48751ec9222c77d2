import { describe, expect, test } from '@jest/globals';
import { StringPool } from '../../src/controller/string-pool.js';

describe('the pool of cached strings', () => {
  const monitor = (message: string) => ({
    metadata: { name: 'orders', namespace: 'shop', labels: { team: 'shop' } },
    status: { conditions: [{ type: 'Ready', reason: 'Healthy', message }], reasons: ['slow', 'slow'] },
  });

  test('keeps one entry per distinct string of a tree and leaves the tree equal', () => {
    const pool = new StringPool();
    const first = monitor('Database is healthy');
    pool.internTree(first);
    pool.internTree(monitor('Database is healthy'));
    expect(first).toEqual(monitor('Database is healthy'));
    // orders, shop, Ready, Healthy, the message, slow: "shop" twice and "slow" twice are one entry each.
    expect(pool.size).toBe(6);
  });

  test('starts over when full instead of growing with unique strings', () => {
    const pool = new StringPool(3);
    for (const value of ['a', 'b', 'c']) pool.intern(value);
    expect(pool.size).toBe(3);
    expect(pool.intern('d')).toBe('d');
    expect(pool.size).toBe(1);
  });

  test('leaves numbers, booleans and null alone', () => {
    const pool = new StringPool();
    const tree = { a: 1, b: [true, null, 2.5], c: { d: 'x' } };
    pool.internTree(tree);
    expect(tree).toEqual({ a: 1, b: [true, null, 2.5], c: { d: 'x' } });
    expect(pool.size).toBe(1);
  });
});
