import { describe, expect, test } from '@jest/globals';
import { pino } from 'pino';
import type { ConnectionConfig } from '../../src/checks/index.js';
import { MonitorReconciler } from '../../src/controller/monitor/reconciler.js';
import { EnginePool } from '../../src/controller/runtime/engine-pool.js';
import { OperatorMetrics } from '../../src/controller/runtime/metrics.js';
import type { EventIntent } from '../../src/controller/status/events.js';
import type { MonitorObject, ObjectKey, ReconcilerDeps } from '../../src/controller/types.js';
import { healthyEngine } from '../support/fake-engine.js';

/** The reconciler against an in-memory cache whose status follows every successful write, on a clock of its own. */
function world(initial: MonitorObject, initialSecret: Record<string, string> | undefined) {
  let secret = initialSecret;
  let clock = Date.parse('2026-03-02T10:00:00Z');
  const writes: object[] = [];
  const events: EventIntent[] = [];
  const recorded = new Set<string>();
  const engines: ReturnType<typeof healthyEngine>[] = [];
  const objects = new Map([['ns/orders', initial]]);
  /** Status writes to fail before one succeeds again (an API server hiccup). */
  let failWrites = 0;
  const deps: ReconcilerDeps = {
    monitors: { get: (ns, name) => objects.get(`${ns}/${name}`), list: () => [...objects.values()] },
    prerequisites: { get: () => undefined, list: () => [] },
    secrets: async () => (name) => (name === 'db' ? secret : undefined),
    writeStatus: async (_kind, obj, status) => {
      if (failWrites > 0) {
        failWrites--;
        throw new Error('etcdserver: request timed out');
      }
      writes.push(status);
      const key = `${obj.metadata?.namespace}/${obj.metadata?.name}`;
      objects.set(key, { ...objects.get(key)!, status: status as MonitorObject['status'] });
    },
    // As the API server does with the Events' names: a transition's Events recorded again are not added again.
    recordTransitionEvents: async (_kind, _obj, transition) => {
      if (!transition || recorded.has(transition.at)) return;
      recorded.add(transition.at);
      events.push(...(transition.events as EventIntent[]));
    },
    engines: new EnginePool((_c: ConnectionConfig) => {
      const e = healthyEngine();
      engines.push(e);
      return e;
    }),
    metrics: new OperatorMetrics(),
    log: pino({ level: 'silent' }),
    now: () => new Date(clock),
  };
  return {
    deps,
    reconciler: new MonitorReconciler(deps),
    writes,
    events,
    engines,
    objects,
    pings: () => engines.reduce((n, e) => n + e.pings, 0),
    logins: () => engines.reduce((n, e) => n + e.logins, 0),
    status: () => objects.get('ns/orders')?.status,
    update: (next: MonitorObject) => objects.set('ns/orders', { ...next, status: objects.get('ns/orders')?.status }),
    setSecret: (next: Record<string, string> | undefined) => {
      secret = next;
    },
    failNextWrites: (n: number) => {
      failWrites = n;
    },
    advance: (ms: number) => {
      clock += ms;
    },
    now: () => clock,
    metrics: deps.metrics,
  };
}

const secret = { host: 'db.example', database: 'orders', username: 'app', password: 'pw' };
const monitor = (spec: object, generation = 1): MonitorObject => ({
  metadata: { name: 'orders', namespace: 'ns', uid: 'u1', generation },
  spec: { engine: 'postgres', connection: { secretRef: { name: 'db' } }, interval: '5m', ...spec },
});
/** sessionPolicy Reuse: the warm session (engine) is kept from check to check. */
const reuse = { connection: { secretRef: { name: 'db' }, sessionPolicy: 'Reuse' } };
const condition = (w: { status: () => MonitorObject['status'] }, type: string) =>
  w.status()?.conditions?.find((c) => c.type === type);

