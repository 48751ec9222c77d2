import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { isDeepStrictEqual } from 'node:util';
import { afterAll, beforeAll, describe, expect, test } from '@jest/globals';
import type { DatabaseMonitorStatus } from '../../../src/api/index.js';
import { KubeApiError } from '../../../src/controller/k8s/api-errors.js';
import { connectKube, type KubeApi } from '../../../src/controller/k8s/client.js';
import { type ApfThrottle, apfThrottle } from '../../support/apf.js';
import {
  type ControlPlane,
  pidOf,
  removeControlPlane,
  startApiServerAgain,
  startControlPlane,
} from '../../support/control-plane.js';
import { freePort } from '../../support/free-port.js';
import { ensureCrds, kubectl } from '../../support/kube.js';
import { type LeadershipChange, maxLeaders } from '../../support/leadership.js';
import { eventually, operatorUserOn } from '../../support/operator.js';
import { type OperatorProcess, startOperatorProcess } from '../../support/operator-process.js';
import { type PostgresServer, startPostgres } from '../../support/postgres-server.js';
import { condition } from '../../support/resources.js';

/*
 * Kubernetes misbehaving while the databases change, on a control plane of this file's own (API Priority and
 * Fairness on), with two operator processes electing a leader as the operator's user (bound to exactly the
 * shipped roles), 24 monitors on 1 s intervals. In sequence: kube-apiserver frozen (SIGSTOP) for 20 s — longer
 * than a Lease; etcd frozen for 20 s; kube-apiserver killed (SIGKILL) and started again with the same
 * arguments; the operator's user throttled by APF (real 429s with Retry-After) for 20 s. During each fault one
 * group of monitors' database breaks and the group broken by the fault before is fixed, so the status of 10
 * monitors must change across it. After each fault, as a user would check:
 *  - no stack trace in either process's output (expected errors are one line);
 *  - exactly one leader: the Lease holder is the only process with dbwatch_leader 1 and the only one checking;
 *    the leadership timelines of every process (from their logs) never overlap;
 *  - every monitor's status and Ready true to its database within RECOVERY_BOUND_MS of the fault's end, and
 *    every monitor checked again after it;
 *  - each monitor's transition Events exactly once: Healthy, then Unhealthy and Recovered for each outage.
 * A replica that gives up leadership exits (as client-go's do); it is started again as the kubelet would.
 */

/** The stated bound: from a fault's end to every monitor's status true to its database. */
const RECOVERY_BOUND_MS = 10_000;
/** Freezes and throttling last longer than a Lease (15 s): the leader must give it up, and one must lead after. */
const FAULT_MS = 20_000;
/** Into the fault, the databases change: the operator's checks see it while Kubernetes cannot take the status. */
const CHANGE_AFTER_MS = 2000;

/** Each group has its own database and login; each fault (but the first) fixes one and breaks the next. */
const GROUPS = {
  steady: 4, // never changes
  apiFrozen: 5, // on its own server: stopped during the kube-apiserver freeze, started during the etcd freeze
  etcdFrozen: 5, // login refused during the etcd freeze, allowed again while kube-apiserver is down
  apiKilled: 5, // login refused while kube-apiserver is down, allowed again while APF throttles
  throttled: 5, // login refused while APF throttles, allowed again after
} as const;
type Group = keyof typeof GROUPS;
const groups = Object.keys(GROUPS) as Group[];

const ns = 'kube-faults';
const LEASE = 'dbwatch-operator';
const REPLICAS = ['operator-a', 'operator-b'] as const;

let cp: ControlPlane;
let api: KubeApi;
let apf: ApfThrottle;
let serverA: PostgresServer;
let serverB: PostgresServer;
let operatorKubeconfig: string;
/** The processes' logs: removed when every test passed, else kept (and named) for the post-mortem. */
const logDir = mkdtempSync(join(tmpdir(), 'dbwatch-kube-faults-logs-'));
let failed = false;

/** What each group's database is now; which groups were broken, and fixed, so far. */
const healthy = Object.fromEntries(groups.map((g) => [g, true])) as Record<Group, boolean>;
const broken = new Set<Group>();
const fixed = new Set<Group>();

