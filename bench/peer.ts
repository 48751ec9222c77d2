import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { cpus, hostname, tmpdir, totalmem } from 'node:os';
import { join, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { startControlPlane } from '../test/support/control-plane.js';
import { freePort } from '../test/support/free-port.js';
import { startPostgres } from '../test/support/postgres-server.js';
import { createDatabases, MONITOR_ROLE } from './peer/databases.js';
import { buildExporter, startPeer } from './peer/exporter.js';
import { SessionSampler, serverCpuSeconds } from './peer/server-usage.js';
import { Fleet } from './scale/fleet.js';
import { operatorCommand, startOperator } from './scale/operator.js';
import { ProcessSampler } from './scale/process-sampler.js';
import { scrape, total } from './scale/prometheus.js';

/**
 * `npm run bench:peer`: dbwatch's operator against prometheus-community/postgres_exporter, the peer a team
 * would otherwise run, on the same real PostgreSQL holding N databases, each probed every `--interval`
 * seconds. Per N, one phase at a time: PostgreSQL idle (its own background CPU), the exporter in multi-target
 * mode driven by a real Prometheus, then the operator (its own process, the chart's heap flags, pool + Flyway
 * checks) with sessionPolicy Reuse, then PerCheck. Prints per database: the tool's CPU, PostgreSQL's CPU
 * above idle (every process of the server, /proc), server sessions the tool holds, and the ratios to the
 * exporter's figures of the same run. Asserts nothing; run it under `flock /tmp/dbwatch-bench.lock`.
 */
const { values: args } = parseArgs({
  options: {
    databases: { type: 'string', default: '50,200' },
    interval: { type: 'string', default: '15' },
    /** Long enough for every monitor's fresh login (default every 5 min) to fall in it once. */
    window: { type: 'string', default: '300' },
    settle: { type: 'string', default: '30' },
  },
});
const COUNTS = args.databases.split(',').map(Number);
const INTERVAL_S = Number(args.interval);
const WINDOW_S = Number(args.window);
const SETTLE_S = Number(args.settle);
const IDLE_S = 60;
const REPO = resolve(import.meta.dirname, '..');

const sleep = (s: number) => new Promise((ok) => setTimeout(ok, s * 1000));
const log = (message: string) => console.error(`[${new Date().toISOString().slice(11, 19)}] ${message}`);

interface Phase {
  tool: string;
  /** Probes or checks done over due in the window. */
  doneOverDue?: number;
  toolCores?: number;
  toolRssMiB?: number;
  pgCores: number;
  sessions: { median: number; max: number };
  note?: string;
}

const dir = mkdtempSync(join(tmpdir(), 'dbwatch-peer-'));
const cleanups: (() => Promise<void> | void)[] = [];
const cleanup = async () => {
  for (const c of cleanups.reverse()) await Promise.resolve(c()).catch((e: unknown) => console.error(e));
  rmSync(dir, { recursive: true, force: true });
};
for (const signal of ['SIGINT', 'SIGTERM'] as const)
  process.once(signal, () => void cleanup().finally(() => process.exit(130)));

try {
  const exporter = buildExporter();
  log(`postgres_exporter ${exporter.version}: ${exporter.binary}; control plane; compiling the operator`);
  const cp = await startControlPlane({ dir: join(dir, 'cp') });
  cleanups.push(() => cp.stop());
  execFileSync(join(cp.binDir, 'kubectl'), ['--kubeconfig', cp.kubeconfig, 'apply', '--server-side', '-f', 'crds/'], {
    cwd: REPO,
    stdio: 'pipe',
  });
  execFileSync(
    join(cp.binDir, 'kubectl'),
    ['--kubeconfig', cp.kubeconfig, 'wait', '--for=condition=Established', '--timeout=60s', '-f', 'crds/'],
    { cwd: REPO, stdio: 'pipe' },
  );
  const fleet = new Fleet(cp.kubeconfig);
  const command = operatorCommand(REPO, dir, 'dist');

  const report: string[] = [];
  for (const n of COUNTS) {
    // Room for every tool's sessions and for PerCheck's overlap, as a server hosting this many databases has.
    const pg = await startPostgres({ maxConnections: Math.max(200, 3 * n) });
    const stopPg = () => pg.stop();
    cleanups.push(stopPg);
    log(`N=${n}: PostgreSQL ${pg.port}, creating ${n} databases from a Flyway-migrated template`);
    const databases = await createDatabases(pg, n);
    const sessions = new SessionSampler(pg, MONITOR_ROLE.username);
    await sessions.start();

    /** One window: the tool's CPU and RSS, the server's CPU, and the sessions the monitoring role held. */
    const measure = async (toolPid: number | undefined) => {
      const tool = toolPid ? new ProcessSampler(toolPid) : undefined;
      const pgBefore = serverCpuSeconds(pg);
      const t0 = performance.now();
      sessions.window();
      await sleep(toolPid ? WINDOW_S : IDLE_S);
      const seconds = (performance.now() - t0) / 1000;
      const usage = tool?.window();
      tool?.stop();
      return {
        ...(usage ? { toolCores: usage.cores, toolRssMiB: usage.rssPeakMiB } : {}),
        pgCores: (serverCpuSeconds(pg) - pgBefore) / seconds,
        sessions: sessions.window(),
        seconds,
      };
    };

    const phases: Phase[] = [];
    log(`N=${n}: PostgreSQL idle, ${IDLE_S} s`);
    phases.push({ tool: 'PostgreSQL idle', ...(await measure(undefined)) });

    log(`N=${n}: postgres_exporter ${exporter.version} + Prometheus, settling ${SETTLE_S} s, measuring ${WINDOW_S} s`);
    const peer = await startPeer({
      binary: exporter.binary,
      dir: join(dir, `peer-${n}`),
      pg,
      databases,
      role: MONITOR_ROLE,
      intervalS: INTERVAL_S,
    });
    await sleep(SETTLE_S);
    const prometheusCpu = new ProcessSampler(peer.prometheusPid);
    const exporterRun = await measure(peer.exporterPid);
    const probes = await peer.probes(exporterRun.seconds);
    const prometheusCores = prometheusCpu.window().cores;
    prometheusCpu.stop();
    await peer.stop();
    phases.push({
      tool: `postgres_exporter ${exporter.version}`,
      ...exporterRun,
      doneOverDue: probes.scraped / ((n * exporterRun.seconds) / INTERVAL_S),
      note: `${probes.up} of ${probes.scraped} probes reached PostgreSQL (pg_up), mean probe ${(probes.meanDurationS * 1000).toFixed(0)} ms; Prometheus itself ${prometheusCores.toFixed(3)} cores (not counted)`,
    });

    for (const sessionPolicy of ['Reuse', 'PerCheck'] as const) {
      const namespace = `peer-${n}-${sessionPolicy.toLowerCase()}`;
      log(`N=${n}: dbwatch ${sessionPolicy}: ${n} monitors in ${namespace}`);
      await fleet.createNamespaces([namespace]);
      // One Secret per database, as each application has its own.
      const monitors = databases.map((database) => {
        const name = database.replace('_', '-');
        return { namespace, name, secret: name, database };
      });
      for (const m of monitors) {
        const data = { host: pg.host, port: String(pg.port), database: m.database, ...MONITOR_ROLE };
        await fleet.createSecret(namespace, m.secret, data);
      }
      await fleet.createMonitors(monitors, `${INTERVAL_S}s`, 16, {
        connection: { sessionPolicy },
        checks: { pool: { enabled: true }, migrations: { tool: 'flyway' } },
      });
      const port = await freePort();
      const operator = startOperator(command, {
        operatorDir: REPO,
        dir,
        kubeconfig: cp.kubeconfig,
        metricsPort: port,
        runtime: 'dist',
        env: { WATCH_NAMESPACES: namespace },
      });
      const stopOperator = () => operator.stop();
      cleanups.push(stopOperator);
      const started = performance.now();
      while ((await fleet.withStatus(namespace).catch(() => 0)) < n) {
        if (operator.child.exitCode !== null) throw new Error(`operator exited; see ${dir}/operator.log`);
        if (performance.now() - started > 10 * 60_000) throw new Error(`not every monitor has a status`);
        await sleep(2);
      }
      log(`N=${n}: every monitor has a status; settling ${SETTLE_S} s, measuring ${WINDOW_S} s`);
      await sleep(SETTLE_S);
      const before = await scrape(port);
      const run = await measure(operator.pid);
      const after = await scrape(port);
      await operator.stop();
      const delta = (name: string, labels: Record<string, string> = {}) =>
        total(after, name, labels) - total(before, name, labels);
      const statuses = await fleet.statusCounts(namespace);
      // What the checks saw, from one monitor: proof that pool and Flyway were read.
      const sample = (await fleet.status(namespace, monitors[0]!.name)) as {
        health?: { migrationStatus?: { appliedCount?: number } };
        pool?: { utilizationPercent?: number };
      };
      phases.push({
        tool: `dbwatch ${sessionPolicy}`,
        ...run,
        doneOverDue:
          delta('dbwatch_check_duration_seconds_count', { check: 'health' }) / ((n * run.seconds) / INTERVAL_S),
        note: `fresh logins ${delta('dbwatch_check_duration_seconds_count', { check: 'login' })}, skipped slots ${delta('dbwatch_checks_skipped_total')}; statuses ${JSON.stringify(statuses)}; ${monitors[0]!.name}: Flyway migrations applied ${sample.health?.migrationStatus?.appliedCount}, server connections ${sample.pool?.utilizationPercent}% used`,
      });
    }
    await sessions.stop();
    await pg.stop();
    cleanups.splice(cleanups.indexOf(stopPg), 1);
    report.push(...table(n, phases));
  }

  const machine = `${cpus().length} × ${cpus()[0]?.model.trim()}, ${(totalmem() / 2 ** 30).toFixed(0)} GiB (${hostname()})`;
  console.log(`\n## Peer benchmark: interval ${INTERVAL_S} s, window ${WINDOW_S} s — ${new Date().toISOString()}`);
  console.log(
    `machine: ${machine}; load average at the end: ${execFileSync('cat', ['/proc/loadavg']).toString().trim()}`,
  );
  console.log(`dbwatch: ${execFileSync('git', ['-C', REPO, 'rev-parse', '--short', 'HEAD']).toString().trim()}`);
  console.log(report.join('\n'));
} finally {
  await cleanup();
}

/** Per database: m = millicores (1/1000 of a core). PostgreSQL's CPU is above its idle figure. */
function table(n: number, phases: Phase[]): string[] {
  const idle = phases[0]!.pgCores;
  const peer = phases[1]!;
  const perDb = (cores: number) => ((cores * 1000) / n).toFixed(2);
  const ratio = (a: number, b: number) => (b > 0 ? `${(a / b).toFixed(2)}×` : 'n/a');
  const lines = [
    `\n### N = ${n} databases (PostgreSQL idle: ${(idle * 1000).toFixed(0)} m)\n`,
    '| tool | done / due | tool CPU m / db | PostgreSQL CPU m / db | sessions held (median, max) | per db | tool RSS MiB | tool CPU × exporter | PostgreSQL CPU × exporter |',
    '| --- | --- | --- | --- | --- | --- | --- | --- | --- |',
  ];
  for (const p of phases.slice(1)) {
    const pgAbove = p.pgCores - idle;
    lines.push(
      `| ${p.tool} | ${p.doneOverDue?.toFixed(3)} | ${perDb(p.toolCores ?? 0)} | ${perDb(pgAbove)} | ${p.sessions.median}, ${p.sessions.max} | ${(p.sessions.median / n).toFixed(2)} | ${p.toolRssMiB?.toFixed(0)} | ${ratio(p.toolCores ?? 0, peer.toolCores ?? 0)} | ${ratio(pgAbove, peer.pgCores - idle)} |`,
    );
  }
  lines.push('', ...phases.slice(1).map((p) => `- ${p.tool}: ${p.note}`));
  return lines;
}
