import { describe, expect, test } from '@jest/globals';
import { CheckExecutor, type CheckStart } from '../../src/controller/runtime/check-executor.js';

/** A check that waits until the test lets it finish: a database that answers only when told to. */
function gate() {
  let open: () => void = () => undefined;
  const opened = new Promise<void>((ok) => {
    open = ok;
  });
  return { open, opened };
}

const settle = () => new Promise((ok) => setImmediate(ok));

describe('check executor', () => {
  test('never runs more than the overall limit at once', async () => {
    const executor = new CheckExecutor({ limits: { concurrency: 3, perHost: 10 } });
    const release = gate();
    let running = 0;
    let most = 0;
    const done = Array.from({ length: 10 }, (_, i) =>
      executor.run(`db-${i}:5432`, 0, async () => {
        most = Math.max(most, ++running);
        await release.opened;
        running--;
      }),
    );
    await settle();
    expect(executor.load).toEqual({ running: 3, waiting: 7 });
    release.open();
    await Promise.all(done);
    expect(most).toBe(3);
    expect(executor.load).toEqual({ running: 0, waiting: 0 });
  });

  test('a host that never answers holds only its per-host slots; every other host keeps being checked', async () => {
    const executor = new CheckExecutor({ limits: { concurrency: 4, perHost: 2 } });
    const blackHole = gate();
    const stuck = Array.from({ length: 50 }, () => executor.run('black-hole:5432', 0, () => blackHole.opened));
    const healthy: string[] = [];
    await Promise.all(
      Array.from({ length: 20 }, (_, i) =>
        executor.run(`db-${i % 5}:5432`, 0, async () => {
          healthy.push(`db-${i % 5}`);
        }),
      ),
    );
    expect(healthy).toHaveLength(20);
    expect(executor.runningFor('black-hole:5432')).toBe(2);
    expect(executor.load).toEqual({ running: 2, waiting: 48 });
    blackHole.open();
    await Promise.all(stuck);
    expect(executor.load).toEqual({ running: 0, waiting: 0 });
  });

  test('when every slot is busy, hosts with waiting checks get freed slots in turn', async () => {
    const executor = new CheckExecutor({ limits: { concurrency: 1, perHost: 1 } });
    const order: string[] = [];
    const first = gate();
    const all = [executor.run('a', 0, () => first.opened)];
    for (const host of ['a', 'a', 'a', 'b', 'c']) {
      all.push(
        executor.run(host, 0, async () => {
          order.push(host);
        }),
      );
    }
    first.open();
    await Promise.all(all);
    expect(order).toEqual(['a', 'b', 'c', 'a', 'a']);
  });

  test('reports how late each check started against its due time, and how long it waited for a slot', async () => {
    let now = 1_000;
    const starts: CheckStart[] = [];
    const executor = new CheckExecutor({
      limits: { concurrency: 1, perHost: 1 },
      now: () => now,
      onStart: (s) => starts.push(s),
    });
    const busy = gate();
    const first = executor.run('db:5432', 400, () => busy.opened);
    const second = executor.run('db:5432', 1_000, async () => undefined);
    now = 3_500;
    busy.open();
    await Promise.all([first, second]);
    expect(starts).toEqual([
      { host: 'db:5432', lagMs: 600, waitedMs: 0, hostLimited: false },
      { host: 'db:5432', lagMs: 2_500, waitedMs: 2_500, hostLimited: true },
    ]);
  });

  test('a failing check rejects to its caller and frees its slot; a check due later than it starts has no lag', async () => {
    const starts: CheckStart[] = [];
    const executor = new CheckExecutor({
      limits: { concurrency: 1, perHost: 1 },
      now: () => 0,
      onStart: (s) => starts.push(s),
    });
    await expect(
      executor.run('db:5432', 10, async () => {
        throw new Error('boom');
      }),
    ).rejects.toThrow('boom');
    await expect(executor.run('db:5432', 0, async () => 'next')).resolves.toBe('next');
    expect(starts.map((s) => s.lagMs)).toEqual([0, 0]);
  });
});
