import { describe, expect, test } from '@jest/globals';
import { EventRecorder } from '../../src/controller/k8s/event-recorder.js';
import { ExponentialBackoff } from '../../src/controller/runtime/backoff.js';
import { WorkQueue } from '../../src/controller/runtime/work-queue.js';

const tick = (ms = 20) => new Promise((ok) => setTimeout(ok, ms));

describe('work queue', () => {
  test('deduplicates keys and never runs one key twice at once', async () => {
    const runs: string[] = [];
    let concurrent = 0;
    let maxConcurrent = 0;
    const queue = new WorkQueue({
      concurrency: 4,
      reconcile: async (key) => {
        concurrent++;
        maxConcurrent = Math.max(maxConcurrent, concurrent);
        runs.push(key);
        await tick(30);
        concurrent--;
        return {};
      },
    });
    queue.add('a');
    queue.add('a');
    queue.add('b');
    await tick(5);
    queue.add('a'); // while a runs: runs once more afterwards
    queue.add('a');
    await tick(150);
    expect(runs.sort()).toEqual(['a', 'a', 'b']);
    expect(maxConcurrent).toBe(2);
  });

  test('bounds concurrency', async () => {
    let concurrent = 0;
    let max = 0;
    const queue = new WorkQueue({
      concurrency: 2,
      reconcile: async () => {
        max = Math.max(max, ++concurrent);
        await tick(20);
        concurrent--;
        return {};
      },
    });
    for (const k of ['a', 'b', 'c', 'd', 'e']) queue.add(k);
    await tick(120);
    expect(max).toBe(2);
  });

  test('failures retry with growing backoff; success resets it', async () => {
    const times: number[] = [];
    const queue = new WorkQueue({
      concurrency: 1,
      backoff: new ExponentialBackoff(20, 1000),
      reconcile: async () => {
        times.push(Date.now());
        if (times.length < 4) throw new Error('boom');
        return {};
      },
    });
    queue.add('x');
    await tick(400);
    expect(times).toHaveLength(4);
    const gaps = times.slice(1).map((t, i) => t - times[i]!);
    expect(gaps[1]!).toBeGreaterThan(gaps[0]!);
    expect(gaps[2]!).toBeGreaterThan(gaps[1]!);
  });

  test('shutdown stops new work and waits for in-flight work within the bound', async () => {
    let finished = false;
    const queue = new WorkQueue({
      concurrency: 1,
      reconcile: async () => {
        await tick(50);
        finished = true;
        return { requeueAfterMs: 10 };
      },
    });
    queue.add('x');
    await tick(5);
    expect(await queue.shutdown(1000)).toBe(true);
    expect(finished).toBe(true);
    queue.add('y');
    expect(queue.depth).toBe(0);
  });
});

describe('work queue: parking a worker while a check waits', () => {
  test('a reconcile waiting on a database gives its worker to the next key, then finishes', async () => {
    const order: string[] = [];
    let answer: () => void = () => undefined;
    const databaseAnswers = new Promise<void>((ok) => {
      answer = ok;
    });
    const queue: WorkQueue = new WorkQueue({
      concurrency: 1,
      reconcile: async (key) => {
        order.push(`start ${key}`);
        if (key === 'slow') await queue.park(key, databaseAnswers);
        order.push(`end ${key}`);
        return {};
      },
    });
    queue.add('slow');
    queue.add('fast-1');
    queue.add('fast-2');
    await tick(20);
    expect(order).toEqual(['start slow', 'start fast-1', 'end fast-1', 'start fast-2', 'end fast-2']);
    answer();
    await tick(20);
    expect(order.at(-1)).toBe('end slow');
  });

  test('a resumed reconcile gets the next free worker before new keys', async () => {
    const order: string[] = [];
    let answer: () => void = () => undefined;
    const databaseAnswers = new Promise<void>((ok) => {
      answer = ok;
    });
    let releaseBusy: () => void = () => undefined;
    const busy = new Promise<void>((ok) => {
      releaseBusy = ok;
    });
    const queue: WorkQueue = new WorkQueue({
      concurrency: 1,
      reconcile: async (key) => {
        if (key === 'parked') await queue.park(key, databaseAnswers);
        if (key === 'busy') await busy;
        order.push(key);
        return {};
      },
    });
    queue.add('parked');
    queue.add('busy'); // holds the only worker without parking
    await tick(5);
    answer(); // parked is ready to finish, but the worker is taken
    queue.add('new');
    await tick(5);
    expect(order).toEqual([]);
    releaseBusy();
    await tick(20);
    expect(order).toEqual(['busy', 'parked', 'new']);
  });

  test('overlapping parks of one reconcile release one worker and take one back', async () => {
    let running = 0;
    let most = 0;
    const queue: WorkQueue = new WorkQueue({
      concurrency: 2,
      reconcile: async (key) => {
        if (key === 'prerequisite') await Promise.all([1, 2, 3].map(() => queue.park(key, tick(20))));
        most = Math.max(most, ++running);
        await tick(10);
        running--;
        return {};
      },
    });
    for (const key of ['prerequisite', 'a', 'b', 'c', 'd']) queue.add(key);
    await tick(120);
    expect(most).toBe(2);
  });

  test('reports how long each key waited for a worker, on the injected clock', async () => {
    let now = 0;
    const waits: number[] = [];
    let release: () => void = () => undefined;
    const held = new Promise<void>((ok) => {
      release = ok;
    });
    const queue = new WorkQueue({
      concurrency: 1,
      now: () => now,
      onWait: (ms) => waits.push(ms),
      reconcile: async (key) => {
        if (key === 'first') await held;
        return {};
      },
    });
    queue.add('first');
    queue.add('second');
    now = 750;
    release();
    await tick(5);
    expect(waits).toEqual([0, 750]);
  });
});

