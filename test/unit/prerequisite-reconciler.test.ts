import { describe, expect, test } from '@jest/globals';
import { pino } from 'pino';
import type { ConnectionConfig } from '../../src/checks/index.js';
import { PrerequisiteReconciler } from '../../src/controller/prerequisite/reconciler.js';
import { EnginePool } from '../../src/controller/runtime/engine-pool.js';
import { OperatorMetrics } from '../../src/controller/runtime/metrics.js';
import type { ObjectKey, PrerequisiteObject, ReconcilerDeps } from '../../src/controller/types.js';
import { healthyEngine } from '../support/fake-engine.js';

const key: ObjectKey = { kind: 'DatabasePrerequisite', namespace: 'ns', name: 'ready' };

function world(connection: object) {
  let secret: Record<string, string> = { host: 'db.example', database: 'orders', username: 'app', password: 'pw' };
  let clock = Date.parse('2026-03-02T10:00:00Z');
  const engines: ReturnType<typeof healthyEngine>[] = [];
  const objects = new Map<string, PrerequisiteObject>([
    [
      'ns/ready',
      {
        metadata: { name: 'ready', namespace: 'ns', uid: 'u1', generation: 1 },
        spec: {
          databases: [{ name: 'orders', engine: 'postgres', connection: { secretRef: { name: 'db' }, ...connection } }],
          checkMigrations: false,
        },
      },
    ],
  ]);
  const deps: ReconcilerDeps = {
    monitors: { get: () => undefined, list: () => [] },
    prerequisites: { get: (ns, name) => objects.get(`${ns}/${name}`), list: () => [...objects.values()] },
    secrets: async () => (name) => (name === 'db' ? secret : undefined),
    writeStatus: async (_kind, obj, status) => {
      const id = `${obj.metadata?.namespace}/${obj.metadata?.name}`;
      objects.set(id, { ...objects.get(id)!, status: status as PrerequisiteObject['status'] });
    },
    recordTransitionEvents: async () => undefined,
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
    reconciler: new PrerequisiteReconciler(deps),
    engines,
    status: () => objects.get('ns/ready')?.status,
    pings: () => engines.reduce((n, e) => n + e.pings, 0),
    rotate: () => {
      secret = { ...secret, password: 'rotated' };
    },
    advance: (ms: number) => {
      clock += ms;
    },
  };
}

describe('PrerequisiteReconciler: inline databases', () => {
  test('PerCheck (the default) holds no session between checks and still sees a rotated Secret at once', async () => {
    const w = world({});
    await w.reconciler.reconcile(key);
    expect(w.status()?.overallStatus).toBe('passed');
    expect(w.engines).toHaveLength(1);
    expect(w.engines[0]?.closed).toBe(true);
    w.advance(5000);
    await w.reconciler.reconcile(key);
    expect(w.pings()).toBe(1);
    w.rotate();
    await w.reconciler.reconcile(key);
    expect(w.pings()).toBe(2);
    expect(w.engines.every((e) => e.closed)).toBe(true);
  });

  test('Reuse keeps its session from check to check; a deleted prerequisite closes it', async () => {
    const w = world({ sessionPolicy: 'Reuse' });
    await w.reconciler.reconcile(key);
    w.advance(60_000);
    await w.reconciler.reconcile(key);
    expect(w.pings()).toBe(2);
    expect(w.engines).toHaveLength(1);
    expect(w.engines[0]?.closed).toBe(false);
    await w.reconciler.forget(key);
    expect(w.engines[0]?.closed).toBe(true);
  });
});