describe('MonitorReconciler', () => {
  test('a spec that fails validation stalls with the field path, without a crash or a requeue', async () => {
    const w = world(monitor({ interval: 'whenever' }), secret);
    expect(await w.reconciler.reconcile(key)).toEqual({});
    expect(condition(w, 'Stalled')).toMatchObject({
      status: 'True',
      reason: 'InvalidSpec',
      message: expect.stringMatching(/^spec\.interval: must be a duration/),
    });
    expect(w.events.map((e) => e.reason)).toEqual(['InvalidSpec']);
  });

  test('a first check writes once and comes back at its next slot; before it, nothing runs or is written', async () => {
    const w = world(monitor({}), secret);
    const result = await w.reconciler.reconcile(key);
    expect(w.writes).toHaveLength(1);
    expect(w.status()?.status).toBe('healthy');
    expect(result.requeueAfterMs).toBeGreaterThan(0);
    expect(result.requeueAfterMs).toBeLessThanOrEqual(300_000);
    // Woken early (an unrelated event): not due, no check, no write, back at the same slot start.
    w.advance(1000);
    const again = await w.reconciler.reconcile(key);
    expect([w.pings(), w.writes.length]).toEqual([1, 1]);
    expect(again.requeueAfterMs).toBe(result.requeueAfterMs! - 1000);
  });

  test('checks run on a fixed-rate grid: 12 checks an hour at 5m however late each one starts', async () => {
    const w = world(monitor({}), secret);
    let next = (await w.reconciler.reconcile(key)).requeueAfterMs!;
    const starts: number[] = [];
    for (let i = 0; i < 12; i++) {
      w.advance(next + 700); // each wake-up 0.7 s late
      starts.push(w.now());
      next = (await w.reconciler.reconcile(key)).requeueAfterMs!;
    }
    expect(w.pings()).toBe(13);
    // No drift: every start sits 0.7 s after a slot boundary of the same phase.
    const phases = new Set(starts.map((t) => (t - 700) % 300_000));
    expect(phases.size).toBe(1);
  });

  test('after a restart a fresh process waits for each object’s next slot instead of checking all at once', async () => {
    const w = world(monitor({}), secret);
    await w.reconciler.reconcile(key);
    w.advance(60_000);
    const restarted = new MonitorReconciler(w.deps);
    const result = await restarted.reconcile(key);
    expect(w.pings()).toBe(1);
    expect(result.requeueAfterMs).toBeLessThanOrEqual(300_000);
    w.advance(result.requeueAfterMs!);
    await restarted.reconcile(key);
    expect(w.pings()).toBe(2);
  });

  test('handed over at a clean leave: a slot its status shows unchecked is checked at once, a checked one is not', async () => {
    const w = world(monitor({}), secret);
    const first = await w.reconciler.reconcile(key);
    // The new owner, in the slot the old one checked: nothing until the next slot.
    const joined = new MonitorReconciler(w.deps);
    joined.handOver(key, 'Left');
    expect((await joined.reconcile(key)).requeueAfterMs).toBeGreaterThan(0);
    expect(w.pings()).toBe(1);
    // The next slot began and the old owner dropped the object before checking it: the new owner checks now,
    // where a restarted process would wait for the slot after (the test above).
    w.advance(first.requeueAfterMs! + 1000);
    const next = new MonitorReconciler(w.deps);
    next.handOver(key, 'Left');
    await next.reconcile(key);
    expect(w.pings()).toBe(2);
  });

  test('moved at a join: slots that began before it are the old owner’s, a slot that begins after is checked', async () => {
    const w = world(monitor({}), secret);
    const first = await w.reconciler.reconcile(key);
    w.advance(first.requeueAfterMs!);
    await w.reconciler.reconcile(key); // the old owner's check at the slot's start; the status stays as it was
    expect(w.pings()).toBe(2);
    w.advance(10_000);
    // A member joins 10 s into the slot: the old owner checked it, the status cannot tell (not rewritten).
    const joined = new MonitorReconciler(w.deps);
    joined.handOver(key, 'Joined');
    const waited = await joined.reconcile(key);
    expect(w.pings()).toBe(2);
    expect(waited.requeueAfterMs).toBe(300_000 - 10_000);
    // The next slot is the new owner's.
    w.advance(waited.requeueAfterMs!);
    await joined.reconcile(key);
    expect(w.pings()).toBe(3);
    // A join 2 s after a slot began: the old owner may not have started that slot's check, so it is checked now.
    w.advance(302_000);
    const late = new MonitorReconciler(w.deps);
    late.handOver(key, 'Joined');
    await late.reconcile(key);
    expect(w.pings()).toBe(4);
  });

  test('a status older than the heartbeat allows is checked at once by a fresh process', async () => {
    const w = world(monitor({}), secret);
    await w.reconciler.reconcile(key);
    w.advance(11 * 60_000); // > max(5m, 5m) + 5m: no operator wrote it
    await new MonitorReconciler(w.deps).reconcile(key);
    expect(w.pings()).toBe(2);
  });

  test('a fresh login runs on the first check, then every freshLoginInterval, and on every check while it fails', async () => {
    const w = world(
      monitor({
        interval: '1m',
        connection: { secretRef: { name: 'db' }, sessionPolicy: 'Reuse', freshLoginInterval: '3m' },
      }),
      secret,
    );
    let next = (await w.reconciler.reconcile(key)).requeueAfterMs!;
    for (let i = 0; i < 9; i++) {
      w.advance(next);
      next = (await w.reconciler.reconcile(key)).requeueAfterMs!;
    }
    expect(w.pings()).toBe(10);
    expect(w.logins()).toBeGreaterThanOrEqual(3);
    expect(w.logins()).toBeLessThanOrEqual(5);
  });

  test('a new pool (first check, taken over) logs in once: its probe is the fresh login, no second SCRAM exchange', async () => {
    const w = world(monitor(reuse), secret);
    await w.reconciler.reconcile(key);
    expect([w.pings(), w.logins()]).toEqual([1, 0]);
    expect(w.writes[0]).toMatchObject({ health: { login: { succeeded: true } } });
    w.reconciler.takeOver(key);
    await w.reconciler.reconcile(key);
    // The pool kept its session: the takeover check's fresh login is a login of its own.
    expect([w.pings(), w.logins()]).toEqual([2, 1]);
  });

  test('suspend pauses checks and closes the pool', async () => {
    const w = world(monitor({}), secret);
    await w.reconciler.reconcile(key);
    w.update(monitor({ suspend: true }, 2));
    expect(await w.reconciler.reconcile(key)).toEqual({});
    expect(condition(w, 'Ready')).toMatchObject({ status: 'Unknown', reason: 'Suspended' });
    expect(w.engines[0]?.closed).toBe(true);
  });

  test('by default (PerCheck) every check logs in on a pool of its own, closed when the check ends', async () => {
    const w = world(monitor({ interval: '1m' }), secret);
    let next = (await w.reconciler.reconcile(key)).requeueAfterMs!;
    w.advance(next);
    next = (await w.reconciler.reconcile(key)).requeueAfterMs!;
    expect(w.pings()).toBe(2);
    expect(w.engines).toHaveLength(2);
    expect(w.engines.every((e) => e.closed)).toBe(true);
  });

  test('a pool closed while its check runs (sharded: the object moved away and back) reports nothing and looks again', async () => {
    const w = world(monitor(reuse), secret);
    await w.reconciler.reconcile(key);
    expect(w.writes).toHaveLength(1);
    w.advance(300_000);
    // The next check's ping waits; meanwhile the monitor is forgotten (lost ownership), and pings then fail as a
    // closed pg pool does.
    const engine = w.engines[0]!;
    let release!: () => void;
    const released = new Promise<void>((ok) => {
      release = ok;
    });
    engine.ping = async function () {
      await released;
      if (this.closed) throw new Error('Cannot use a pool after calling end on the pool');
    };
    const pass = w.reconciler.reconcile(key);
    await new Promise((ok) => setImmediate(ok));
    await w.reconciler.forget(key);
    release();
    expect(await pass).toEqual({ requeueAfterMs: 0 });
    expect(w.writes).toHaveLength(1);
    expect(w.status()?.status).toBe('healthy');
    // The next pass opens a pool of its own and reports the database as it is.
    await w.reconciler.reconcile(key);
    expect(w.engines).toHaveLength(2);
    expect(w.status()?.status).toBe('healthy');
  });

  test('Reuse: a spec change with the same connection reuses the pool; a deleted monitor closes it', async () => {
    const w = world(monitor(reuse), secret);
    await w.reconciler.reconcile(key);
    w.update(monitor({ ...reuse, thresholds: { failureThreshold: 2 } }, 2));
    await w.reconciler.reconcile(key);
    expect(w.engines).toHaveLength(1);
    expect(w.status()?.observedGeneration).toBe(2);
    // A new interval is a new idle limit for the warm session: a new pool (the old one would close it too early).
    w.update(monitor({ ...reuse, interval: '10m' }, 3));
    await w.reconciler.reconcile(key);
    expect(w.engines).toHaveLength(2);
    expect(w.engines[0]?.closed).toBe(true);
    w.objects.delete('ns/orders');
    await w.reconciler.reconcile(key);
    expect(w.engines.every((e) => e.closed)).toBe(true);
  });

  test('a changed Secret alone (same generation, check not due) re-checks at once with a new pool', async () => {
    const w = world(monitor(reuse), secret);
    await w.reconciler.reconcile(key);
    w.advance(5000);
    await w.reconciler.reconcile(key);
    expect(w.engines).toHaveLength(1);
    w.setSecret({ ...secret, password: 'rotated' });
    w.advance(5000);
    await w.reconciler.reconcile(key);
    expect(w.engines).toHaveLength(2);
    expect(w.engines[0]?.closed).toBe(true);
    expect(w.pings()).toBe(2);
  });

  test('PerCheck (no pool kept between checks): a changed Secret alone re-checks at once too', async () => {
    const w = world(monitor({}), secret);
    await w.reconciler.reconcile(key);
    w.advance(5000);
    await w.reconciler.reconcile(key);
    expect(w.pings()).toBe(1);
    w.setSecret({ ...secret, password: 'rotated' });
    w.advance(5000);
    await w.reconciler.reconcile(key);
    expect(w.pings()).toBe(2);
    // The same connection again: nothing new to check before the next slot.
    await w.reconciler.reconcile(key);
    expect(w.pings()).toBe(2);
  });

  test('a Secret deleted from a healthy monitor stalls it at once: no health, up 0', async () => {
    const w = world(monitor({}), secret);
    await w.reconciler.reconcile(key);
    w.setSecret(undefined);
    await w.reconciler.reconcile(key);
    const status = w.status();
    expect(status?.status).toBeUndefined();
    expect(status?.health).toBeUndefined();
    expect(condition(w, 'Ready')).toMatchObject({ status: 'False', reason: 'SecretNotFound' });
    const metrics = await w.metrics.registry.metrics();
    expect(metrics).toMatch(/dbwatch_database_up\{namespace="ns",name="orders",engine="postgres"\} 0/);
    expect(metrics).toMatch(/dbwatch_database_health\{[^}]*status="healthy"\} 0/);
    expect(metrics).not.toMatch(/dbwatch_database_response_time_seconds\{/);
  });

  test("a transition's Events are recorded once, after the write that shows them succeeded", async () => {
    const w = world(monitor({}), secret);
    w.failNextWrites(1);
    await expect(w.reconciler.reconcile(key)).rejects.toThrow(/timed out/);
    expect(w.events).toEqual([]);
    // The retry (work-queue backoff) starts from the status as written: it checks again, writes, then records.
    await w.reconciler.reconcile(key);
    await w.reconciler.reconcile(key);
    expect(w.events.map((e) => e.reason)).toEqual(['Healthy']);
    expect(w.writes).toHaveLength(1);
  });
});

const key: ObjectKey = { kind: 'DatabaseMonitor', namespace: 'ns', name: 'orders' };
