import { existsSync, readFileSync, statSync } from 'node:fs';
import { describe, expect, test } from '@jest/globals';
import { EXIT_CODE } from '../../src/checks/summary.js';
import { envelope } from '../../src/cli/output.js';
import { type ListedObject, summarizeCluster as summarized, summarizeMonitor } from '../../src/cli/summary-cluster.js';
import { humanDuration } from '../../src/cli/summary-cluster-age.js';
import { parseSummaryFlags } from '../../src/cli/summary-cluster-flags.js';
import { renderSummary } from '../../src/cli/summary-render.js';
import { type MonitorState, monitorSpec, monitorStatus } from '../support/summary-states.js';

const now = new Date('2026-03-01T12:00:00Z');

/** The summary with the entries it is about, flat for assertions. */
function summarizeCluster(input: Parameters<typeof summarized>[0]) {
  const { summary, databases, prerequisites } = summarized(input);
  return { ...summary, databases, prerequisites };
}
const exitCodeForSummary = (status: keyof typeof EXIT_CODE) => EXIT_CODE[status];
const ago = (minutes: number) => new Date(now.getTime() - minutes * 60_000);

function monitor(name: string, state: MonitorState | 'new', checkedMinutesAgo = 0, namespace = 'shop'): ListedObject {
  return {
    metadata: { name, namespace, generation: 1, creationTimestamp: ago(120).toISOString() },
    spec: { ...monitorSpec('30s'), ...(state === 'suspended' ? { suspend: true } : {}) },
    ...(state === 'new' ? {} : { status: monitorStatus(state, ago(checkedMinutesAgo), '30s', ago(60)) }),
  } as ListedObject;
}

const prerequisite = (name: string, overallStatus: string, message: string): ListedObject => ({
  metadata: { name, namespace: 'shop', generation: 1 },
  spec: { databases: [{ name: 'orders', monitorRef: { name: 'orders' } }] },
  status: {
    overallStatus,
    observedGeneration: 1,
    lastCheckTime: ago(0.5).toISOString(),
    conditions: [
      {
        type: 'Ready',
        status: overallStatus === 'passed' ? 'True' : 'False',
        reason: overallStatus === 'passed' ? 'Passed' : 'Failed',
        message,
        lastTransitionTime: ago(10).toISOString(),
      },
    ],
  },
});

