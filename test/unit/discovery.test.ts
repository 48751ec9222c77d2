import { readFileSync } from 'node:fs';
import { describe, expect, test } from '@jest/globals';
import { load } from 'js-yaml';
import {
  type DatabaseDiscoverySpec,
  databaseDiscoverySchema,
  databaseDiscoverySpecSchema,
} from '../../src/api/index.js';
import { type DesiredMonitor, desiredMonitors, labelValue } from '../../src/controller/discovery/desired.js';
import { matchesSelector } from '../../src/controller/discovery/label-selector.js';
import { type ExistingMonitor, planMonitors } from '../../src/controller/discovery/plan.js';
import { type SourceKind, SourceKinds } from '../../src/controller/discovery/source-kinds.js';
import { discoveryStatus } from '../../src/controller/discovery/status.js';
import type { DiscoveryWorld, SourceObject } from '../../src/controller/discovery/types.js';

const owner = { namespace: 'shop', name: 'all-postgres', uid: 'd-uid' };
const spec = (input: Record<string, unknown>): DatabaseDiscoverySpec => databaseDiscoverySpecSchema.parse(input);

/** A world of plain lists, as the caches would hold them. */
function world(objects: [SourceKind, SourceObject][], secrets: string[] = []): DiscoveryWorld {
  return {
    objects: (kind, ns) =>
      kind === SourceKinds.secret
        ? objects.filter(([k, o]) => k === kind && o.metadata?.namespace === ns).map(([, o]) => o)
        : objects.filter(([k, o]) => k === kind && o.metadata?.namespace === ns).map(([, o]) => o),
    secretExists: (ns, name) => secrets.includes(`${ns}/${name}`),
  };
}

const cluster = (namespace: string, name: string, status: object = { phase: 'Cluster in healthy state' }, extra = {}) =>
  [
    SourceKinds.cnpgCluster,
    { metadata: { namespace, name, uid: `${name}-uid`, labels: { team: 'a' } }, status, ...extra },
  ] as [SourceKind, SourceObject];

