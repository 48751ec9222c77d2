import { describe, expect, test } from '@jest/globals';
import { databaseMonitorSpecSchema } from '../../src/api/index.js';
import type { MonitorReport } from '../../src/checks/monitor.js';
import { nextStreak } from '../../src/controller/monitor/debounce.js';
import { gateState } from '../../src/controller/prerequisite/gate.js';
import { setConditions } from '../../src/controller/status/conditions.js';
import { decideStatusWrite } from '../../src/controller/status/status-writes.js';
import { checkedStatus, healthReport, stalledStatus, suspendedStatus } from '../support/monitor-report.js';

const spec = (thresholds: object = {}) =>
  databaseMonitorSpecSchema.parse({ engine: 'postgres', connection: { secretRef: { name: 'db' } }, thresholds });
const t0 = new Date('2026-01-01T00:00:00Z');
const later = (s: number) => new Date(t0.getTime() + s * 1000);

const report = healthReport;

describe('conditions', () => {
  test('lastTransitionTime moves only when status flips', () => {
    const first = setConditions(undefined, [{ type: 'Ready', status: 'True', reason: 'Healthy', message: 'a' }], 1, t0);
    const same = setConditions(
      first,
      [{ type: 'Ready', status: 'True', reason: 'Healthy', message: 'b' }],
      2,
      later(60),
    );
    const flipped = setConditions(
      same,
      [{ type: 'Ready', status: 'False', reason: 'Unhealthy', message: 'c' }],
      2,
      later(120),
    );
    expect(same[0]).toMatchObject({ lastTransitionTime: t0.toISOString(), message: 'b', observedGeneration: 2 });
    expect(flipped[0]?.lastTransitionTime).toBe(later(120).toISOString());
  });
});

describe('debouncing', () => {
  const thresholds = spec({ failureThreshold: 3, successThreshold: 2 }).thresholds;
  test('unhealthy only after failureThreshold failures in a row; healthy after successThreshold', () => {
    let streak = nextStreak({ consecutiveFailures: 0, consecutiveSuccesses: 0 }, 'healthy', thresholds);
    const seen: (string | undefined)[] = [];
    for (const observed of ['unhealthy', 'unhealthy', 'unhealthy', 'healthy', 'healthy'] as const) {
      streak = nextStreak(streak, observed, thresholds);
      seen.push(streak.reported);
    }
    expect(seen).toEqual(['healthy', 'healthy', 'unhealthy', 'unhealthy', 'healthy']);
  });
});

