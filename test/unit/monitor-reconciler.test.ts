import { describe, expect, test } from '@jest/globals';
import { pino } from 'pino';
import type { ConnectionConfig, DatabaseEngine } from '../../src/checks/index.js';
import { EnginePool } from '../../src/controller/runtime/engine-pool.js';
import type { EventIntent } from '../../src/controller/status/events.js';
import { OperatorMetrics } from '../../src/controller/runtime/metrics.js';
import { MonitorReconciler } from '../../src/controller/monitor/reconciler.js';
import type { MonitorObject, ReconcilerDeps } from '../../src/controller/types.js';

/** An engine that answers like a healthy database, for exercising the reconciler's decisions. */
function healthyEngine(): DatabaseEngine & { closed: boolean } {
  return {
    name: 'postgres',
    closed: false,
    ping: async () => undefined,
    connectOnce: async () => undefined,
    freshLogin: async () => 1,
    openTestSession: async () => ({ run: async () => 1, close: async () => undefined }),
    serverConnections: async () => ({
      active: 1,
      idle: 1,
      idleInTransaction: 0,
      other: 0,
      total: 2,
      maxUsable: 100,
      utilizationPercent: 2,
      visibility: 'full',
    }),
    poolStats: () => ({ size: 2, checkedOut: 0, idle: 1, waiting: 0 }),
    databaseInfo: async () => ({ version: '16', state: 'ONLINE', readOnly: false }),
    tableExists: async () => false,
    selectColumns: async () => [],
    probeTls: async () => 'TLS disabled',
    classifyError: (e) => ({ stage: 'query', cause: 'QueryFailed', message: String(e) }),
    async close() {
      this.closed = true;
    },
  };
}

function world(monitor: MonitorObject, initialSecret: Record<string, string> | undefined) {
  let secret = initialSecret;
  const writes: object[] = [];
  const events: EventIntent[] = [];
  const engines: ReturnType<typeof healthyEngine>[] = [];
  const objects = new Map([['ns/orders', monitor]]);
  /** Status writes to fail before one succeeds again (an API server hiccup). */
  let failWrites = 0;
  const deps: ReconcilerDeps = {
    monitors: { get: (ns, name) => objects.get(`${ns}/${name}`), list: () => [...objects.values()] },
    prerequisites: { get: () => undefined, list: () => [] },
    secrets: async () => (name) => (name === 'db' ? secret : undefined),
    writeStatus: async (_kind, _ns, _name, status) => {
      if (failWrites > 0) {
        failWrites--;
        throw new Error('etcdserver: request timed out');
      }
      writes.push(status);
      monitor.status = status as MonitorObject['status'];
    },
    recordEvent: async (_kind, _obj, event) => {
      events.push(event);
    },
    engines: new EnginePool((_c: ConnectionConfig) => {
      const e = healthyEngine();
      engines.push(e);
      return e;
    }),
    metrics: new OperatorMetrics(),
    log: pino({ level: 'silent' }),
    now: () => new Date(),
  };
  const setSecret = (next: Record<string, string> | undefined) => {
    secret = next;
  };
  const failNextWrites = (n: number) => {
    failWrites = n;
  };
  return {
    reconciler: new MonitorReconciler(deps),
    writes,
    events,
    engines,
    objects,
    setSecret,
    failNextWrites,
    metrics: deps.metrics,
  };
}

const secret = { host: 'db.example', database: 'orders', username: 'app', password: 'pw' };
const monitor = (spec: object, generation = 1): MonitorObject => ({
  metadata: { name: 'orders', namespace: 'ns', uid: 'u1', generation },
  spec: { engine: 'postgres', connection: { secretRef: { name: 'db' } }, interval: '5m', ...spec },
});

