import { execFileSync } from 'node:child_process';
import { mkdirSync, readFileSync } from 'node:fs';
import { cpus, hostname, totalmem } from 'node:os';
import { join } from 'node:path';
import { ownerOf } from '../../src/controller/shard/ownership.js';
import { startControlPlane } from '../../test/support/control-plane.js';
import { freePort } from '../../test/support/free-port.js';
import { scramSecretOf, startPgBouncer } from '../../test/support/pgbouncer.js';
import { startPostgres } from '../../test/support/postgres-server.js';
import { Fleet } from './fleet.js';
import { type CheckFigures, checkFigures, MonitorCheckLog } from './monitor-checks.js';
import { type OperatorProcess, operatorCommand, startOperator } from './operator.js';
import { LOG_FILE_SETTINGS, logStatements } from './postgres-log.js';
import { ProcessSampler } from './process-sampler.js';
import { buckets, quantileBetween, type Sample, scrape, total } from './prometheus.js';

/*
 * `bench:scale -- --replicas 3 --monitors 10000`: sharded operators (issue 22) as separate processes against a
 * real control plane, with a real PgBouncer (transaction pooling) in front of one real PostgreSQL — as fleets
 * run — holding the monitored databases. Phases: start-up, steady state, a replica killed (SIGKILL), a replica
 * added, a replica frozen (SIGSTOP) and resumed. Per replica: objects owned, checks done/due, lag p99, cores,
 * RSS; over all: status writes per minute and, from PostgreSQL's log, checks per monitor (done/due by slot,
 * duplicates, two at once, the longest gap).
 */

export interface ShardedOptions {
  monitors: number;
  replicas: number;
  namespaces: number;
  databases: number;
  intervalS: number;
  settleS: number;
  windowS: number;
  operatorDir: string;
  runtime: 'dist' | 'tsx';
  operatorEnv: Record<string, string>;
  dir: string;
  cleanups: (() => Promise<void> | void)[];
  log: (message: string) => void;
  /** Which failure phases run after the steady state: kill, add, freeze. */
  phases: Set<string>;
  /** A V8 heap snapshot of replica-0 at the end of the steady state, into this directory. */
  heapSnapshotDir?: string;
  /** Node/V8 flags for the replicas' command line (those NODE_OPTIONS refuses). */
  nodeFlags: string[];
  /** The monitors' spec.connection.sessionPolicy. */
  sessionPolicy: 'PerCheck' | 'Reuse';
  /** Start every monitor with a week of availability history in its status, as a fleet that has run a week. */
  history: boolean;
}

/**
 * A week of availability at one check a minute, every check available, ending before the current hour and day:
 * 23 hourly and 6 daily buckets that the operators carry on (the 24th and 7th are the current ones). A fleet
 * that has run a week caches these in every replica, and writes them with every status.
 */
export function weekOfHistory(nowMs: number, intervalS: number) {
  const HOUR = 3_600_000;
  const DAY = 24 * HOUR;
  const bucket = (start: number, span: number) => ({
    start: new Date(start).toISOString(),
    checks: Math.floor(span / (intervalS * 1000)),
    available: Math.floor(span / (intervalS * 1000)),
  });
  const hourStart = nowMs - (nowMs % HOUR);
  const dayStart = nowMs - (nowMs % DAY);
  const hours = Array.from({ length: 23 }, (_, i) => bucket(hourStart - (23 - i) * HOUR, HOUR));
  const days = Array.from({ length: 6 }, (_, i) => bucket(dayStart - (6 - i) * DAY, DAY));
  return { availability: { hours, days, last24h: 1, last7d: 1 } };
}

interface Replica {
  name: string;
  process: OperatorProcess;
  port: number;
  sampler: ProcessSampler;
}

const sleep = (s: number) => new Promise((ok) => setTimeout(ok, s * 1000));
const LEASE_S = 15;
const GROUP = 'bench';
const LEASE_NAMESPACE = 'dbwatch-system';
let stopping = false;
const tail = (file: string) => readFileSync(file, 'utf8').split('\n').slice(-30).join('\n');