const role = (g: Group) => `${g.toLowerCase()}_watcher`;
const database = (g: Group) => g.toLowerCase();
const serverOf = (g: Group) => (g === 'apiFrozen' ? serverB : serverA);
const monitorsOf = (g: Group) => Array.from({ length: GROUPS[g] }, (_, i) => `${g.toLowerCase()}-${i}`);
const groupOf = (monitor: string) => groups.find((g) => monitor.startsWith(`${g.toLowerCase()}-`))!;
const allMonitors = groups.flatMap(monitorsOf);

// --- the operator processes, started again when they exit (as the kubelet restarts a container) ---

interface Replica {
  name: (typeof REPLICAS)[number];
  metricsPort: number;
  /** One log file per start: incarnation n writes `<name>-<n>.log`. */
  logs: string[];
  process?: OperatorProcess;
  exits: { at: number; code: number | null; log: string }[];
}
const replicas: Replica[] = [];
let stopping = false;

async function startReplica(r: Replica): Promise<void> {
  const logFile = join(logDir, `${r.name}-${r.logs.length + 1}.log`);
  r.logs.push(logFile);
  const proc = await startOperatorProcess(ns, {
    kubeconfig: operatorKubeconfig,
    metricsPort: r.metricsPort,
    logFile,
    env: {
      LEADER_ELECT: 'true',
      LEADER_ELECTION_NAMESPACE: ns,
      POD_NAME: r.name,
      SHUTDOWN_GRACE_SECONDS: '2',
      LOG_LEVEL: 'info',
    },
  });
  r.process = proc;
  proc.child.once('exit', (code) => {
    if (stopping) return;
    r.exits.push({ at: Date.now(), code, log: logFile });
    setTimeout(() => {
      if (!stopping) void startReplica(r);
    }, 1000);
  });
}

// --- what the test reads: through the API as an admin, and from the processes ---

const monitorPath = `/apis/dbwatch.dev/v1alpha1/namespaces/${ns}/databasemonitors`;

interface Listed {
  items: { metadata: { name: string }; status?: DatabaseMonitorStatus }[];
}

/** The monitors whose status or Ready is not what their database is now. */
async function untrue(): Promise<string[]> {
  const list = await api.request<Listed>('GET', monitorPath);
  const seen = new Map(list.items.map((m) => [m.metadata.name, m.status]));
  return allMonitors.filter((name) => {
    const status = seen.get(name);
    const up = healthy[groupOf(name)];
    return (
      status?.status !== (up ? 'healthy' : 'unhealthy') ||
      condition(status, 'Ready')?.status !== (up ? 'True' : 'False')
    );
  });
}

/** Milliseconds from `since` until every monitor's status is true to its database (polled every 100 ms). */
async function untilAllTrue(since: number): Promise<number> {
  let wrong: string[] = allMonitors;
  while (Date.now() - since < 3 * RECOVERY_BOUND_MS) {
    wrong = await untrue().catch(() => wrong);
    if (wrong.length === 0) return Date.now() - since;
    await sleep(100);
  }
  throw new Error(`not true to the database ${3 * RECOVERY_BOUND_MS} ms after the fault: ${wrong.join(', ')}`);
}

async function metricsOf(r: Replica): Promise<string> {
  const res = await fetch(`http://127.0.0.1:${r.metricsPort}/metrics`);
  return res.text();
}

/** The sum of a metric's samples (Prometheus text) that carry all of `labels`. */
const sample = (text: string, name: string, labels: Record<string, string> = {}) =>
  text
    .split('\n')
    .filter((l) => l.startsWith(`${name}{`) || l.startsWith(`${name} `))
    .filter((l) => Object.entries(labels).every(([k, v]) => l.includes(`{${k}="${v}"`) || l.includes(`,${k}="${v}"`)))
    .reduce((sum, l) => sum + Number(l.split(' ').at(-1)), 0);

const leaseHolder = async () =>
  (
    await api.request<{ spec?: { holderIdentity?: string } }>(
      'GET',
      `/apis/coordination.k8s.io/v1/namespaces/${ns}/leases/${LEASE}`,
    )
  ).spec?.holderIdentity;

const ready = async (r: Replica) =>
  (await fetch(`http://127.0.0.1:${r.metricsPort}/readyz`).catch(() => undefined))?.ok === true;