describe('monitor status', () => {
  test('first healthy check: Ready True, Healthy event', () => {
    const { status, events } = checkedStatus({
      previous: undefined,
      report: report('healthy'),
      spec: spec(),
      generation: 1,
      now: t0,
    });
    expect(status.conditions?.find((c) => c.type === 'Ready')).toMatchObject({ status: 'True', reason: 'Healthy' });
    expect(status).toMatchObject({
      status: 'healthy',
      observedGeneration: 1,
      consecutiveFailures: 0,
      lastSuccessTime: t0.toISOString(),
    });
    expect(events).toEqual([{ type: 'Normal', reason: 'Healthy', message: 'Database is healthy' }]);
  });

  test('healthy → unhealthy → healthy emits Unhealthy then Recovered, Connected carries the cause', () => {
    const first = checkedStatus({
      previous: undefined,
      report: report('healthy'),
      spec: spec(),
      generation: 1,
      now: t0,
    });
    const down = checkedStatus({
      previous: first.status,
      report: report('unhealthy'),
      spec: spec(),
      generation: 1,
      now: later(60),
    });
    expect(down.events.map((e) => e.reason)).toEqual(['Unhealthy']);
    expect(down.status.conditions?.find((c) => c.type === 'Connected')).toMatchObject({
      status: 'False',
      reason: 'ConnectionRefused',
    });
    expect(down.status.lastSuccessTime).toBe(t0.toISOString());
    const again = checkedStatus({
      previous: down.status,
      report: report('unhealthy'),
      spec: spec(),
      generation: 1,
      now: later(120),
    });
    expect(again.events).toEqual([]);
    const up = checkedStatus({
      previous: again.status,
      report: report('healthy'),
      spec: spec(),
      generation: 1,
      now: later(180),
    });
    expect(up.events.map((e) => e.reason)).toEqual(['Recovered']);
  });

  test('pending migrations appear once as MigrationsPending', () => {
    const migrationStatus = {
      tool: 'flyway',
      table: 't',
      currentVersion: '1',
      appliedCount: 1,
      pendingMigrations: ['2'],
      failedMigrations: [],
    };
    const first = checkedStatus({
      previous: undefined,
      report: report('degraded', { migrationStatus }),
      spec: spec(),
      generation: 1,
      now: t0,
    });
    expect(first.events.map((e) => e.reason)).toEqual(['Degraded', 'MigrationsPending']);
    expect(first.status.conditions?.find((c) => c.type === 'MigrationsApplied')).toMatchObject({
      status: 'False',
      reason: 'MigrationsPending',
    });
    const second = checkedStatus({
      previous: first.status,
      report: report('degraded', { migrationStatus }),
      spec: spec(),
      generation: 1,
      now: later(60),
    });
    expect(second.events).toEqual([]);
  });

  test('stalled shows no health it has not measured, says why, and emits one event per distinct message', () => {
    const healthy = checkedStatus({
      previous: undefined,
      report: report('healthy'),
      spec: spec(),
      generation: 1,
      now: t0,
    }).status;
    const stalled = stalledStatus(healthy, 'SecretNotFound', 'Secret db not found in this namespace', 2, later(5));
    // History (last success, availability record) stays; no measurement does. The transition's Event goes with it.
    expect(stalled.status).toEqual({
      observedGeneration: 2,
      lastSuccessTime: t0.toISOString(),
      availability: healthy.availability,
      conditions: expect.any(Array),
      transitionEvents: { at: later(5).toISOString(), events: stalled.events },
    });
    expect(stalled.status.conditions?.map((c) => c.type)).toEqual(['Ready', 'Stalled', 'Reconciling']);
    expect(stalled.status.conditions?.find((c) => c.type === 'Ready')).toMatchObject({
      status: 'False',
      reason: 'SecretNotFound',
      lastTransitionTime: later(5).toISOString(),
    });
    expect(stalled.status.conditions?.find((c) => c.type === 'Stalled')).toMatchObject({
      status: 'True',
      reason: 'SecretNotFound',
    });
    expect(stalled.events).toHaveLength(1);
    const still = stalledStatus(stalled.status, 'SecretNotFound', 'Secret db not found in this namespace', 2, later(9));
    expect(still.events).toEqual([]);
    // No transition, nothing to record: the next write (if any) clears the Events of the last one.
    expect(still.status.transitionEvents).toBeUndefined();
  });
});

describe('status is recomputed, not carried', () => {
  const perfSpec = (performance: object | undefined) =>
    databaseMonitorSpecSchema.parse({
      engine: 'postgres',
      connection: { secretRef: { name: 'db' } },
      checks: performance ? { performance } : {},
    });
  const performance = {
    connectionMetrics: { attempts: 1, successfulConnections: 1 },
    queryPerformance: [],
    poolEfficiency: { acquireMs: 1 },
    overallAssessment: { performanceRating: 'good', apdex: 0.9, targetMs: 100 },
    recommendations: [],
  } as unknown as NonNullable<MonitorReport['performance']>;

  test('performance results stay between their runs, and go with their condition once checks.performance is removed', () => {
    const measured = checkedStatus({
      previous: undefined,
      report: { ...report('healthy'), performance },
      spec: perfSpec({}),
      generation: 1,
      now: t0,
    }).status;
    expect(measured.conditions?.find((c) => c.type === 'PerformanceWithinTarget')?.status).toBe('True');
    const between = checkedStatus({
      previous: measured,
      report: report('healthy'),
      spec: perfSpec({}),
      generation: 1,
      now: later(60),
    }).status;
    expect(between.performance).toEqual(performance);
    expect(between.lastPerformanceTime).toBe(t0.toISOString());
    const removed = checkedStatus({
      previous: between,
      report: report('healthy'),
      spec: perfSpec(undefined),
      generation: 2,
      now: later(120),
    }).status;
    expect(removed.performance).toBeUndefined();
    expect(removed.lastPerformanceTime).toBeUndefined();
    expect(removed.conditions?.map((c) => c.type)).not.toContain('PerformanceWithinTarget');
  });

  test('a suspended monitor claims no health: Ready Unknown, no results', () => {
    const healthy = checkedStatus({
      previous: undefined,
      report: report('healthy'),
      spec: spec(),
      generation: 1,
      now: t0,
    }).status;
    const suspended = suspendedStatus(healthy, 2, later(5));
    expect(suspended.status).toBeUndefined();
    expect(suspended.health).toBeUndefined();
    expect(suspended.conditions?.find((c) => c.type === 'Ready')).toMatchObject({
      status: 'Unknown',
      reason: 'Suspended',
    });
    expect(suspended.conditions?.map((c) => c.type)).not.toContain('Connected');
  });
});