describe('MonitorReconciler', () => {
  test('a spec that fails validation stalls with the field path, without a crash or a requeue', async () => {
    const w = world(monitor({ interval: 'whenever' }), secret);
    const result = await w.reconciler.reconcile('ns', 'orders');
    expect(result).toEqual({});
    const stalled = (w.writes.at(-1) as MonitorObject['status'])?.conditions?.find((c) => c.type === 'Stalled');
    expect(stalled).toMatchObject({
      status: 'True',
      reason: 'InvalidSpec',
      message: expect.stringMatching(/^spec\.interval: must be a duration/),
    });
    expect(w.events.map((e) => e.reason)).toEqual(['InvalidSpec']);
  });

  test('a healthy check writes Reconciling then the result, and requeues after the interval with jitter', async () => {
    const w = world(monitor({}), secret);
    const result = await w.reconciler.reconcile('ns', 'orders');
    expect(result.requeueAfterMs).toBeGreaterThanOrEqual(270_000);
    expect(result.requeueAfterMs).toBeLessThanOrEqual(330_000);
    expect(w.writes).toHaveLength(2);
    expect(w.objects.get('ns/orders')?.status?.status).toBe('healthy');
    // Not due yet: no check, no write.
    const again = await w.reconciler.reconcile('ns', 'orders');
    expect(w.writes).toHaveLength(2);
    expect(again.requeueAfterMs).toBeGreaterThan(0);
  });

  test('suspend pauses checks and closes the pool', async () => {
    const w = world(monitor({}), secret);
    await w.reconciler.reconcile('ns', 'orders');
    w.objects.set('ns/orders', { ...monitor({ suspend: true }, 2), status: w.objects.get('ns/orders')!.status });
    expect(await w.reconciler.reconcile('ns', 'orders')).toEqual({});
    const ready = (w.writes.at(-1) as MonitorObject['status'])?.conditions?.find((c) => c.type === 'Ready');
    expect(ready).toMatchObject({ status: 'Unknown', reason: 'Suspended' });
    expect(w.engines[0]?.closed).toBe(true);
  });

  test('a spec change with the same connection reuses the pool; a deleted monitor closes it', async () => {
    const w = world(monitor({}), secret);
    await w.reconciler.reconcile('ns', 'orders');
    w.objects.set('ns/orders', { ...monitor({ interval: '10m' }, 2), status: w.objects.get('ns/orders')!.status });
    await w.reconciler.reconcile('ns', 'orders');
    expect(w.engines).toHaveLength(1);
    expect((w.writes.at(-1) as MonitorObject['status'])?.observedGeneration).toBe(2);
    w.objects.delete('ns/orders');
    await w.reconciler.reconcile('ns', 'orders');
    expect(w.engines[0]?.closed).toBe(true);
  });

  test('a changed Secret alone (same generation, check not due) re-checks at once with a new pool', async () => {
    const w = world(monitor({}), secret);
    await w.reconciler.reconcile('ns', 'orders');
    const firstCheck = w.objects.get('ns/orders')?.status?.lastCheckTime;
    // Not due for 5 minutes and nothing else changed: no check.
    await w.reconciler.reconcile('ns', 'orders');
    expect(w.engines).toHaveLength(1);
    await new Promise((ok) => setTimeout(ok, 5));
    w.setSecret({ ...secret, password: 'rotated' });
    const result = await w.reconciler.reconcile('ns', 'orders');
    expect(w.engines).toHaveLength(2);
    expect(w.engines[0]?.closed).toBe(true);
    expect(w.objects.get('ns/orders')?.status?.observedGeneration).toBe(1);
    expect(w.objects.get('ns/orders')?.status?.lastCheckTime).not.toBe(firstCheck);
    expect(result.requeueAfterMs).toBeGreaterThanOrEqual(270_000);
  });

  test('a Secret deleted from a healthy monitor stalls it at once: no health, up 0', async () => {
    const w = world(monitor({}), secret);
    await w.reconciler.reconcile('ns', 'orders');
    w.setSecret(undefined);
    await w.reconciler.reconcile('ns', 'orders');
    const status = w.objects.get('ns/orders')?.status;
    expect(status?.status).toBeUndefined();
    expect(status?.health).toBeUndefined();
    expect(status?.conditions?.find((c) => c.type === 'Ready')).toMatchObject({
      status: 'False',
      reason: 'SecretNotFound',
    });
    const metrics = await w.metrics.registry.metrics();
    expect(metrics).toMatch(/dbwatch_database_up\{namespace="ns",name="orders",engine="postgres"\} 0/);
    expect(metrics).toMatch(/dbwatch_database_health\{[^}]*status="healthy"\} 0/);
    expect(metrics).not.toMatch(/dbwatch_database_response_time_seconds\{/);
  });

  test("a transition's Events are recorded exactly once when its status write fails and is retried", async () => {
    const w = world(monitor({}), secret);
    w.failNextWrites(2); // the Reconciling write and the result's write
    await expect(w.reconciler.reconcile('ns', 'orders')).rejects.toThrow(/timed out/);
    expect(w.events).toEqual([]);
    await expect(w.reconciler.reconcile('ns', 'orders')).rejects.toThrow(/timed out/);
    expect(w.events).toEqual([]);
    // The retry (work-queue backoff) writes the computed status and only then records its Event.
    await w.reconciler.reconcile('ns', 'orders');
    await w.reconciler.reconcile('ns', 'orders');
    expect(w.events.map((e) => e.reason)).toEqual(['Healthy']);
    expect(w.objects.get('ns/orders')?.status?.status).toBe('healthy');
  });
});