describe('CloudNativePG Clusters → monitors', () => {
  const cnpg = spec({ sources: [{ cloudNativePG: {} }] });

  test('a ready Cluster gets a monitor on its app Secret, through <cluster>-rw with its namespace, owned by both', () => {
    const { monitors, problems } = desiredMonitors(
      owner,
      cnpg,
      ['shop'],
      world([cluster('shop', 'orders')], ['shop/orders-app']),
    );
    expect(problems).toEqual([]);
    expect(monitors).toHaveLength(1);
    const m = monitors[0]!;
    expect(m).toMatchObject({ namespace: 'shop', name: 'orders' });
    expect(m.waiting).toBeUndefined();
    expect(m.spec.connection).toMatchObject({
      secretRef: { name: 'orders-app', keys: { database: 'dbname', username: 'username', password: 'password' } },
      host: 'orders-rw.shop.svc',
    });
    expect(m.spec.connection.port).toBeUndefined();
    expect(m.spec).toMatchObject({ engine: 'postgres', interval: '5m', checks: { pool: { enabled: true } } });
    expect(m.ownerReferences).toEqual([
      { apiVersion: 'postgresql.cnpg.io/v1', kind: 'Cluster', name: 'orders', uid: 'orders-uid' },
      {
        apiVersion: 'dbwatch.dev/v1alpha1',
        kind: 'DatabaseDiscovery',
        name: 'all-postgres',
        uid: 'd-uid',
        controller: true,
      },
    ]);
    expect(m.labels).toEqual({
      'dbwatch.dev/discovery': 'all-postgres',
      'dbwatch.dev/discovery-namespace': 'shop',
      'dbwatch.dev/source-kind': 'Cluster.postgresql.cnpg.io',
      'dbwatch.dev/source-name': 'orders',
      'app.kubernetes.io/managed-by': 'dbwatch',
    });
    expect(m.annotations).toEqual({ 'dbwatch.dev/source': 'Cluster.postgresql.cnpg.io/shop/orders' });
  });

  test('a bootstrapping Cluster waits with its phase; a ready one without its Secret waits for the Secret', () => {
    const { monitors } = desiredMonitors(
      owner,
      cnpg,
      ['shop'],
      world([cluster('shop', 'boot', { phase: 'Setting up primary' }), cluster('shop', 'nosecret')]),
    );
    expect(monitors.map((m) => [m.name, m.waiting])).toEqual([
      ['boot', { reason: 'SourceNotReady', message: 'Cluster boot is not ready: phase "Setting up primary"' }],
      ['nosecret', { reason: 'SecretNotFound', message: 'Secret nosecret-app of Cluster nosecret does not exist yet' }],
    ]);
  });

  test("the Ready condition counts; a bootstrap secret replaces <cluster>-app (CloudNativePG's own rule)", () => {
    const c = cluster(
      'shop',
      'orders',
      { conditions: [{ type: 'Ready', status: 'True' }] },
      { spec: { bootstrap: { initdb: { secret: { name: 'orders-owner' } } } } },
    );
    const { monitors } = desiredMonitors(owner, cnpg, ['shop'], world([c], ['shop/orders-owner']));
    expect(monitors[0]?.waiting).toBeUndefined();
    expect(monitors[0]?.spec.connection.secretRef.name).toBe('orders-owner');
  });

  test('selector, service, host, port, name and keys of the source are used; poolers add a monitor each', () => {
    const s = spec({
      sources: [
        {
          cloudNativePG: {
            selector: { matchLabels: { team: 'a' } },
            service: 'ro',
            poolers: true,
            host: '$(service).$(namespace).svc.example.org',
            port: 6432,
            name: 'pg-$(cluster)',
            keys: { password: 'pw' },
          },
        },
      ],
    });
    const pooler: [SourceKind, SourceObject] = [
      SourceKinds.cnpgPooler,
      {
        metadata: { namespace: 'shop', name: 'orders-pooler-rw', uid: 'p-uid' },
        spec: { cluster: { name: 'orders' } },
      },
    ];
    const other = cluster('shop', 'other');
    other[1].metadata!.labels = { team: 'b' };
    const { monitors } = desiredMonitors(
      owner,
      s,
      ['shop'],
      world([cluster('shop', 'orders'), other, pooler], ['shop/orders-app']),
    );
    expect(monitors.map((m) => [m.name, m.spec.connection.host, m.spec.connection.port])).toEqual([
      ['pg-orders', 'orders-ro.shop.svc.example.org', 6432],
      ['orders-pooler-rw', 'orders-pooler-rw.shop.svc.example.org', 6432],
    ]);
    expect(monitors[0]?.spec.connection.secretRef.keys).toMatchObject({ password: 'pw', database: 'dbname' });
    expect(monitors[1]?.ownerReferences[0]).toMatchObject({ kind: 'Pooler', name: 'orders-pooler-rw' });
  });

  test('in another namespace the monitor is owned by its Cluster only (ownerReferences never cross namespaces)', () => {
    const { monitors } = desiredMonitors(
      owner,
      cnpg,
      ['team-b'],
      world([cluster('team-b', 'orders')], ['team-b/orders-app']),
    );
    expect(monitors[0]?.namespace).toBe('team-b');
    expect(monitors[0]?.ownerReferences.map((r) => r.kind)).toEqual(['Cluster']);
    expect(monitors[0]?.labels['dbwatch.dev/discovery-namespace']).toBe('shop');
  });

  test('two sources finding the same name: the first wins, the second is reported', () => {
    const s = spec({ sources: [{ cloudNativePG: {} }, { secrets: { selector: {} } }] });
    const secret: [SourceKind, SourceObject] = [
      SourceKinds.secret,
      { metadata: { namespace: 'shop', name: 'orders', uid: 's' } },
    ];
    const { monitors, problems } = desiredMonitors(
      owner,
      s,
      ['shop'],
      world([cluster('shop', 'orders'), secret], ['shop/orders-app', 'shop/orders']),
    );
    expect(monitors.map((m) => m.source.kind.kind)).toEqual(['Cluster']);
    expect(problems).toEqual([
      expect.objectContaining({ source: 'Secret/shop/orders', reason: 'DuplicateName', monitor: 'orders' }),
    ]);
  });
});

