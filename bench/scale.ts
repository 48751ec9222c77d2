import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { cpus, hostname, tmpdir, totalmem } from 'node:os';
import { join, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import postgresClient from 'pg';
import { startBlackHole } from '../test/support/black-hole.js';
import { startControlPlane } from '../test/support/control-plane.js';
import { freePort } from '../test/support/free-port.js';
import { startPostgres } from '../test/support/postgres-server.js';
import { Fleet } from './scale/fleet.js';
import { operatorCommand, startOperator } from './scale/operator.js';
import { LOG_FILE_SETTINGS } from './scale/postgres-log.js';
import { ProcessSampler } from './scale/process-sampler.js';
import { buckets, quantileBetween, type Sample, scrape, total } from './scale/prometheus.js';
import { measureRestart, type RestartResult, restartBinSeconds } from './scale/restart.js';
import { runSharded } from './scale/sharded.js';

/**
 * `npm run bench:scale -- --monitors 2000`: the operator as a separate process against a real control plane and
 * a real PostgreSQL, at scale. Phases: start-up (time until every monitor has a status), steady state, a restart
 * of the operator (scale/restart.ts), 10 % more monitors pointing at a black hole (accepts TCP, never answers),
 * and the database stopped. Run it under `flock /tmp/dbwatch-bench.lock`. `--operator-dir` runs another
 * checkout's operator (for before/after figures). `--replicas 3`: sharded operators (scale/sharded.ts).
 */
const { values: args } = parseArgs({
  options: {
    monitors: { type: 'string', default: '200' },
    namespaces: { type: 'string', default: '20' },
    interval: { type: 'string', default: '60' },
    window: { type: 'string', default: '120' },
    settle: { type: 'string', default: '30' },
    'operator-dir': { type: 'string', default: resolve(import.meta.dirname, '..') },
    'operator-env': { type: 'string', multiple: true, default: [] },
    /** dist: compiled with tsc, as the image runs it; tsx: from source (its loader adds ~90 MiB RSS). */
    runtime: { type: 'string', default: 'dist' },
    /** The phases after start-up and steady state, in this order (e.g. none for memory work). */
    phases: { type: 'string', default: 'restart,black-hole,stopped' },
    /** Write a V8 heap snapshot of the operator at the end of the steady state into this directory. */
    'heap-snapshot': { type: 'string' },
    /** More than 1: sharded operators behind PgBouncer (scale/sharded.ts), with their own phases. */
    replicas: { type: 'string', default: '1' },
    /** Sharded only: the databases the monitors spread over (one PostgreSQL, through PgBouncer). */
    databases: { type: 'string', default: '20' },
    /** Sharded only: the monitors' sessionPolicy (PerCheck, the default, or Reuse). */
    'session-policy': { type: 'string', default: 'PerCheck' },
    /** Sharded only: a Node/V8 flag for the replicas' command line (repeat for more). */
    'node-flag': { type: 'string', multiple: true, default: [] },
    /** Sharded only: start the monitors without the week of availability history a running fleet has. */
    'no-history': { type: 'boolean', default: false },
  },
});
const MONITORS = Number(args.monitors);
const NAMESPACES = Math.min(Number(args.namespaces), MONITORS);
const INTERVAL_S = Number(args.interval);
const WINDOW_S = Number(args.window);
const SETTLE_S = Number(args.settle);
const OPERATOR_DIR = resolve(args['operator-dir']);
const SCRAPE_EVERY_S = 15;
const PHASES = new Set(args.phases.split(',').filter(Boolean));

const sleep = (s: number) => new Promise((ok) => setTimeout(ok, s * 1000));
const log = (message: string) => console.error(`[${new Date().toISOString().slice(11, 19)}] ${message}`);
const names = (count: number, prefix: string, namespaces: string[]) =>
  Array.from({ length: count }, (_, i) => ({ namespace: namespaces[i % namespaces.length]!, name: `${prefix}-${i}` }));

interface PhaseResult {
  phase: string;
  checksDoneOverDue: number;
  healthyChecksDoneOverDue?: number;
  lagP50?: string;
  lagP99?: string;
  lagP99NotHostLimited?: string;
  /** Slots a check overran (dbwatch_checks_skipped_total; the schedule before issue 25 had none to count). */
  skippedSlots: number;
  cores: number;
  rssPeakMiB: number;
  statusWritesPerMin: number;
  eventsPerMin: number;
  throttledPerMin: number;
  /** Status writes by why, monitors by status and PostgreSQL client backends at the end: to explain the figures. */
  detail: string;
}

const dir = mkdtempSync(join(tmpdir(), 'dbwatch-scale-'));
const cleanups: (() => Promise<void> | void)[] = [];
const cleanup = async () => {
  for (const c of cleanups.reverse()) await Promise.resolve(c()).catch((e: unknown) => console.error(e));
  // BENCH_KEEP=1 keeps the operators' logs (and everything else of the run) for reading afterwards.
  if (process.env.BENCH_KEEP === '1') console.error(`kept ${dir}`);
  else rmSync(dir, { recursive: true, force: true });
};
for (const signal of ['SIGINT', 'SIGTERM'] as const)
  process.once(signal, () => void cleanup().finally(() => process.exit(130)));

if (Number(args.replicas) > 1) {
  try {
    await runSharded({
      monitors: MONITORS,
      replicas: Number(args.replicas),
      namespaces: NAMESPACES,
      databases: Number(args.databases),
      intervalS: INTERVAL_S,
      settleS: SETTLE_S,
      windowS: WINDOW_S,
      operatorDir: OPERATOR_DIR,
      runtime: args.runtime === 'tsx' ? 'tsx' : 'dist',
      operatorEnv: Object.fromEntries(
        args['operator-env'].map((kv) => [kv.slice(0, kv.indexOf('=')), kv.slice(kv.indexOf('=') + 1)]),
      ),
      dir,
      cleanups,
      log,
      // Sharded phases after the steady state: kill, add, freeze (all unless --phases names some).
      phases: args.phases === 'restart,black-hole,stopped' ? new Set(['kill', 'add', 'freeze']) : PHASES,
      ...(args['heap-snapshot'] ? { heapSnapshotDir: args['heap-snapshot'] } : {}),
      sessionPolicy: args['session-policy'] === 'Reuse' ? 'Reuse' : 'PerCheck',
      nodeFlags: args['node-flag'],
      history: !args['no-history'],
    });
  } finally {
    await cleanup();
  }
  process.exit(0);
}

try {
  log(`control plane, PostgreSQL (max_connections ${MONITORS * 2 + 100}) and a black hole`);
  const cp = await startControlPlane({ dir: join(dir, 'cp') });
  cleanups.push(() => cp.stop());
  const kubectl = (...a: string[]) =>
    execFileSync(join(cp.binDir, 'kubectl'), ['--kubeconfig', cp.kubeconfig, ...a], {
      cwd: OPERATOR_DIR,
      stdio: 'pipe',
    });
  kubectl('apply', '--server-side', '-f', 'crds/');
  kubectl('wait', '--for=condition=Established', '--timeout=60s', '-f', 'crds/');
  // Every monitor's client pool may hold 2 connections.
  const pg = await startPostgres({ maxConnections: MONITORS * 2 + 100, settings: LOG_FILE_SETTINGS });
  cleanups.push(() => pg.stop());
  const credentials = { database: 'postgres', username: pg.superuser, password: pg.superuserPassword };
  const pgBackends = async () => {
    const client = new postgresClient.Client({ ...credentials, host: pg.host, port: pg.port, user: pg.superuser });
    client.on('error', () => undefined);
    try {
      await client.connect();
      const { rows } = await client.query(
        "SELECT count(*)::int AS n FROM pg_stat_activity WHERE backend_type = 'client backend'",
      );
      return rows[0].n as number;
    } catch {
      return 'down';
    } finally {
      await client.end().catch(() => undefined);
    }
  };
  const hole = await startBlackHole();
  cleanups.push(() => hole.stop());

  const fleet = new Fleet(cp.kubeconfig);
  const namespaces = Array.from({ length: NAMESPACES }, (_, i) => `scale-${i}`);
  await fleet.createNamespaces(namespaces);
  for (const ns of namespaces) {
    await fleet.createSecret(ns, 'db', { host: pg.host, port: String(pg.port), ...credentials });
    await fleet.createSecret(ns, 'black-hole', { host: '127.0.0.1', port: String(hole.port), ...credentials });
  }
  const healthy = names(MONITORS, 'db', namespaces);
  log(`creating ${MONITORS} monitors in ${NAMESPACES} namespaces (interval ${INTERVAL_S}s)`);
  await fleet.createMonitors(
    healthy.map((m) => ({ ...m, secret: 'db' })),
    `${INTERVAL_S}s`,
  );

  const runtime = args.runtime === 'tsx' ? 'tsx' : 'dist';
  if (runtime === 'dist') log('compiling the operator with tsc');
  const command = operatorCommand(OPERATOR_DIR, dir, runtime);
  const operatorEnv = Object.fromEntries(
    args['operator-env'].map((kv) => [kv.slice(0, kv.indexOf('=')), kv.slice(kv.indexOf('=') + 1)]),
  );
  const launch = async () => {
    const metricsPort = await freePort();
    const child = startOperator(command, {
      operatorDir: OPERATOR_DIR,
      dir,
      kubeconfig: cp.kubeconfig,
      metricsPort,
      runtime,
      env: operatorEnv,
      ...(args['heap-snapshot']
        ? { nodeFlags: ['--heapsnapshot-signal=SIGUSR2', `--diagnostic-dir=${args['heap-snapshot']}`] }
        : {}),
    });
    return { process: child, port: metricsPort, sampler: new ProcessSampler(child.pid) };
  };
  let { process: operator, port, sampler } = await launch();
  cleanups.push(async () => {
    sampler.stop();
    await operator.stop();
  });
  const started = performance.now();
  log(`operator ${operator.pid} started from ${OPERATOR_DIR}; waiting until every monitor has a status`);

  let withStatus = 0;
  while (withStatus < MONITORS) {
    if (operator.child.exitCode !== null)
      throw new Error(`operator exited (${operator.child.exitCode}); see ${dir}/operator.log`);
    if (performance.now() - started > 20 * 60_000) throw new Error(`only ${withStatus}/${MONITORS} have a status`);
    await sleep(2);
    withStatus = await fleet.withStatus().catch(() => withStatus);
  }
  const startupSeconds = (performance.now() - started) / 1000;
  const startup = sampler.window();
  log(`all ${MONITORS} have a status after ${startupSeconds.toFixed(1)} s`);

  const seconds = (q: { value: number; beyond: boolean } | undefined) =>
    q === undefined ? 'n/a' : `${q.beyond ? '>' : ''}${q.value.toFixed(3)} s`;

  /** Measures one window: checks done against due, lag, CPU, RSS, writes and Events. */
  async function measure(phase: string, dueMonitors: number, healthyMonitors: typeof healthy | undefined) {
    log(`${phase}: settling ${SETTLE_S} s, then measuring ${WINDOW_S} s`);
    await sleep(SETTLE_S);
    const before = await scrape(port);
    const eventsBefore = await fleet.eventCount();
    sampler.reset();
    const t0 = performance.now();
    // Each healthy check moves its monitor's last-success gauge: count the moves (checks are ≥ 54 s apart).
    const wanted = new Set(healthyMonitors?.map((m) => `${m.namespace}/${m.name}`));
    const lastSeen = new Map<string, number>();
    let healthyChecks = 0;
    const track = (samples: Sample[], count: boolean) => {
      for (const s of samples) {
        if (s.name !== 'dbwatch_database_last_success_timestamp_seconds') continue;
        const key = `${s.labels.namespace}/${s.labels.name}`;
        if (!wanted.has(key)) continue;
        if (count && lastSeen.has(key) && lastSeen.get(key) !== s.value) healthyChecks++;
        lastSeen.set(key, s.value);
      }
    };
    track(before, false);
    let after = before;
    while (performance.now() - t0 < WINDOW_S * 1000) {
      await sleep(Math.min(SCRAPE_EVERY_S, WINDOW_S - (performance.now() - t0) / 1000));
      after = await scrape(port);
      track(after, true);
    }
    const minutes = (performance.now() - t0) / 60_000;
    const eventsAfter = await fleet.eventCount();
    const usage = sampler.window();
    const due = (dueMonitors * minutes * 60) / INTERVAL_S;
    const delta = (name: string, labels: Record<string, string> = {}) =>
      total(after, name, labels) - total(before, name, labels);
    const lag = (labels: Record<string, string> = {}, q = 0.99) =>
      quantileBetween(
        buckets(before, 'dbwatch_schedule_lag_seconds', labels),
        buckets(after, 'dbwatch_schedule_lag_seconds', labels),
        q,
      );
    const result: PhaseResult = {
      phase,
      checksDoneOverDue: delta('dbwatch_check_duration_seconds_count', { check: 'health' }) / due,
      ...(healthyMonitors
        ? { healthyChecksDoneOverDue: healthyChecks / ((healthyMonitors.length * minutes * 60) / INTERVAL_S) }
        : {}),
      lagP50: seconds(lag({}, 0.5)),
      lagP99: seconds(lag()),
      lagP99NotHostLimited: seconds(lag({ host_limited: 'false' })),
      skippedSlots: delta('dbwatch_checks_skipped_total'),
      cores: usage.cores,
      rssPeakMiB: usage.rssPeakMiB,
      statusWritesPerMin: delta('dbwatch_status_writes_total') / minutes,
      eventsPerMin: (eventsAfter - eventsBefore) / minutes,
      throttledPerMin: delta('dbwatch_api_requests_throttled_total') / minutes,
      detail: JSON.stringify({
        writes: Object.fromEntries(
          ['changed', 'heartbeat'].map((why) => [why, delta('dbwatch_status_writes_total', { why })]),
        ),
        statuses: await fleet.statusCounts(),
        backends: await pgBackends(),
        // Where the RSS is: V8's heap (committed and used), memory outside it (buffers), the rest is native.
        memoryMiB: Object.fromEntries(
          [
            ['heapTotal', 'dbwatch_process_nodejs_heap_size_total_bytes'],
            ['heapUsed', 'dbwatch_process_nodejs_heap_size_used_bytes'],
            ['external', 'dbwatch_process_nodejs_external_memory_bytes'],
            ['rss', 'dbwatch_process_process_resident_memory_bytes'],
          ].map(([key, metric]) => [key, Math.round(total(after, metric!) / 2 ** 20)]),
        ),
      }),
    };
    log(JSON.stringify(result));
    return result;
  }

  const results: PhaseResult[] = [];
  results.push(await measure('steady state', MONITORS, healthy));
  if (args['heap-snapshot']) {
    operator.child.kill('SIGUSR2');
    log(`heap snapshot requested into ${args['heap-snapshot']}`);
    await sleep(30);
  }

  let restart: RestartResult | undefined;
  if (PHASES.has('restart')) {
    restart = await measureRestart(
      {
        pg,
        intervalS: INTERVAL_S,
        port: () => port,
        stop: async () => {
          sampler.stop();
          await operator.stop();
        },
        start: async () => {
          ({ process: operator, port, sampler } = await launch());
          return port;
        },
      },
      log,
    );
    log(JSON.stringify(restart));
  }
  if (PHASES.has('black-hole')) {
    const holed = names(Math.round(MONITORS / 10), 'black-hole', namespaces);
    log(`adding ${holed.length} monitors pointing at the black hole 127.0.0.1:${hole.port}`);
    await fleet.createMonitors(
      holed.map((m) => ({ ...m, secret: 'black-hole' })),
      `${INTERVAL_S}s`,
    );
    results.push(await measure(`+${holed.length} black-holed`, MONITORS + holed.length, healthy));
    await fleet.deleteMonitors(holed);
  }
  if (PHASES.has('stopped')) {
    log('stopping PostgreSQL');
    await pg.halt();
    results.push(await measure('database stopped', MONITORS, undefined));
  }
  const overall = sampler.window();

  const machine = `${cpus().length} × ${cpus()[0]?.model.trim()}, ${(totalmem() / 2 ** 30).toFixed(0)} GiB (${hostname()})`;
  console.log(
    `\n## ${MONITORS} monitors, interval ${INTERVAL_S} s, ${NAMESPACES} namespaces — ${new Date().toISOString()}`,
  );
  console.log(
    `machine: ${machine}; load average at the end: ${execFileSync('cat', ['/proc/loadavg']).toString().trim()}`,
  );
  console.log(
    `operator (${runtime}): ${OPERATOR_DIR} (${execFileSync('git', ['-C', OPERATOR_DIR, 'rev-parse', '--short', 'HEAD']).toString().trim()}), NODE_OPTIONS="${operator.nodeOptions}"`,
  );
  console.log(
    `start-up: every monitor had a status after ${startupSeconds.toFixed(1)} s; ${startup.cores.toFixed(2)} cores, RSS peak ${startup.rssPeakMiB.toFixed(0)} MiB`,
  );
  console.log(`RSS at the end ${overall.rssNowMiB.toFixed(0)} MiB\n`);
  console.log(
    '| phase | checks done / due | healthy done / due | lag p50 | lag p99 | p99 not host-limited | skipped slots | cores | RSS max MiB | status writes /min | Events /min | throttled /min |',
  );
  console.log('| --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- |');
  for (const r of results) {
    console.log(
      `| ${r.phase} | ${r.checksDoneOverDue.toFixed(2)} | ${r.healthyChecksDoneOverDue?.toFixed(2) ?? '–'} | ${r.lagP50} | ${r.lagP99} | ${r.lagP99NotHostLimited} | ${r.skippedSlots} | ${r.cores.toFixed(2)} | ${r.rssPeakMiB.toFixed(0)} | ${r.statusWritesPerMin.toFixed(0)} | ${r.eventsPerMin.toFixed(0)} | ${r.throttledPerMin.toFixed(0)} |`,
    );
  }
  console.log('');
  for (const r of results) console.log(`- ${r.phase}: ${r.detail}`);
  if (restart) printRestart(restart);
} finally {
  await cleanup();
}

/** The restart phase's figures (scale/restart.ts): the database's count first, the operator's beside it. */
function printRestart(r: RestartResult) {
  const ratio = (n: number) => (r.checks.steady > 0 ? (n / r.checks.steady).toFixed(2) : 'n/a');
  console.log(
    `\n### Restart (SIGTERM, exit after ${r.shutdownSeconds.toFixed(1)} s, new process started at once; counted in PostgreSQL's log)\n`,
  );
  console.log(
    `| interval | checks | × steady | busiest ${restartBinSeconds} s / steady mean | logins (new sessions) |`,
  );
  console.log('| --- | --- | --- | --- | --- |');
  for (const [name, key] of [
    ['steady (last before SIGTERM)', 'steady'],
    ['first after the start', 'first'],
    ['second after the start', 'second'],
  ] as const) {
    console.log(
      `| ${name} | ${r.checks[key]} | ${ratio(r.checks[key])} | ${r.peakOverMean[key].toFixed(2)} | ${r.logins[key]} |`,
    );
  }
  const lag = r.lagP99First ? `${r.lagP99First.beyond ? '>' : ''}${r.lagP99First.value.toFixed(3)} s` : 'n/a';
  console.log(
    `\nThe new process's own count of health checks in its first interval: ${r.operatorFirst}; lag p99 ${lag}; skipped slots ${r.skippedFirst}.`,
  );
}