/** Lines of the processes' output that belong to a stack trace, with the file they are in. */
function stackTraces(): string[] {
  const found: string[] = [];
  for (const file of replicas.flatMap((r) => r.logs)) {
    if (!existsSync(file)) continue;
    for (const line of readFileSync(file, 'utf8').split('\n')) {
      if (/"stack"\s*:|^\s+at \S.*:\d+:\d+\)?$|Unhandled|uncaught/i.test(line)) {
        found.push(`${file.split('/').at(-1)}: ${line.slice(0, 400)}`);
      }
    }
  }
  return found;
}

/**
 * Every start and end of leadership of every process, from their logs: 'became leader' and 'stopped leading'
 * lines, and the exit of a process that was leading.
 */
function leadershipTimeline(): LeadershipChange[] {
  const timeline: LeadershipChange[] = [];
  for (const r of replicas) {
    for (const file of r.logs) {
      if (!existsSync(file)) continue;
      const who = file.split('/').at(-1)!;
      let leading = false;
      for (const line of readFileSync(file, 'utf8').split('\n')) {
        if (!line.startsWith('{')) continue;
        const entry = JSON.parse(line) as { msg?: string; time: number };
        if (entry.msg === 'became leader' || entry.msg === 'stopped leading') {
          leading = entry.msg === 'became leader';
          timeline.push({ at: entry.time, who, leading });
        }
      }
      const exit = r.exits.find((e) => e.log === file);
      if (leading && exit) timeline.push({ at: exit.at, who, leading: false });
    }
  }
  return timeline.sort((a, b) => a.at - b.at);
}

/**
 * Events with no 'transition' line in any process's log: the process that wrote the status showing them logs one
 * after the write, so these were recorded from the status by another process (the writer died first).
 */
const unlogged = (counts: Counts) =>
  Object.values(totals(counts)).reduce((a, b) => a + b, 0) -
  replicas
    .flatMap((r) => r.logs)
    .filter(existsSync)
    .reduce((n, file) => n + readFileSync(file, 'utf8').split('"msg":"transition"').length - 1, 0);

interface Leadership {
  holder: string;
  /** The leader's reconciles in 2.5 s; the standby's since it started (must be 0: a standby never checks). */
  leaderReconciles: number;
  standbyReconciles: number;
}

/** Exactly one leader: the Lease holder leads and checks, the other process is a standby that does nothing. */
async function oneLeader(): Promise<Leadership> {
  await eventually(
    'both replicas running and synced',
    async () => ((await Promise.all(replicas.map(ready))).every(Boolean) ? true : undefined),
    60_000,
    250,
  );
  const holder = await eventually(
    "the Lease holder's process leading",
    async () => {
      const name = await leaseHolder();
      const r = replicas.find((x) => x.name === name);
      return r && sample(await metricsOf(r), 'dbwatch_leader') === 1 ? r : undefined;
    },
    30_000,
    250,
  );
  const standby = replicas.find((r) => r !== holder)!;
  const before = sample(await metricsOf(holder), 'dbwatch_reconcile_total');
  await sleep(2500);
  const [leaderText, standbyText] = await Promise.all([metricsOf(holder), metricsOf(standby)]);
  expect(await leaseHolder()).toBe(holder.name);
  expect(sample(leaderText, 'dbwatch_leader')).toBe(1);
  expect(sample(standbyText, 'dbwatch_leader')).toBe(0);
  const leadership = {
    holder: holder.name,
    leaderReconciles: sample(leaderText, 'dbwatch_reconcile_total') - before,
    standbyReconciles: sample(standbyText, 'dbwatch_reconcile_total'),
  };
  expect(leadership.leaderReconciles).toBeGreaterThan(0);
  expect(leadership.standbyReconciles).toBe(0);
  expect(sample(standbyText, 'dbwatch_status_writes_total')).toBe(0);
  expect(maxLeaders(leadershipTimeline())).toBe(1);
  return leadership;
}

/** Every monitor checked by the leader after `since` (its last-check metric; the status is rewritten only on change). */
async function checkedSince(since: number, leader: string): Promise<void> {
  await eventually(
    'every monitor checked after the fault',
    async () => {
      const text = await metricsOf(replicas.find((r) => r.name === leader)!);
      const late = allMonitors.filter(
        (name) => sample(text, 'dbwatch_database_last_check_timestamp_seconds', { namespace: ns, name }) * 1000 < since,
      );
      return late.length === 0 ? true : undefined;
    },
    10_000,
    250,
  );
}

