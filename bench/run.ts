import { performance } from 'node:perf_hooks';
import pg from 'pg';
import { databaseMonitorSpecSchema } from '../src/api/index.js';
import { createEngine, probeConnection, resolveConnection, runMonitorChecks } from '../src/checks/index.js';
import { startPostgres } from '../test/support/postgres-server.js';

/**
 * `npm run bench`: dbwatch's check paths against a bare node-postgres baseline doing the same queries,
 * measured in the same run on the same throwaway PostgreSQL. Prints figures and ratios; asserts nothing.
 */
const ITERATIONS = Number(process.env.BENCH_ITERATIONS ?? 2000);
const MONITORS = Number(process.env.BENCH_MONITORS ?? 25);

const server = await startPostgres({ maxConnections: 100 });
const base = {
  host: server.host,
  port: server.port,
  user: server.superuser,
  password: server.superuserPassword,
  database: 'postgres',
};
const config = {
  engine: 'postgres' as const,
  host: server.host,
  port: server.port,
  database: 'postgres',
  username: server.superuser,
  password: server.superuserPassword,
  tls: { mode: 'disable' as const },
  connectTimeoutMs: 5000,
};

async function timeIt(n: number, work: () => Promise<unknown>): Promise<number> {
  for (let i = 0; i < Math.min(100, n); i++) await work(); // warm-up
  const start = performance.now();
  for (let i = 0; i < n; i++) await work();
  return (performance.now() - start) / n;
}

const rows: [string, string, string, string][] = [];
const row = (what: string, baseline: number, ours: number, unit: string) =>
  rows.push([
    what,
    `${baseline.toFixed(unit === 'ms' ? 3 : 1)} ${unit}`,
    `${ours.toFixed(unit === 'ms' ? 3 : 1)} ${unit}`,
    `${(ours / baseline).toFixed(2)}×`,
  ]);

try {
  // 1. Health probe: pooled SELECT 1.
  const barePool = new pg.Pool({ ...base, max: 2 });
  const bareProbe = await timeIt(ITERATIONS, () => barePool.query('SELECT 1'));
  const engine = createEngine(config);
  const ourProbe = await timeIt(ITERATIONS, () => probeConnection(engine, 5000));
  row(`health probe (pooled SELECT 1), mean of ${ITERATIONS}`, bareProbe, ourProbe, 'ms');

  // 2. A full monitoring pass (probe, database info, utilization) vs the same three queries by hand.
  const spec = databaseMonitorSpecSchema.parse({ engine: 'postgres', connection: { secretRef: { name: 'x' } } });
  const resolved = resolveConnection('postgres', spec.connection, () => ({
    ...base,
    port: String(base.port),
    username: base.user,
  }));
  if (!resolved.ok) throw new Error(resolved.message);
  const passes = Math.max(100, ITERATIONS / 4);
  const barePass = await timeIt(passes, async () => {
    await barePool.query('SELECT 1');
    await barePool.query("SELECT current_setting('server_version'), pg_is_in_recovery()");
    await barePool.query(
      "SELECT count(*) FILTER (WHERE state = 'active'), count(*) FROM pg_stat_activity WHERE backend_type = 'client backend'",
    );
  });
  const ourPass = await timeIt(passes, () =>
    runMonitorChecks(engine, spec, resolved, { includePerformance: false, makeEngine: () => createEngine(config) }),
  );
  row(`monitor pass (health + pool), mean of ${passes}`, barePass, ourPass, 'ms');
  await engine.close();
  await barePool.end();

  // 3. Memory per monitor: one open pooled connection each.
  const heapNow = () => {
    global.gc?.();
    return process.memoryUsage().heapUsed;
  };
  const h0 = heapNow();
  const barePools = await Promise.all(
    Array.from({ length: MONITORS }, async () => {
      const p = new pg.Pool({ ...base, max: 2 });
      await p.query('SELECT 1');
      return p;
    }),
  );
  const bareBytes = (heapNow() - h0) / MONITORS;
  await Promise.all(barePools.map((p) => p.end()));
  const h1 = heapNow();
  const engines = await Promise.all(
    Array.from({ length: MONITORS }, async () => {
      const e = createEngine(config);
      await probeConnection(e, 5000);
      return e;
    }),
  );
  const ourBytes = (heapNow() - h1) / MONITORS;
  await Promise.all(engines.map((e) => e.close()));
  row(
    `heap per monitor with an open connection (${MONITORS} monitors${global.gc ? '' : ', no --expose-gc: rough'})`,
    bareBytes / 1024,
    ourBytes / 1024,
    'KiB',
  );

  const widths = [0, 1, 2, 3].map((i) =>
    Math.max(...[['measure', 'bare pg', 'dbwatch', 'ratio'], ...rows].map((r) => r[i]!.length)),
  );
  for (const r of [['measure', 'bare pg', 'dbwatch', 'ratio'], ...rows])
    console.log(r.map((c, i) => c.padEnd(widths[i]!)).join('  '));
  console.log(`\nnode ${process.version}, PostgreSQL on 127.0.0.1, ${new Date().toISOString()}`);
} finally {
  await server.stop();
}
