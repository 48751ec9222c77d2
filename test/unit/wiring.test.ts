import { describe, expect, test } from '@jest/globals';
import type { MonitorObject, ObjectStore, PrerequisiteObject } from '../../src/controller/types.js';
import {
  prerequisitesReferencing,
  specOrRequestChanged,
  usersOfSecret,
  WATCHES,
  type World,
} from '../../src/controller/wiring.js';

const monitor = (name: string, secret: string, extra: { ca?: string; stats?: string } = {}) => ({
  metadata: { name, namespace: 'ns' },
  spec: {
    connection: { secretRef: { name: secret }, ...(extra.ca ? { tls: { caSecretRef: { name: extra.ca } } } : {}) },
    ...(extra.stats ? { checks: { pgbouncer: { secretRef: { name: extra.stats } } } } : {}),
  },
});
const prerequisite = (name: string, databases: object[]) => ({
  metadata: { name, namespace: 'ns' },
  spec: { databases },
});

function store<T extends { metadata?: { name?: string; namespace?: string } }>(items: T[]): ObjectStore<T> {
  return {
    get: (namespace, name) => items.find((i) => i.metadata?.namespace === namespace && i.metadata?.name === name),
    list: (namespace) => items.filter((i) => namespace === undefined || i.metadata?.namespace === namespace),
  };
}
const world = (monitors: MonitorObject[], prerequisites: PrerequisiteObject[]): World => ({
  monitors: store(monitors),
  prerequisites: store(prerequisites),
});
const names = (keys: { kind: string; name: string }[]) => keys.map((k) => `${k.kind}/${k.name}`);

describe('which objects a change reconciles', () => {
  test('a Secret change reaches the monitors and inline prerequisites that use it: login, CA and PgBouncer console', () => {
    const w = world(
      [
        monitor('a', 'db'),
        monitor('b', 'other', { ca: 'db' }),
        monitor('c', 'other'),
        monitor('d', 'x', { stats: 'db' }),
      ],
      [
        prerequisite('p', [{ name: 'x', connection: { secretRef: { name: 'db' } } }]),
        prerequisite('q', [{ name: 'y', monitorRef: { name: 'a' } }]),
      ],
    );
    expect(names(usersOfSecret({ metadata: { name: 'db', namespace: 'ns' } }, w))).toEqual([
      'DatabaseMonitor/a',
      'DatabaseMonitor/b',
      'DatabaseMonitor/d',
      'DatabasePrerequisite/p',
    ]);
    expect(usersOfSecret({ metadata: { name: 'db', namespace: 'elsewhere' } }, w)).toEqual([]);
  });

  test('any change of a monitor, status included, re-evaluates the prerequisites that reference it', () => {
    const w = world(
      [],
      [
        prerequisite('p', [{ name: 'x', monitorRef: { name: 'orders' } }]),
        prerequisite('q', [{ name: 'y', monitorRef: { name: 'billing' } }]),
      ],
    );
    expect(names(prerequisitesReferencing({ metadata: { name: 'orders', namespace: 'ns' } }, w))).toEqual([
      'DatabasePrerequisite/p',
    ]);
    const watches = WATCHES.databasemonitors.filter((watch) => watch.relation === 'Watches');
    expect(watches.every((watch) => watch.predicate === undefined)).toBe(true);
  });

  test('status-only updates (our own writes) do not reconcile the object; spec changes, run requests, adds and deletes do', () => {
    const checked = { metadata: { generation: 2 }, status: { observedGeneration: 2 } };
    expect(specOrRequestChanged('update', checked)).toBe(false);
    expect(specOrRequestChanged('add', checked)).toBe(true);
    expect(specOrRequestChanged('delete', checked)).toBe(true);
    expect(specOrRequestChanged('update', { ...checked, metadata: { generation: 3 } })).toBe(true);
    const requested = { generation: 2, annotations: { 'dbwatch.dev/requestedAt': 't1' } };
    expect(specOrRequestChanged('update', { metadata: requested, status: { observedGeneration: 2 } })).toBe(true);
    expect(
      specOrRequestChanged('update', {
        metadata: requested,
        status: { observedGeneration: 2, lastHandledReconcileAt: 't1' },
      }),
    ).toBe(false);
  });
});