type Counts = Record<string, Record<string, number>>;

/** Each monitor's Events by reason, read through the API (every Event object counted, and its count field). */
async function eventCounts(): Promise<Counts> {
  const list = await api.request<{
    items: { involvedObject: { kind: string; name: string }; reason: string; count?: number }[];
  }>('GET', `/api/v1/namespaces/${ns}/events`);
  const counts: Counts = Object.fromEntries(allMonitors.map((m) => [m, {}]));
  for (const e of list.items) {
    if (e.involvedObject.kind !== 'DatabaseMonitor') continue;
    const byReason = counts[e.involvedObject.name] ?? {};
    byReason[e.reason] = (byReason[e.reason] ?? 0) + (e.count ?? 1);
    counts[e.involvedObject.name] = byReason;
  }
  return counts;
}

/** Healthy at the first check; Unhealthy once its database broke; Recovered once it was fixed. */
const expectedEvents = (): Counts =>
  Object.fromEntries(
    allMonitors.map((m) => {
      const g = groupOf(m);
      return [m, { Healthy: 1, ...(broken.has(g) ? { Unhealthy: 1 } : {}), ...(fixed.has(g) ? { Recovered: 1 } : {}) }];
    }),
  );

/** The Events once they equal the transitions (late ones waited for up to 15 s), read again 2 s later for doubles. */
async function settledEvents(expected: Counts): Promise<Counts> {
  const deadline = Date.now() + 15_000;
  let counts = await eventCounts();
  while (!isDeepStrictEqual(counts, expected) && Date.now() < deadline) {
    await sleep(250);
    counts = await eventCounts();
  }
  await sleep(2000);
  return eventCounts();
}

const totals = (counts: Counts) => {
  const sum: Record<string, number> = {};
  for (const byReason of Object.values(counts))
    for (const [reason, n] of Object.entries(byReason)) sum[reason] = (sum[reason] ?? 0) + n;
  return sum;
};

// --- the databases changing ---

async function refuseLogin(g: Group): Promise<void> {
  const server = serverOf(g);
  await server.asSuperuser(`ALTER ROLE ${role(g)} NOLOGIN`);
  await server.asSuperuser(`SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE usename = '${role(g)}'`);
  healthy[g] = false;
  broken.add(g);
}

async function allowLogin(g: Group): Promise<void> {
  await serverOf(g).asSuperuser(`ALTER ROLE ${role(g)} LOGIN`);
  healthy[g] = true;
  fixed.add(g);
}

// --- one fault: the checks after it, and its figures ---

interface Figures {
  fault: string;
  lastedMs: number;
  recoveryMs: number;
  leader: string;
  leaderReconciles: number;
  exits: string[];
  events: Record<string, number>;
  /** Events since the last figures whose writer logged no transition: recorded from the status by another process. */
  fromStatus: number;
  extra?: string;
}
const figures: Figures[] = [];

async function afterFault(fault: string, window: { start: number; end: number }, extra?: string): Promise<void> {
  const recoveryMs = await untilAllTrue(window.end);
  const exitsBefore = figures.reduce((n, f) => n + f.exits.length, 0);
  const leadership = await oneLeader();
  await checkedSince(window.end, leadership.holder);
  const expected = expectedEvents();
  const counts = await settledEvents(expected);
  const exits = replicas
    .flatMap((r) => r.exits.map((e) => ({ ...e, name: r.name })))
    .sort((a, b) => a.at - b.at)
    .slice(exitsBefore)
    .map((e) => `${e.name} exit ${e.code} at +${((e.at - window.start) / 1000).toFixed(1)} s`);
  const f: Figures = {
    fault,
    lastedMs: window.end - window.start,
    recoveryMs,
    leader: leadership.holder,
    leaderReconciles: leadership.leaderReconciles,
    exits,
    events: totals(counts),
    fromStatus: unlogged(counts) - figures.reduce((n, f) => n + f.fromStatus, 0),
    ...(extra ? { extra } : {}),
  };
  figures.push(f);
  process.stdout.write(`${fault}: ${JSON.stringify(f)}\n`);
  expect(counts).toEqual(expected);
  expect(stackTraces()).toEqual([]);
  // A process exits only after giving up leadership (exit code 1, 'stopped leading' logged just before).
  for (const r of replicas)
    for (const e of r.exits) {
      expect(e.code).toBe(1);
      expect(readFileSync(e.log, 'utf8')).toMatch(/"msg":"stopped leading"/);
    }
  expect(recoveryMs).toBeLessThan(RECOVERY_BOUND_MS);
}