describe('Crunchy, Zalando and labelled Secrets → monitors', () => {
  test('Crunchy: <cluster>-pguser-<cluster> by default (user, dbname keys), primary Service; ready once an instance is', () => {
    const pgc: [SourceKind, SourceObject] = [
      SourceKinds.crunchyCluster,
      { metadata: { namespace: 'shop', name: 'hippo', uid: 'h' }, status: { instances: [{ readyReplicas: 1 }] } },
    ];
    const { monitors } = desiredMonitors(
      owner,
      spec({ sources: [{ crunchy: {} }] }),
      ['shop'],
      world([pgc], ['shop/hippo-pguser-hippo']),
    );
    expect(monitors[0]?.waiting).toBeUndefined();
    expect(monitors[0]?.spec.connection).toMatchObject({
      secretRef: { name: 'hippo-pguser-hippo', keys: { username: 'user', database: 'dbname' } },
      host: 'hippo-primary.shop.svc',
    });
    const viaBouncer = desiredMonitors(
      owner,
      spec({ sources: [{ crunchy: { user: 'app', service: 'pgbouncer', name: '$(cluster)-pgbouncer' } }] }),
      ['shop'],
      world([pgc], ['shop/hippo-pguser-app']),
    ).monitors[0];
    expect(viaBouncer?.name).toBe('hippo-pgbouncer');
    expect(viaBouncer?.spec.connection).toMatchObject({
      secretRef: { name: 'hippo-pguser-app', keys: { port: 'pgbouncer-port' } },
      host: 'hippo-pgbouncer.shop.svc',
    });
    pgc[1].status = { instances: [{ readyReplicas: 0 }] };
    expect(
      desiredMonitors(owner, spec({ sources: [{ crunchy: {} }] }), ['shop'], world([pgc], ['shop/hippo-pguser-hippo']))
        .monitors[0]?.waiting,
    ).toEqual({
      reason: 'SourceNotReady',
      message: 'PostgresCluster hippo is not ready: no instance is ready',
    });
  });

  test("Zalando: the first database's owner and that database, the credentials Secret with _ written as -", () => {
    const pg: [SourceKind, SourceObject] = [
      SourceKinds.zalandoPostgresql,
      {
        metadata: { namespace: 'shop', name: 'acid-orders', uid: 'z' },
        spec: { databases: { orders: 'orders_owner' } },
        status: { PostgresClusterStatus: 'Running' },
      },
    ];
    const { monitors } = desiredMonitors(
      owner,
      spec({ sources: [{ zalando: {} }] }),
      ['shop'],
      world([pg], ['shop/orders-owner.acid-orders.credentials.postgresql.acid.zalan.do']),
    );
    expect(monitors[0]?.waiting).toBeUndefined();
    expect(monitors[0]?.spec.connection).toMatchObject({
      secretRef: { name: 'orders-owner.acid-orders.credentials.postgresql.acid.zalan.do' },
      host: 'acid-orders.shop.svc',
      database: 'orders',
    });
    pg[1].status = { PostgresClusterStatus: 'Creating' };
    expect(
      desiredMonitors(owner, spec({ sources: [{ zalando: {} }] }), ['shop'], world([pg], [])).monitors[0]?.waiting
        ?.message,
    ).toBe('postgresql acid-orders is not ready: PostgresClusterStatus "Creating"');
  });

  test('labelled Secrets: as the Secret says (no host override), named after the Secret', () => {
    const s: [SourceKind, SourceObject] = [
      SourceKinds.secret,
      { metadata: { namespace: 'shop', name: 'legacy-db', uid: 's', labels: { 'dbwatch.dev/monitor': 'true' } } },
    ];
    const { monitors } = desiredMonitors(
      owner,
      spec({ sources: [{ secrets: { selector: { matchLabels: { 'dbwatch.dev/monitor': 'true' } } } }] }),
      ['shop'],
      world([s], ['shop/legacy-db']),
    );
    expect(monitors[0]?.name).toBe('legacy-db');
    expect(monitors[0]?.spec.connection.host).toBeUndefined();
    expect(monitors[0]?.ownerReferences[0]).toEqual({ apiVersion: 'v1', kind: 'Secret', name: 'legacy-db', uid: 's' });
  });

  test('examples/discovery.yaml is a valid DatabaseDiscovery', () => {
    const parsed = databaseDiscoverySchema.safeParse(load(readFileSync('examples/discovery.yaml', 'utf8')));
    expect(parsed.error?.issues ?? []).toEqual([]);
  });

  test('exactly one kind per source, and placeholders a source does not know are refused by the schema', () => {
    expect(databaseDiscoverySpecSchema.safeParse({ sources: [{ cloudNativePG: {}, crunchy: {} }] }).success).toBe(
      false,
    );
    expect(databaseDiscoverySpecSchema.safeParse({ sources: [{}] }).success).toBe(false);
    expect(
      databaseDiscoverySpecSchema.safeParse({ sources: [{ secrets: { selector: {}, host: '$(service)' } }] }).success,
    ).toBe(false);
    expect(
      databaseDiscoverySpecSchema.safeParse({ sources: [{ cloudNativePG: { host: '$(service).x' } }] }).success,
    ).toBe(true);
  });
});