export async function runSharded(o: ShardedOptions): Promise<void> {
  const { log } = o;
  const I = o.intervalS * 1000;
  log('control plane, PostgreSQL and PgBouncer (transaction pooling)');
  const cp = await startControlPlane({ dir: join(o.dir, 'cp') });
  o.cleanups.push(() => cp.stop());
  const kubectl = (...a: string[]) =>
    execFileSync(join(cp.binDir, 'kubectl'), ['--kubeconfig', cp.kubeconfig, ...a], {
      cwd: o.operatorDir,
      stdio: 'pipe',
    });
  kubectl('apply', '--server-side', '-f', 'crds/');
  kubectl('wait', '--for=condition=Established', '--timeout=60s', '-f', 'crds/');

  // PgBouncer holds the clients (one per monitor between checks); PostgreSQL sees only its server connections.
  const pg = await startPostgres({ maxConnections: 200, settings: LOG_FILE_SETTINGS });
  o.cleanups.push(() => pg.stop());
  const password = `fleet-${Math.random().toString(36).slice(2)}`;
  await pg.asSuperuser(`CREATE ROLE fleet LOGIN PASSWORD '${password}'`);
  await pg.asSuperuser('GRANT pg_monitor TO fleet');
  const databases = Array.from({ length: o.databases }, (_, i) => `fleet_${i}`);
  for (const db of databases) await pg.asSuperuser(`CREATE DATABASE ${db} OWNER fleet`);
  const bouncer = await startPgBouncer({
    server: { host: pg.host, port: pg.port },
    mode: 'transaction',
    defaultPoolSize: 4,
    maxClientConn: o.monitors * 2 + 500,
    settings: ['max_db_connections = 8'],
  });
  o.cleanups.push(() => bouncer.stop());
  // The SCRAM secret, as auth_query (CloudNativePG's poolers) or an auth_file copied from pg_shadow gives it: with the
  // plain password PgBouncer derives the key again at every login (PBKDF2, 3.6 ms of its one thread here, against
  // 0.14 ms), which alone would cap this machine at ~250 logins a second.
  await bouncer.addUser('fleet', await scramSecretOf(pg.url, 'fleet'));

  const fleet = new Fleet(cp.kubeconfig);
  const namespaces = Array.from({ length: Math.min(o.namespaces, o.monitors) }, (_, i) => `scale-${i}`);
  await fleet.createNamespaces([...namespaces, LEASE_NAMESPACE]);
  for (const [i, ns] of namespaces.entries()) {
    await fleet.createSecret(ns, 'db', {
      host: bouncer.host,
      port: String(bouncer.port),
      database: databases[i % databases.length]!,
      username: 'fleet',
      password,
    });
  }
  const monitors = Array.from({ length: o.monitors }, (_, i) => ({
    namespace: namespaces[i % namespaces.length]!,
    name: `db-${i}`,
  }));
  log(
    `creating ${o.monitors} monitors in ${namespaces.length} namespaces over ${databases.length} databases${o.history ? ', each with a week of availability history' : ''}`,
  );
  const created = performance.now();
  // PerCheck (the default) logs in through PgBouncer on every check: a PgBouncer client login, no server login.
  // Reuse keeps one pooler client per monitor (a pg Client and socket in the operator, ~6 KB of heap each).
  await fleet.createMonitors(
    monitors.map((m) => ({ ...m, secret: 'db' })),
    `${o.intervalS}s`,
    32,
    {
      connection: { sessionPolicy: o.sessionPolicy },
      ...(o.history ? { status: weekOfHistory(Date.now(), o.intervalS) } : {}),
    },
  );
  log(`created in ${((performance.now() - created) / 1000).toFixed(0)} s`);

  if (o.runtime === 'dist') log('compiling the operator with tsc');
  const command = operatorCommand(o.operatorDir, o.dir, o.runtime);
  const replicas = new Map<string, Replica>();
  // All at once: stopped one by one, the last replica would take over the whole fleet (and, at 10,000 monitors,
  // run out of the 128 MiB heap sized for a third of it) before its own SIGTERM.
  o.cleanups.push(async () => {
    await Promise.all(
      [...replicas.values()].map(async ({ process, sampler }) => {
        sampler.stop();
        process.child.kill('SIGCONT');
        await process.stop();
      }),
    );
  });
  const launch = async (name: string) => {
    const port = await freePort();
    const dir = join(o.dir, name);
    mkdirSync(dir, { recursive: true });
    const process = startOperator(command, {
      operatorDir: o.operatorDir,
      dir,
      nodeFlags: [
        ...o.nodeFlags,
        ...(o.heapSnapshotDir ? ['--heapsnapshot-signal=SIGUSR2', `--diagnostic-dir=${o.heapSnapshotDir}`] : []),
      ],
      kubeconfig: cp.kubeconfig,
      metricsPort: port,
      runtime: o.runtime,
      env: {
        SHARDING: 'true',
        SHARD_GROUP: GROUP,
        POD_NAME: name,
        POD_NAMESPACE: LEASE_NAMESPACE,
        // One PgBouncer is one host:port for every monitor: the docs say to raise the per-host limit for it.
        CHECKS_PER_HOST: '32',
        ...o.operatorEnv,
      },
    });
    const replica = { name, process, port, sampler: new ProcessSampler(process.pid) };
    void process.exited.then(() => {
      if (process.child.signalCode === 'SIGKILL' || stopping) return;
      log(
        `${name} exited (${process.child.exitCode ?? process.child.signalCode}):\n${tail(join(dir, 'operator.log'))}`,
      );
    });
    replicas.set(name, replica);
    return replica;
  };
  const live = () =>
    [...replicas.values()].filter((r) => r.process.child.exitCode === null && !r.process.child.signalCode);
  const members = () =>
    live()
      .map((r) => r.name)
      .sort();

  const started = performance.now();
  for (let i = 0; i < o.replicas; i++) await launch(`replica-${i}`);
  log(`${o.replicas} replicas started; waiting until every monitor has a status written by its owner`);
  const settled = async (limitS: number) => {
    const t0 = performance.now();
    for (;;) {
      const owners = await fleet.shards().catch(() => undefined);
      const want = members();
      if (want.length === 0) throw new Error('no replica is running');
      if (
        owners &&
        monitors.every((m) => owners.get(`${m.namespace}/${m.name}`) === ownerOf(`${m.namespace}/${m.name}`, want))
      )
        return (performance.now() - t0) / 1000;
      if (performance.now() - t0 > limitS * 1000) throw new Error(`not settled within ${limitS} s`);
      for (const r of live()) if (r.process.child.exitCode !== null) throw new Error(`${r.name} exited`);
      // Listing 10,000 monitors costs the API server on the same two cores: not more often than this.
      await sleep(10);
    }
  };
  await settled(20 * 60);
  const startupS = (performance.now() - started) / 1000;
  const startup = new Map([...replicas.values()].map((r) => [r.name, r.sampler.window()]));
  log(`every monitor owned and checked after ${startupS.toFixed(0)} s`);

  const checkLog = new MonitorCheckLog(pg);
  await logStatements(pg, true);
  await sleep(o.settleS);
  checkLog.read();

  // Steady state: per replica from its metrics and /proc, over all from the database's log.
  const steadyFrom = Date.now();
  const before = new Map<string, Sample[]>();
  for (const r of live()) {
    before.set(r.name, await scrape(r.port));
    r.sampler.reset();
  }
  await sleep(o.windowS);
  const steadyTo = Date.now();
  const perReplica = [];
  let writes = 0;
  const writesByWhy = { changed: 0, heartbeat: 0 };
  for (const r of live()) {
    const after = await scrape(r.port);
    const b = before.get(r.name)!;
    const usage = r.sampler.window();
    const delta = (name: string, labels: Record<string, string> = {}) =>
      total(after, name, labels) - total(b, name, labels);
    const owned = total(after, 'dbwatch_shard_objects');
    const lag = quantileBetween(
      buckets(b, 'dbwatch_schedule_lag_seconds'),
      buckets(after, 'dbwatch_schedule_lag_seconds'),
      0.99,
    );
    writes += delta('dbwatch_status_writes_total');
    for (const why of ['changed', 'heartbeat'] as const)
      writesByWhy[why] += delta('dbwatch_status_writes_total', { why });
    perReplica.push({
      name: r.name,
      owned,
      doneOverDue:
        delta('dbwatch_check_duration_seconds_count', { check: 'health' }) / ((owned * (steadyTo - steadyFrom)) / I),
      lagP99: lag ? `${lag.beyond ? '>' : ''}${lag.value.toFixed(3)} s` : 'n/a',
      cores: usage.cores,
      rssPeakMiB: usage.rssPeakMiB,
      heapUsedMiB: total(after, 'dbwatch_process_nodejs_heap_size_used_bytes') / 2 ** 20,
    });
  }
  checkLog.read();
  const steady = checkFigures(checkLog, monitors, I, steadyFrom, steadyTo);
  const writesPerMin = writes / ((steadyTo - steadyFrom) / 60_000);
  log(`steady: ${JSON.stringify({ perReplica, steady, writesPerMin, writesByWhy })}`);
  if (o.heapSnapshotDir) {
    replicas.get('replica-0')?.process.child.kill('SIGUSR2');
    log(`heap snapshot of replica-0 requested into ${o.heapSnapshotDir}`);
    await sleep(30);
  }
  if (!o.phases.has('kill')) {
    await logStatements(pg, false);
    stopping = true;
    console.log(`\n## Sharded steady state only: ${JSON.stringify({ perReplica, steady, writesPerMin }, null, 1)}`);
    return;
  }

  // Killed: SIGKILL, no Lease deleted. Its objects are checked again once the others count it gone.
  const membersBefore = members();
  const victim = replicas.get(`replica-${o.replicas - 1}`)!;
  const victims = monitors.filter((m) => ownerOf(`${m.namespace}/${m.name}`, membersBefore) === victim.name);
  const killAt = Date.now();
  log(`kill: SIGKILL ${victim.name} (${victims.length} monitors)`);
  victim.sampler.stop();
  victim.process.child.kill('SIGKILL');
  await victim.process.exited;
  await sleep(LEASE_S + o.intervalS + 15);
  checkLog.read();
  const killTo = Date.now();
  const firstAfter = (m: { namespace: string; name: string }, t: number) =>
    checkLog.between(`${m.namespace}/${m.name}`, t, Number.POSITIVE_INFINITY)[0];
  const takeover = victims
    .map((m) => (firstAfter(m, killAt) ?? Number.POSITIVE_INFINITY) - killAt)
    .sort((a, b) => a - b);
  const kill = {
    monitors: victims.length,
    takeoverP50S: (takeover[Math.floor(takeover.length * 0.5)] ?? 0) / 1000,
    takeoverP90S: (takeover[Math.floor(takeover.length * 0.9)] ?? 0) / 1000,
    takeoverMaxS: (takeover.at(-1) ?? 0) / 1000,
    window: checkFigures(checkLog, monitors, I, killAt - I, killTo),
  };
  log(`kill: ${JSON.stringify(kill)}`);

  // Added: a new member takes its share after the join grace; nothing else moves.
  const addAt = Date.now();
  const added = await launch(`replica-${o.replicas}`);
  log(`add: started ${added.name}`);
  const addSettledS = await settled(5 * 60);
  await sleep(o.intervalS + 10);
  checkLog.read();
  const addTo = Date.now();
  const addedMetrics = await scrape(added.port);
  const addedLag = (q: number) => quantileBetween(new Map(), buckets(addedMetrics, 'dbwatch_schedule_lag_seconds'), q);
  const add = {
    startedAtMs: addAt,
    owned: total(addedMetrics, 'dbwatch_shard_objects'),
    // The join rule bounds a gap by interval + its 5 s margin + the new owner's lag: these say which term grew.
    addedLagP99S: addedLag(0.99)?.value,
    addedLagP999S: addedLag(0.999)?.value,
    settledS: addSettledS,
    window: checkFigures(checkLog, monitors, I, addAt - I, addTo, undefined, addAt),
  };
  log(`add: ${JSON.stringify(add)}`);

  // Frozen past its Lease, then resumed: it must stop (no check, no write) before it owns anything again.
  const frozen = replicas.get('replica-0')!;
  const frozenMonitors = monitors.filter((m) => ownerOf(`${m.namespace}/${m.name}`, members()) === frozen.name);
  const atFreeze = await scrape(frozen.port);
  const freezeAt = Date.now();
  frozen.process.child.kill('SIGSTOP');
  log(`freeze: SIGSTOP ${frozen.name} (${frozenMonitors.length} monitors)`);
  await sleep(LEASE_S + 15);
  const resumeAt = Date.now();
  frozen.process.child.kill('SIGCONT');
  await sleep(3);
  const afterResume = await scrape(frozen.port);
  const sinceFreeze = (name: string, labels: Record<string, string> = {}) =>
    total(afterResume, name, labels) - total(atFreeze, name, labels);
  const regainedS = await (async () => {
    for (;;) {
      if (total(await scrape(frozen.port), 'dbwatch_shard_objects') > 0) return (Date.now() - resumeAt) / 1000;
      if (Date.now() - resumeAt > 120_000) return Number.NaN;
      await sleep(0.5);
    }
  })();
  await settled(5 * 60);
  await sleep(o.intervalS);
  checkLog.read();
  const freezeTo = Date.now();
  const freezeTakeover = frozenMonitors
    .map((m) => (firstAfter(m, freezeAt + 1) ?? Number.POSITIVE_INFINITY) - freezeAt)
    .sort((a, b) => a - b);
  const freeze = {
    monitors: frozenMonitors.length,
    takeoverMaxS: (freezeTakeover.at(-1) ?? 0) / 1000,
    writesInFirst3sAfterResume: sinceFreeze('dbwatch_status_writes_total'),
    checksInFirst3sAfterResume: sinceFreeze('dbwatch_check_duration_seconds_count', { check: 'health' }),
    regainedShareAfterS: regainedS,
    window: checkFigures(checkLog, monitors, I, freezeAt - I, freezeTo),
  };
  log(`freeze: ${JSON.stringify(freeze)}`);
  await logStatements(pg, false);

  const final = new Map(live().map((r) => [r.name, r.sampler.window()]));
  // When each peak was: after the kill, the join (the added replica's start) or the freeze, in seconds.
  const peakAt = (at: number) =>
    Object.fromEntries(
      Object.entries({ kill: killAt, add: addAt, freeze: freezeAt }).map(([k, t]) => [k, Math.round((at - t) / 1000)]),
    );
  log(`RSS peaks: ${JSON.stringify([...final].map(([n, u]) => ({ n, mib: u.rssPeakMiB, ...peakAt(u.rssPeakAtMs) })))}`);
  stopping = true;
  print(o, { startupS, startup, perReplica, steady, writesPerMin, kill, add, freeze, final });
}