describe('cluster summary from listed status', () => {
  test('worst case wins; unhealthy and degraded come first with the failing condition as reason', () => {
    const summary = summarizeCluster({
      monitors: [monitor('a-orders', 'healthy'), monitor('b-ledger', 'degraded'), monitor('c-payments', 'unhealthy')],
      prerequisites: [],
      now,
    });
    expect(summary.overallStatus).toBe('unhealthy');
    expect(summary.statusBreakdown).toEqual({ healthy: 1, degraded: 1, unhealthy: 1, unknown: 0 });
    expect(summary.databases.map((d) => [d.name, d.status, d.reason])).toEqual([
      ['c-payments', 'unhealthy', 'WrongPassword'],
      ['b-ledger', 'degraded', 'MigrationsPending'],
      ['a-orders', 'healthy', 'Healthy'],
    ]);
    expect(summary.databases[0]).toMatchObject({
      message: 'cannot connect: password authentication failed for user "app"',
      since: ago(60).toISOString(),
    });
    expect(summary.alerts).toEqual([
      'shop/c-payments: unhealthy: cannot connect: password authentication failed for user "app"',
      'shop/b-ledger: degraded: 1 pending migration(s): 2',
    ]);
    expect(summary.recommendations).toEqual([
      'shop/c-payments: The server rejected the password for user app: update the password key in the Secret',
    ]);
    expect(exitCodeForSummary(summary.overallStatus)).toBe(2);
  });

  test('no check written within 2 × max(interval, 5 min heartbeat) is stale: unknown, with the last status kept', () => {
    // Interval 30 s: the operator rewrites an unchanged status only every 5 min, so 9 min is still current.
    expect(summarizeMonitor(monitor('orders', 'healthy', 9), now)).toMatchObject({
      status: 'healthy',
      checkState: 'current',
    });
    const stale = summarizeMonitor(monitor('orders', 'healthy', 25), now);
    expect(stale).toMatchObject({ status: 'unknown', checkState: 'stale', lastStatus: 'healthy', reason: 'Stale' });
    expect(stale.message).toBe('no check written for 25m (expected within 10m); last status healthy');
  });

  test('stale and stalled monitors make the overall status degraded and are called out', () => {
    const summary = summarizeCluster({
      monitors: [monitor('orders', 'healthy'), monitor('ledger', 'healthy', 25), monitor('billing', 'stalled')],
      prerequisites: [],
      now,
    });
    expect(summary.overallStatus).toBe('degraded');
    expect(summary.statusBreakdown).toEqual({ healthy: 1, degraded: 0, unhealthy: 0, unknown: 2 });
    expect(summary.unknownBreakdown).toEqual({ stale: 1, stalled: 1 });
    expect(summary.alerts).toEqual([
      'shop/billing: stalled (SecretNotFound): cannot be checked: Secret db not found in this namespace',
      'shop/ledger: stale: no check written for 25m (expected within 10m); last status healthy',
    ]);
    expect(summary.recommendations).toContain(
      'shop/billing: fix the spec or Secret the alert names; the monitor resumes without a restart',
    );
    expect(summary.recommendations.some((r) => r.startsWith('Stale: check that the dbwatch operator is running'))).toBe(
      true,
    );
    expect(exitCodeForSummary(summary.overallStatus)).toBe(1);
  });

  test('suspended and not-yet-checked monitors are unknown but do not change the overall status', () => {
    const fresh = {
      ...monitor('new', 'new'),
      metadata: { name: 'new', namespace: 'shop', creationTimestamp: ago(1).toISOString() },
    };
    const summary = summarizeCluster({
      monitors: [monitor('orders', 'healthy'), monitor('paused', 'suspended'), fresh],
      prerequisites: [],
      now,
    });
    expect(summary.overallStatus).toBe('healthy');
    expect(summary.unknownBreakdown).toEqual({ pending: 1, suspended: 1 });
    expect(summary.databases.find((d) => d.name === 'paused')).toMatchObject({
      checkState: 'suspended',
      reason: 'Suspended',
    });
    expect(summary.recommendations).toEqual(['All databases are healthy']);
  });

  test('a monitor never checked for longer than the staleness limit since creation is stale', () => {
    expect(summarizeMonitor(monitor('orders', 'new'), now)).toMatchObject({
      checkState: 'stale',
      message: 'never checked since creation 120m ago (expected within 10m)',
    });
  });

  test('a status value it does not know (e.g. unknown) or no status at all is no health, never a crash', () => {
    const odd = monitor('orders', 'healthy');
    (odd.status as { status: string }).status = 'unknown';
    expect(summarizeMonitor(odd, now)).toMatchObject({ status: 'unknown', checkState: 'pending' });
    expect(summarizeMonitor({ metadata: { name: 'bare', namespace: 'x' } }, now)).toMatchObject({
      status: 'unknown',
      checkState: 'pending',
      reason: 'Progressing',
    });
  });

  test("a Ready monitor keeps Ready's reason even beside another False condition", () => {
    const healthy = monitor('orders', 'healthy');
    healthy.status!.conditions!.push({
      type: 'SLOMet',
      status: 'False',
      reason: 'ErrorBudgetExhausted',
      message: '99.1% over 7 d < 99.5%',
      lastTransitionTime: ago(1).toISOString(),
    });
    expect(summarizeMonitor(healthy, now)).toMatchObject({ status: 'healthy', reason: 'Healthy' });
  });

  test('a status measured for an older generation says so', () => {
    const changed = monitor('orders', 'healthy');
    changed.metadata!.generation = 2;
    expect(summarizeMonitor(changed, now).message).toBe(
      'Database is healthy (measured for generation 1; generation 2 not checked yet)',
    );
  });

  test('only pending or suspended monitors, or nothing at all: overall unknown, exit 1', () => {
    const summary = summarizeCluster({ monitors: [monitor('paused', 'suspended')], prerequisites: [], now });
    expect(summary.overallStatus).toBe('unknown');
    expect(exitCodeForSummary('unknown')).toBe(1);
    expect(summarizeCluster({ monitors: [], prerequisites: [], now }).overallStatus).toBe('unknown');
  });

  test('a failed prerequisite makes the overall status unhealthy and is an alert', () => {
    const summary = summarizeCluster({
      monitors: [monitor('orders', 'healthy')],
      prerequisites: [prerequisite('orders-ready', 'failed', 'orders: pending migrations: 2')],
      now,
    });
    expect(summary.overallStatus).toBe('unhealthy');
    expect(summary.prerequisites[0]).toMatchObject({ status: 'failed', reason: 'Failed', checkState: 'current' });
    expect(summary.alerts).toEqual(['shop/orders-ready: prerequisite failed: orders: pending migrations: 2']);
  });
});