/** Runs `during` CHANGE_AFTER_MS into a fault that lasts FAULT_MS from `start`. */
async function meanwhile(start: number, during: () => Promise<void>): Promise<void> {
  await sleep(start + CHANGE_AFTER_MS - Date.now());
  await during();
  await sleep(start + FAULT_MS - Date.now());
}

/** Freezes a control-plane process for FAULT_MS; it is let go whatever happens. */
async function frozen(name: 'etcd' | 'kube-apiserver', during: () => Promise<void>) {
  const pid = pidOf(cp.dir, name);
  process.kill(pid, 'SIGSTOP');
  const start = Date.now();
  try {
    await meanwhile(start, during);
  } finally {
    process.kill(pid, 'SIGCONT');
  }
  return { start, end: Date.now() };
}

const sleep = (ms: number) => new Promise((ok) => setTimeout(ok, Math.max(0, ms)));

beforeAll(async () => {
  cp = await startControlPlane({ dir: mkdtempSync(join(tmpdir(), 'dbwatch-kube-faults-')), priorityAndFairness: true });
  api = await connectKube({ kubeconfig: cp.kubeconfig });
  await ensureCrds(cp.kubeconfig);
  await api.request('POST', '/api/v1/namespaces', { body: { metadata: { name: ns } } });
  operatorKubeconfig = await operatorUserOn(cp, [ns]);
  apf = await apfThrottle(cp, ['dbwatch-operator']);
  [serverA, serverB] = await Promise.all([startPostgres({ maxConnections: 120 }), startPostgres()]);
  for (const g of groups) {
    const server = serverOf(g);
    const password = `Pw-${g}-${Math.random().toString(36).slice(2)}`;
    await server.asSuperuser(`CREATE ROLE ${role(g)} LOGIN PASSWORD '${password}'`);
    await server.asSuperuser(`CREATE DATABASE ${database(g)} OWNER ${role(g)}`);
    await api.request('POST', `/api/v1/namespaces/${ns}/secrets`, {
      body: {
        metadata: { name: `${database(g)}-db` },
        stringData: {
          host: server.host,
          port: String(server.port),
          database: database(g),
          username: role(g),
          password,
        },
      },
    });
  }
  for (const name of REPLICAS) {
    const r: Replica = { name, metricsPort: await freePort(), logs: [], exits: [] };
    replicas.push(r);
    await startReplica(r);
  }
  for (const name of allMonitors) {
    await api.request('POST', monitorPath, {
      body: {
        apiVersion: 'dbwatch.dev/v1alpha1',
        kind: 'DatabaseMonitor',
        metadata: { name },
        spec: {
          engine: 'postgres',
          connection: { secretRef: { name: `${database(groupOf(name))}-db` }, connectTimeoutSeconds: 1 },
          interval: '1s',
          timeoutSeconds: 3,
        },
      },
    });
  }
}, 240_000);

afterAll(async () => {
  stopping = true;
  await Promise.all(replicas.map((r) => r.process?.stop()));
  api?.close();
  await serverA?.stop();
  await serverB?.stop();
  if (cp) await removeControlPlane(cp);
  if (failed) process.stdout.write(`operator logs kept in ${logDir}\n`);
  else rmSync(logDir, { recursive: true, force: true });
  if (figures.length > 0) {
    process.stdout.write(
      `Kubernetes faults (bound ${RECOVERY_BOUND_MS / 1000} s):\n${figures
        .map(
          (f) =>
            `  ${f.fault}: lasted ${(f.lastedMs / 1000).toFixed(1)} s, all true ${(f.recoveryMs / 1000).toFixed(1)} s after, ` +
            `leader ${f.leader} (${f.leaderReconciles} reconciles in 2.5 s, standby 0), exits [${f.exits.join('; ')}], ` +
            `Events ${JSON.stringify(f.events)} (${f.fromStatus} recorded from a status another process wrote)` +
            `${f.extra ? `, ${f.extra}` : ''}`,
        )
        .join('\n')}\n`,
    );
  }
}, 120_000);