describe('plan: only what differs is written', () => {
  const cnpg = spec({ sources: [{ cloudNativePG: {} }], template: { interval: '1m' } });
  const desired = (): DesiredMonitor[] =>
    desiredMonitors(owner, cnpg, ['shop'], world([cluster('shop', 'orders')], ['shop/orders-app'])).monitors;
  /** As the API server stores it: the same content, fields in another order, defaults filled in. */
  const stored = (d: DesiredMonitor): ExistingMonitor => ({
    metadata: {
      namespace: d.namespace,
      name: d.name,
      uid: 'm-uid',
      resourceVersion: '7',
      labels: { ...d.labels, extra: 'kept' },
      annotations: d.annotations,
      ownerReferences: [...d.ownerReferences].reverse(),
    },
    spec: JSON.parse(JSON.stringify(Object.fromEntries(Object.entries(d.spec).reverse()))),
  });
  const plan = (existing: ExistingMonitor[], keep = () => false) =>
    planMonitors({
      owner,
      desired: desired(),
      lookup: (ns, n) => existing.find((m) => m.metadata?.namespace === ns && m.metadata?.name === n),
      owned: existing.filter((m) => m.metadata?.labels?.['dbwatch.dev/discovery'] === 'all-postgres'),
      keep,
    });

  test('nothing exists: one create; exists as desired: no write at all', () => {
    expect(plan([]).create.map((d) => d.name)).toEqual(['orders']);
    const steady = plan([stored(desired()[0]!)]);
    expect(steady).toMatchObject({ create: [], update: [], remove: [], unchanged: 1 });
  });

  test('a changed template or a spec edited by hand is an update', () => {
    const edited = stored(desired()[0]!);
    (edited.spec as { interval: string }).interval = '10m';
    expect(plan([edited]).update).toHaveLength(1);
  });

  test('a monitor of the same name this discovery did not create is a clash, never written', () => {
    const mine = stored(desired()[0]!);
    const handMade = { ...mine, metadata: { ...mine.metadata, labels: {} } };
    const p = plan([handMade]);
    expect(p).toMatchObject({ create: [], update: [], remove: [], clashes: 1 });
    expect(p.problems[0]).toMatchObject({ reason: 'NameClash', monitor: 'orders', source: 'Cluster/shop/orders' });
  });

  test('an owned monitor nobody wants any more is removed, unless its source cannot be seen now', () => {
    const gone = stored(desired()[0]!);
    gone.metadata!.name = 'deleted-cluster';
    expect(plan([gone]).remove.map((m) => m.metadata?.name)).toEqual(['deleted-cluster']);
    expect(plan([gone], () => true).remove).toEqual([]);
  });

  test('a source that is not ready keeps its existing monitor (failover) but gets none while it has none', () => {
    const d = desired();
    const notReady = desiredMonitors(
      owner,
      cnpg,
      ['shop'],
      world([cluster('shop', 'orders', { phase: 'Failing over' })], ['shop/orders-app']),
    ).monitors;
    const existing = [stored(d[0]!)];
    const p = planMonitors({ owner, desired: notReady, lookup: () => existing[0], owned: existing, keep: () => false });
    expect(p).toMatchObject({ create: [], update: [], remove: [], unchanged: 1, waiting: 0 });
    const none = planMonitors({ owner, desired: notReady, lookup: () => undefined, owned: [], keep: () => false });
    expect(none).toMatchObject({ create: [], waiting: 1 });
  });
});