describe('cluster summary table', () => {
  test('headline, problems first, NAMESPACE column only across namespaces, ages like kubectl', () => {
    const result = summarized({
      monitors: [
        monitor('orders', 'healthy'),
        monitor('payments', 'unhealthy', 0, 'pay'),
        monitor('ledger', 'healthy', 25),
      ],
      prerequisites: [prerequisite('orders-ready', 'failed', 'orders: pending migrations: 2')],
      now,
    });
    const all = renderSummary(envelope('HealthSummary', 'cluster', result), now).split('\n');
    // Every count the verdict rests on: an unhealthy overall status never sits beside "0 unhealthy" alone.
    expect(all[0]).toBe(
      'Overall: unhealthy  all namespaces: 3 databases: 1 healthy, 0 degraded, 1 unhealthy, 1 unknown (1 stale); 1 prerequisite: 0 passed, 0 warning, 1 failed',
    );
    expect(all[2]).toMatch(/^NAMESPACE\s+DATABASE\s+STATUS\s+REASON\s+RESPONSE\s+AGE\s+REPORTED\s+MESSAGE$/);
    expect(all[3]).toMatch(/^pay\s+payments\s+unhealthy\s+WrongPassword\s+-\s+60m\s+0s\s+cannot connect/);
    expect(all[4]).toMatch(/^shop\s+ledger\s+stale\s+Stale\s+-\s+60m\s+25m\s+no check written/);
    expect(all[5]).toMatch(/^shop\s+orders\s+healthy\s+Healthy\s+4ms\s+60m\s+0s\s+Database is healthy$/);
    expect(all).toContain('Alerts:');
    const one = renderSummary(envelope('HealthSummary', 'cluster', result, 'shop'), now);
    expect(one.split('\n')[2]).toMatch(/^DATABASE\s+STATUS/);
  });

  test('a sharded operator: a SHARD column names the replica that owns each object', () => {
    const owned = (m: ListedObject, shard: string) => ({ ...m, status: { ...m.status, shard } }) as ListedObject;
    const result = summarized({
      monitors: [
        owned(monitor('orders', 'healthy'), 'dbwatch-0'),
        owned(monitor('payments', 'unhealthy'), 'dbwatch-2'),
      ],
      prerequisites: [],
      now,
    });
    expect(result.databases.map((d) => d.shard)).toEqual(['dbwatch-2', 'dbwatch-0']);
    const lines = renderSummary(envelope('HealthSummary', 'cluster', result, 'shop'), now).split('\n');
    expect(lines[2]).toMatch(/^DATABASE\s+STATUS\s+REASON\s+RESPONSE\s+AGE\s+REPORTED\s+SHARD\s+MESSAGE$/);
    expect(lines[3]).toMatch(/^payments\s+unhealthy\s+WrongPassword\s+-\s+60m\s+0s\s+dbwatch-2\s+cannot connect/);
    expect(lines[4]).toMatch(/^orders\s+healthy\s+Healthy\s+4ms\s+60m\s+0s\s+dbwatch-0\s+Database/);
  });

  test('humanDuration prints ages the way kubectl does', () => {
    expect(
      [5_000, 119_000, 200_000, 600_000, 4 * 3_600_000 + 60_000, 30 * 3_600_000, 3 * 86_400_000 + 7_200_000].map(
        humanDuration,
      ),
    ).toEqual(['5s', '119s', '3m20s', '10m', '4h1m', '30h', '3d2h']);
  });
});

describe('summary flags', () => {
  test('-f with --cluster, cluster flags without --cluster, -n with -A, and neither source are bad flags', () => {
    expect(parseSummaryFlags({ filename: ['x.yaml'], cluster: true })).toMatchObject({ ok: false });
    expect(parseSummaryFlags({ filename: ['x.yaml'], allNamespaces: true })).toEqual({
      ok: false,
      message: '-A requires --cluster',
    });
    expect(parseSummaryFlags({ cluster: true, namespace: 'a', allNamespaces: true })).toMatchObject({ ok: false });
    expect(parseSummaryFlags({ filename: [] })).toMatchObject({ ok: false });
  });

  test('--cluster with a namespace, selector and kubeconfig gives the scope to read', () => {
    expect(parseSummaryFlags({ cluster: true, namespace: 'shop', selector: 'team=a', kubeconfig: '/k' })).toEqual({
      ok: true,
      source: 'cluster',
      scope: { allNamespaces: false, namespace: 'shop', selector: 'team=a', kubeconfig: '/k' },
    });
    expect(parseSummaryFlags({ filename: ['x.yaml'] })).toEqual({ ok: true, source: 'files', files: ['x.yaml'] });
  });
});

describe('kubectl plugin packaging', () => {
  test('the package installs kubectl-dbwatch from dist, and a checkout runs it without building', () => {
    const pkg = JSON.parse(readFileSync('package.json', 'utf8'));
    expect(pkg.bin['kubectl-dbwatch']).toBe('dist/cli/kubectl-plugin.js');
    expect(readFileSync('src/cli/kubectl-plugin.ts', 'utf8').startsWith('#!/usr/bin/env node\n')).toBe(true);
    expect(existsSync('hack/bin/kubectl-dbwatch')).toBe(true);
    expect(statSync('hack/bin/kubectl-dbwatch').mode & 0o111).not.toBe(0);
  });
});