function figuresRow(name: string, f: CheckFigures): string {
  return `| ${name} | ${f.checks} | ${(f.done / Math.max(1, f.due)).toFixed(3)} | ${f.duplicates} (${((100 * f.duplicates) / Math.max(1, f.checks)).toFixed(2)} %) | ${f.concurrent} | ${(f.maxGapMs / 1000).toFixed(1)} s |`;
}

function print(
  o: ShardedOptions,
  r: {
    startupS: number;
    startup: Map<string, { cores: number; rssPeakMiB: number }>;
    perReplica: {
      name: string;
      owned: number;
      doneOverDue: number;
      lagP99: string;
      cores: number;
      rssPeakMiB: number;
      heapUsedMiB: number;
    }[];
    steady: CheckFigures;
    writesPerMin: number;
    kill: { monitors: number; takeoverP50S: number; takeoverP90S: number; takeoverMaxS: number; window: CheckFigures };
    add: { owned: number; settledS: number; window: CheckFigures };
    freeze: {
      monitors: number;
      takeoverMaxS: number;
      writesInFirst3sAfterResume: number;
      checksInFirst3sAfterResume: number;
      regainedShareAfterS: number;
      window: CheckFigures;
    };
    final: Map<string, { cores: number; rssPeakMiB: number }>;
  },
) {
  const machine = `${cpus().length} × ${cpus()[0]?.model.trim()}, ${(totalmem() / 2 ** 30).toFixed(0)} GiB (${hostname()})`;
  const commit = execFileSync('git', ['-C', o.operatorDir, 'rev-parse', '--short', 'HEAD']).toString().trim();
  console.log(
    `\n## Sharded: ${o.monitors} monitors over ${o.replicas} replicas, interval ${o.intervalS} s — ${new Date().toISOString()}`,
  );
  console.log(
    `machine: ${machine}; load average at the end: ${execFileSync('cat', ['/proc/loadavg']).toString().trim()}`,
  );
  console.log(
    `operator (${o.runtime}) ${commit}; PostgreSQL behind PgBouncer (transaction pooling, ${o.databases} databases, ${o.namespaces} namespaces); sessionPolicy ${o.sessionPolicy}, CHECKS_PER_HOST=${o.operatorEnv.CHECKS_PER_HOST ?? 32}; ${o.history ? 'monitors started with a week of availability history' : 'no history (--no-history)'}`,
  );
  console.log(
    `start-up: every monitor checked and its status written by its owner after ${r.startupS.toFixed(0)} s; RSS peak ${[...r.startup.values()].map((u) => u.rssPeakMiB.toFixed(1)).join(' / ')} MiB\n`,
  );
  console.log('| replica | objects owned | checks done / due | lag p99 | cores | RSS max MiB | heap used MiB |');
  console.log('| --- | --- | --- | --- | --- | --- | --- |');
  for (const p of r.perReplica) {
    console.log(
      `| ${p.name} | ${p.owned} | ${p.doneOverDue.toFixed(3)} | ${p.lagP99} | ${p.cores.toFixed(3)} | ${p.rssPeakMiB.toFixed(1)} | ${p.heapUsedMiB.toFixed(0)} |`,
    );
  }
  console.log(`\nStatus writes per minute (all replicas, steady): ${r.writesPerMin.toFixed(0)}.\n`);
  console.log("Counted in PostgreSQL's log, per monitor (slots of its fixed-rate grid):\n");
  console.log('| window | checks | slots checked / due | second check in a slot | two within 1 s | longest gap |');
  console.log('| --- | --- | --- | --- | --- | --- |');
  console.log(figuresRow('steady state', r.steady));
  console.log(figuresRow('replica killed (an interval before to lease + 2 intervals after)', r.kill.window));
  console.log(figuresRow('replica added (an interval before to an interval after it settled)', r.add.window));
  console.log(figuresRow('replica frozen and resumed', r.freeze.window));
  console.log(
    `\nKilled (SIGKILL): its ${r.kill.monitors} monitors checked again by the others after ${r.kill.takeoverP50S.toFixed(1)} s (median), ${r.kill.takeoverP90S.toFixed(1)} s (90 %), ${r.kill.takeoverMaxS.toFixed(1)} s (the last).`,
  );
  console.log(
    `Added: took ${r.add.owned} monitors; every monitor's status written by its new owner ${r.add.settledS.toFixed(0)} s after the start.`,
  );
  console.log(
    `Frozen (SIGSTOP ${LEASE_S + 15} s): its ${r.freeze.monitors} monitors checked by the others within ${r.freeze.takeoverMaxS.toFixed(1)} s; in the 3 s after SIGCONT it ran ${r.freeze.checksInFirst3sAfterResume} checks and wrote ${r.freeze.writesInFirst3sAfterResume} statuses; it owned its share again after ${r.freeze.regainedShareAfterS.toFixed(1)} s.`,
  );
  console.log(
    `RSS peak over the failure phases: ${[...r.final.entries()].map(([n, u]) => `${n} ${u.rssPeakMiB.toFixed(1)} MiB`).join(', ')}`,
  );
}
