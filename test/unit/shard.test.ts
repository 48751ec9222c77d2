import { describe, expect, test } from '@jest/globals';
import { Membership } from '../../src/controller/shard/membership.js';
import { ownerOf } from '../../src/controller/shard/ownership.js';

const objects = Array.from({ length: 10_000 }, (_, i) => `ns-${i % 50}/db-${i}`);
const owners = (members: string[]) => new Map(objects.map((o) => [o, ownerOf(o, members)]));

describe('ownership by rendezvous hashing', () => {
  test('each of 3 members owns about a third; every replica computes the same owner', () => {
    const members = ['dbwatch-0', 'dbwatch-1', 'dbwatch-2'];
    const counts = new Map<string, number>();
    for (const owner of owners(members).values()) counts.set(owner!, (counts.get(owner!) ?? 0) + 1);
    for (const n of counts.values()) expect(Math.abs(n - 10_000 / 3)).toBeLessThan(300);
    expect(ownerOf('ns/x', [...members].reverse())).toBe(ownerOf('ns/x', members));
  });

  test('a member joining takes about 1/4 of the objects, all from the others; nothing else moves', () => {
    const before = owners(['a', 'b', 'c']);
    const after = owners(['a', 'b', 'c', 'd']);
    const moved = objects.filter((o) => before.get(o) !== after.get(o));
    expect(moved.every((o) => after.get(o) === 'd')).toBe(true);
    expect(Math.abs(moved.length - 2500)).toBeLessThan(250);
  });

  test('a member leaving gives away only its own objects', () => {
    const before = owners(['a', 'b', 'c']);
    const after = owners(['a', 'c']);
    expect(objects.filter((o) => before.get(o) !== after.get(o)).every((o) => before.get(o) === 'b')).toBe(true);
  });

  test('no members: no owner', () => {
    expect(ownerOf('ns/x', [])).toBeUndefined();
  });
});

describe('membership judged by local observation', () => {
  const lease = (holder: string, rv: string) => ({ holder, resourceVersion: rv, leaseDurationMs: 15_000 });

  test('a member counts once seen renewed, after the join grace, until its Lease has not changed for its duration', () => {
    const m = new Membership(4000);
    m.observe('a', lease('a', '1'), 0);
    expect(m.live(5000)).toEqual([]); // listed, never seen renewed: it may be a dead Pod's
    m.observe('a', lease('a', '2'), 2000); // renewed: joins now, counts after the grace
    expect(m.live(5000)).toEqual([]);
    expect(m.live(6000)).toEqual(['a']);
    m.observe('a', lease('a', '3'), 10_000);
    expect(m.live(24_000)).toEqual(['a']);
    expect(m.live(25_000)).toEqual([]);
    expect(m.expired(25_000)).toEqual(['a']);
  });

  test('the same resourceVersion seen again is not a renewal (a frozen member stays frozen)', () => {
    const m = new Membership(0);
    m.observe('a', lease('a', '1'), 0);
    m.observe('a', lease('a', '2'), 1000);
    expect(m.live(1000)).toEqual(['a']);
    m.observe('a', lease('a', '2'), 14_000);
    expect(m.live(16_000)).toEqual([]);
  });

  test('a member back after its Lease expired (frozen, then resumed) joins anew, with the join grace', () => {
    const m = new Membership(4000);
    m.observe('a', lease('a', '1'), 0);
    m.observe('a', lease('a', '2'), 1000);
    expect(m.live(5000)).toEqual(['a']);
    m.observe('a', lease('a', '3'), 30_000); // renewed after 29 s without a change: it had expired
    expect(m.live(31_000)).toEqual([]);
    expect(m.live(34_000)).toEqual(['a']);
  });

  test("a dead Pod's Lease never counts, and is abandoned once unchanged for the age given", () => {
    const m = new Membership(4000);
    m.observe('dead', lease('dead', '7'), 0);
    expect(m.live(10_000)).toEqual([]);
    expect(m.abandoned(3_000_000, 3_600_000)).toEqual([]);
    expect(m.abandoned(3_585_000, 3_600_000)).toEqual([{ name: 'dead', resourceVersion: '7' }]);
  });

  test('when the last member counted dead expired: by sight for one seen renewing, by its renewTime for one found dead', () => {
    const m = new Membership(0);
    m.observe('a', lease('a', '1'), 0);
    m.observe('a', lease('a', '2'), 1000);
    expect(m.lastExpiryMs(10_000)).toBeUndefined();
    expect(m.lastExpiryMs(40_000)).toBe(16_000); // seen changing last at 1 s
    // Found dead at 100 s by a replica that just started: it died when its holder last renewed (+ the duration).
    m.observe('dead', { ...lease('dead', '7'), renewTimeMs: 20_000 }, 100_000);
    expect(m.lastExpiryMs(100_000)).toBe(35_000);
    // No renewTime: taken as when first seen. One from a clock ahead: no failure until that time has passed.
    m.observe('odd', lease('odd', '1'), 120_000);
    expect(m.lastExpiryMs(120_000)).toBe(120_000);
    m.observe('ahead', { ...lease('ahead', '1'), renewTimeMs: 500_000 }, 130_000);
    expect(m.lastExpiryMs(130_000)).toBe(120_000);
    // Renewed again: it is live, no longer a failure.
    m.forget('odd');
    m.forget('ahead');
    m.observe('a', lease('a', '3'), 140_000);
    expect(m.lastExpiryMs(141_000)).toBe(35_000);
  });

  test('a member that died and came back (a restarted or resumed replica) was a failure all the same', () => {
    const m = new Membership(0);
    m.observe('b', lease('b', '1'), 0);
    m.observe('b', lease('b', '2'), 1000);
    m.observe('b', lease('b', '3'), 50_000); // unchanged from 1 s to 50 s: it had expired at 16 s
    expect(m.live(51_000)).toEqual(['b']);
    expect(m.lastExpiryMs(51_000)).toBe(16_000);
  });

  test('a live member listed before it renews again is no failure; a dead one listed early is, once its time is up', () => {
    const m = new Membership(0);
    m.observe('live', { ...lease('live', '1'), renewTimeMs: 9_000 }, 10_000);
    expect(m.lastExpiryMs(11_000)).toBeUndefined();
    m.observe('live', { ...lease('live', '2'), renewTimeMs: 11_000 }, 11_000);
    expect(m.lastExpiryMs(12_000)).toBeUndefined();
    // Killed at 5 s, listed at 10 s by a replica that just started: it expires at 20 s by its holder's clock.
    m.observe('killed', { ...lease('killed', '1'), renewTimeMs: 5_000 }, 10_000);
    expect(m.lastExpiryMs(19_000)).toBeUndefined();
    expect(m.lastExpiryMs(21_000)).toBe(20_000);
  });

  test('a deleted Lease (clean shutdown) leaves at once; the next change by time alone is known', () => {
    const m = new Membership(4000);
    for (const name of ['a', 'b']) {
      m.observe(name, lease(name, '1'), 0);
      m.observe(name, lease(name, '2'), 1000);
    }
    expect(m.nextChangeMs(1000)).toBe(5000);
    m.forget('a');
    expect(m.live(5000)).toEqual(['b']);
    expect(m.nextChangeMs(5000)).toBe(16_000);
  });
});