describe('status write damping', () => {
  const first = checkedStatus({
    previous: undefined,
    report: report('healthy'),
    spec: spec(),
    generation: 1,
    now: t0,
  }).status;
  test('only timings changed: no write until the heartbeat is due', () => {
    const next = checkedStatus({
      previous: first,
      report: report('healthy', { responseTimeMs: 9 }),
      spec: spec(),
      generation: 1,
      now: later(10),
    }).status;
    expect(decideStatusWrite(first, next, 10_000, later(10))).toEqual({ write: false, why: 'unchanged' });
    expect(decideStatusWrite(first, next, 10_000, later(290))).toEqual({ write: true, why: 'heartbeat' });
  });

  test('a database that stays down is written at its first failure, at the threshold and on the heartbeat only', () => {
    const thresholds = spec({ failureThreshold: 3 });
    let written = first;
    let writtenAt = 0;
    const whys: string[] = [];
    let last = first;
    // 60 checks 10 s apart (10 minutes), all failing. Each pass sees only the status as last written; the
    // checks since then (one per slot) are added back from the schedule.
    for (let i = 1; i <= 60; i++) {
      const next = checkedStatus({
        previous: written,
        report: report('unhealthy'),
        spec: thresholds,
        generation: 1,
        now: later(10 * i),
        unwrittenChecks: i - writtenAt - 1,
      }).status;
      const decision = decideStatusWrite(written, next, 10_000, later(10 * i));
      if (decision.write) {
        whys.push(`${i}:${decision.why}:${next.status}:${next.consecutiveFailures}`);
        written = next;
        writtenAt = i;
      }
      last = next;
    }
    expect(last.consecutiveFailures).toBe(60);
    expect(last.availability?.hours[0]).toMatchObject({ checks: 61, available: 1 });
    expect(whys).toEqual([
      '1:changed:healthy:1', // raw health turned unhealthy; Ready still True (debounced)
      '3:changed:unhealthy:3', // failureThreshold crossed, counted from the written 1 and the unwritten check 2
      '32:heartbeat:unhealthy:32', // lastCheckTime would otherwise grow older than 5 min
    ]);
  });

  test('a changed status writes at once', () => {
    const next = checkedStatus({
      previous: first,
      report: report('degraded'),
      spec: spec(),
      generation: 1,
      now: later(10),
    }).status;
    expect(decideStatusWrite(first, next, 10_000, later(10)).why).toBe('changed');
  });
});

describe('prerequisite gate', () => {
  test('waits through not-found and unobserved generations, opens on Ready=True', () => {
    expect(gateState(undefined, 'p').message).toMatch(/does not exist/);
    expect(gateState({ metadata: { generation: 2 }, status: { observedGeneration: 1 } }, 'p').ready).toBe(false);
    const ready = {
      metadata: { generation: 2 },
      status: {
        observedGeneration: 2,
        conditions: [
          { type: 'Ready', status: 'True' as const, reason: 'Passed', message: 'ok', lastTransitionTime: '' },
        ],
      },
    };
    expect(gateState(ready, 'p')).toEqual({ ready: true, message: 'ok' });
  });
});

describe('write damping against the status as the API server returns it', () => {
  test('the same status with its keys in another order is not a change', () => {
    const now = new Date('2026-01-01T00:00:10Z');
    const at = '2026-01-01T00:00:00Z';
    const written = { status: 'healthy', lastCheckTime: at, health: { queryTest: true, connection: true } };
    const fromServer = { health: { connection: true, queryTest: true }, lastCheckTime: at, status: 'healthy' };
    expect(decideStatusWrite(fromServer, written, 10_000, now).write).toBe(false);
  });
});
