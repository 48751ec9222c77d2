import { describe, expect, test } from '@jest/globals';
import { pino } from 'pino';
import type { ConnectionConfig, DatabaseEngine } from '../../src/checks/index.js';
import { EnginePool } from '../../src/controller/engine-pool.js';
import type { EventIntent } from '../../src/controller/events.js';
import { OperatorMetrics } from '../../src/controller/metrics.js';
import { MonitorReconciler } from '../../src/controller/monitor-reconciler.js';
import type { MonitorObject, ReconcilerDeps } from '../../src/controller/types.js';

/** An engine that answers like a healthy database, for exercising the reconciler's decisions. */
function healthyEngine(): DatabaseEngine & { closed: boolean } {
  return {
    name: 'postgres',
    closed: false,
    ping: async () => undefined,
    connectOnce: async () => undefined,
    runReadOnly: async () => undefined,
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
  const deps: ReconcilerDeps = {
    monitors: { get: (ns, name) => objects.get(`${ns}/${name}`), list: () => [...objects.values()] },
    prerequisites: { get: () => undefined, list: () => [] },
    secrets: () => (name) => (name === 'db' ? secret : undefined),
    writeStatus: async (_kind, _ns, _name, status) => {
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
  const setSecret = (next: Record<string, string>) => {
    secret = next;
  };
  return { reconciler: new MonitorReconciler(deps), writes, events, engines, objects, setSecret };
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

  test('a changed Secret re-creates the pool; a deleted monitor closes it', async () => {
    const w = world(monitor({}), secret);
    await w.reconciler.reconcile('ns', 'orders');
    w.objects.set('ns/orders', { ...monitor({}, 2), status: w.objects.get('ns/orders')!.status });
    await w.reconciler.reconcile('ns', 'orders');
    expect(w.engines).toHaveLength(1); // same connection: pool reused
    w.setSecret({ ...secret, password: 'rotated' });
    w.objects.set('ns/orders', { ...monitor({}, 3), status: w.objects.get('ns/orders')!.status });
    await w.reconciler.reconcile('ns', 'orders');
    expect(w.engines).toHaveLength(2);
    expect(w.engines[0]?.closed).toBe(true);
    w.objects.delete('ns/orders');
    await w.reconciler.reconcile('ns', 'orders');
    expect(w.engines[1]?.closed).toBe(true);
  });
});