describe('event spam protection', () => {
  test('the same event is sent once per window; an object gets at most 25 in a burst', () => {
    let now = 0;
    const recorder = new EventRecorder(
      {} as never,
      'test',
      () => undefined,
      () => now,
    );
    const object = { apiVersion: 'v1', kind: 'X', name: 'x', namespace: 'n', uid: 'u' };
    const event = { type: 'Warning' as const, reason: 'Unhealthy' as const, message: 'down' };
    expect(recorder.admit(object, event)).toBe(true);
    expect(recorder.admit(object, event)).toBe(false);
    now += 11 * 60_000;
    expect(recorder.admit(object, event)).toBe(true);
    let admitted = 0;
    for (let i = 0; i < 40; i++) if (recorder.admit(object, { ...event, message: `flap ${i}` })) admitted++;
    // The 11 minutes refilled the bucket to 25; the event above used one.
    expect(admitted).toBe(24);
  });

  test('expired history is swept, so distinct messages do not accumulate forever', () => {
    let now = 0;
    const recorder = new EventRecorder(
      {} as never,
      'test',
      () => undefined,
      () => now,
    );
    for (let i = 0; i < 1000; i++) {
      now += 60_000;
      recorder.admit(
        { apiVersion: 'v1', kind: 'X', name: `x${i}`, namespace: 'n', uid: `u${i}` },
        { type: 'Warning', reason: 'Degraded', message: `response ${i} ms` },
      );
    }
    expect(recorder.trackedKeys).toBeLessThan(520);
  });

  test('a transition recorded again (another replica, a restart) keeps its name: AlreadyExists adds nothing', async () => {
    const created: { name: string; firstTimestamp: Date }[] = [];
    const errors: unknown[] = [];
    let refuse: number | undefined;
    const clients = {
      core: {
        createNamespacedEvent: async ({ body }: { body: { metadata: { name: string }; firstTimestamp: Date } }) => {
          if (refuse) throw Object.assign(new Error(`HTTP ${refuse}`), { code: refuse });
          if (created.some((e) => e.name === body.metadata.name))
            throw Object.assign(new Error('exists'), { code: 409 });
          created.push({ name: body.metadata.name, firstTimestamp: body.firstTimestamp });
        },
      },
    };
    const replica = () => new EventRecorder(clients as never, 'test', (e) => errors.push(e));
    const object = { apiVersion: 'v1', kind: 'X', name: 'orders', namespace: 'n', uid: 'u' };
    const event = { type: 'Warning' as const, reason: 'Unhealthy' as const, message: 'down' };
    const at = new Date('2026-03-02T10:00:00Z');
    const once = { id: `${at.toISOString()}#0`, at };
    await replica().record(object, event, once);
    await replica().record(object, event, once);
    expect(created).toEqual([{ name: expect.stringMatching(/^orders\.[0-9a-f]{16}$/), firstTimestamp: at }]);
    expect(errors).toEqual([]);
    // A send that fails is not taken for sent: the next pass sends it (the spam filter would refuse a repeat).
    const flaky = replica();
    const later = { id: 'later#0', at };
    refuse = 503;
    await flaky.record(object, event, later);
    refuse = undefined;
    await flaky.record(object, event, later);
    expect(created).toHaveLength(2);
    expect(errors).toHaveLength(1);
  });
});