describe('status and helpers', () => {
  const now = new Date('2026-12-05T10:00:00Z');
  test('Ready says what blocks it, most serious first', () => {
    const base = { discovered: 3, created: 2, waiting: 1, failed: 0, unavailable: [], problems: [] };
    const waiting = discoveryStatus(
      undefined,
      {
        ...base,
        problems: [
          { source: 'Cluster/shop/boot', reason: 'SourceNotReady', message: 'Cluster boot is not ready: phase "x"' },
        ],
      },
      2,
      now,
    );
    expect(waiting).toMatchObject({ observedGeneration: 2, discovered: 3, created: 2, waiting: 1, failed: 0 });
    expect(waiting.conditions?.find((c) => c.type === 'Ready')).toMatchObject({
      status: 'False',
      reason: 'Waiting',
      message: '1 database not ready yet; first: Cluster boot is not ready: phase "x"',
    });
    const all = discoveryStatus(waiting, { ...base, created: 3, waiting: 0 }, 2, now);
    expect(all.conditions?.find((c) => c.type === 'Ready')).toMatchObject({
      status: 'True',
      reason: 'AllMonitored',
      message: '3 databases monitored',
    });
    expect(all.problems).toBeUndefined();
    const invalid = discoveryStatus(
      all,
      { ...base, counted: false, stalled: { reason: 'InvalidSpec', message: 'spec.sources: bad' } },
      3,
      now,
    );
    expect(invalid.discovered).toBeUndefined();
    expect(invalid.conditions?.find((c) => c.type === 'Stalled')).toMatchObject({
      status: 'True',
      reason: 'InvalidSpec',
    });
  });

  test('label selectors follow metav1 semantics; long label values end in a hash', () => {
    const labels = { team: 'a', tier: 'db' };
    expect(matchesSelector(labels, {})).toBe(true);
    expect(matchesSelector(labels, { matchLabels: { team: 'a' } })).toBe(true);
    expect(matchesSelector(labels, { matchLabels: { team: 'b' } })).toBe(false);
    expect(matchesSelector(labels, { matchExpressions: [{ key: 'tier', operator: 'In', values: ['db'] }] })).toBe(true);
    expect(matchesSelector(labels, { matchExpressions: [{ key: 'x', operator: 'NotIn', values: ['db'] }] })).toBe(true);
    expect(matchesSelector(labels, { matchExpressions: [{ key: 'x', operator: 'Exists' }] })).toBe(false);
    expect(matchesSelector(undefined, { matchExpressions: [{ key: 'x', operator: 'DoesNotExist' }] })).toBe(true);
    const long = 'a'.repeat(80);
    expect(labelValue(long)).toHaveLength(63);
    expect(labelValue(long)).not.toBe(labelValue(`${long}b`));
    expect(labelValue('short')).toBe('short');
  });
});