/** A test whose failure keeps the logs. */
const step = (name: string, run: () => Promise<void>, timeoutMs: number) =>
  test(
    name,
    async () => {
      try {
        await run();
      } catch (error) {
        failed = true;
        throw error;
      }
    },
    timeoutMs,
  );

describe('Kubernetes-side faults with two operator processes and the databases changing meanwhile', () => {
  step(
    'before any fault: every monitor healthy, one Healthy Event each, one leader',
    async () => {
      await eventually('every monitor healthy', async () => ((await untrue()).length === 0 ? true : undefined), 90_000);
      const now = Date.now();
      await afterFault('start', { start: now, end: now });
    },
    150_000,
  );

  step(
    `kube-apiserver frozen (SIGSTOP) for ${FAULT_MS / 1000} s while a database server stops`,
    async () => {
      const window = await frozen('kube-apiserver', async () => {
        await serverB.halt();
        healthy.apiFrozen = false;
        broken.add('apiFrozen');
      });
      await afterFault('kube-apiserver frozen', window);
    },
    180_000,
  );

  step(
    `etcd frozen (SIGSTOP) for ${FAULT_MS / 1000} s while that server starts again and another login is refused`,
    async () => {
      const window = await frozen('etcd', async () => {
        await serverB.resume();
        healthy.apiFrozen = true;
        fixed.add('apiFrozen');
        await refuseLogin('etcdFrozen');
      });
      await afterFault('etcd frozen', window);
    },
    180_000,
  );

  step(
    'kube-apiserver killed (SIGKILL) and started again while logins change',
    async () => {
      const pid = pidOf(cp.dir, 'kube-apiserver');
      process.kill(pid, 'SIGKILL');
      const start = Date.now();
      await allowLogin('etcdFrozen');
      await refuseLogin('apiKilled');
      await sleep(start + 5000 - Date.now());
      await startApiServerAgain(cp.dir);
      const end = Date.now();
      await afterFault('kube-apiserver killed', { start, end });
    },
    180_000,
  );

  step(
    `the operator's user throttled by API Priority and Fairness (429) for ${FAULT_MS / 1000} s while logins change`,
    async () => {
      // The API server's own count of the 429s it sent to the level.
      const rejected = async () => {
        const metrics = await kubectl(['get', '--raw', '/metrics'], { kubeconfig: cp.kubeconfig });
        return sample(metrics.stdout, 'apiserver_flowcontrol_rejected_requests_total', { priority_level: apf.level });
      };
      await apf.configure();
      const probe = await connectKube({ kubeconfig: operatorKubeconfig, maxRetries: 0 });
      let seat: { release(): void } | undefined;
      try {
        // The configuration takes moments to apply: a seat taken before it does throttles nobody, so take it again.
        await eventually(
          "APF throttling the operator's user",
          async () => {
            seat?.release();
            seat = await apf.hold();
            const answer = await probe
              .request('POST', '/apis/authentication.k8s.io/v1/selfsubjectreviews', {
                body: { apiVersion: 'authentication.k8s.io/v1', kind: 'SelfSubjectReview' },
              })
              .catch((e: unknown) => e);
            return answer instanceof KubeApiError && answer.code === 429 ? true : undefined;
          },
          20_000,
          200,
        );
        const before = await rejected();
        const start = Date.now();
        await meanwhile(start, async () => {
          await allowLogin('apiKilled');
          await refuseLogin('throttled');
        });
        seat?.release();
        seat = undefined;
        const end = Date.now();
        await apf.remove();
        const count = (await rejected()) - before;
        expect(count).toBeGreaterThan(0);
        await afterFault('APF throttled', { start, end }, `${count} requests rejected with 429`);
      } finally {
        seat?.release();
        probe.close();
        await apf.remove();
      }
    },
    180_000,
  );

  step(
    'after the faults: the last login allowed again, every monitor Ready, every transition one Event',
    async () => {
      const start = Date.now();
      await allowLogin('throttled');
      await afterFault('after the faults', { start, end: start });
      expect(Object.values(healthy).every(Boolean)).toBe(true);
      expect(totals(await eventCounts())).toEqual({ Healthy: 24, Unhealthy: 20, Recovered: 20 });
    },
    120_000,
  );
});
