import { type ChildProcess, execFileSync, spawn, spawnSync } from 'node:child_process';
import { closeSync, mkdirSync, openSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { dump } from 'js-yaml';
import { freePort } from '../../test/support/free-port.js';
import type { PostgresServer } from '../../test/support/postgres-server.js';

/*
 * prometheus-community/postgres_exporter in multi-target mode (one exporter, /probe?target=…&auth_module=…),
 * probed by a real Prometheus (Debian's) whose scrape config lists one target per database, every `intervalS`:
 * how the exporter's docs run it, and a real scraper spreads the targets over the interval and times out
 * slow probes as in production. Built from its Go module by hack/build-postgres-exporter.sh.
 */

export interface Peer {
  exporterPid: number;
  prometheusPid: number;
  /** Scrapes (probes) Prometheus made in the last `seconds`, and how many of them reached PostgreSQL (pg_up). */
  probes(seconds: number): Promise<{ scraped: number; up: number; meanDurationS: number }>;
  stop(): Promise<void>;
}

const HACK = resolve(import.meta.dirname, '../../hack');

export function buildExporter(): { binary: string; version: string } {
  const binary = execFileSync(join(HACK, 'build-postgres-exporter.sh'), { encoding: 'utf8' }).trim();
  // It prints its version on stderr.
  const version = /version (\S+)/.exec(spawnSync(binary, ['--version'], { encoding: 'utf8' }).stderr)?.[1] ?? '?';
  return { binary, version };
}

/** A child process with its output in `logFile`; stop() sends SIGTERM, then SIGKILL after 10 s. */
function child(command: string, args: string[], logFile: string): { proc: ChildProcess; stop(): Promise<void> } {
  const out = openSync(logFile, 'a');
  const proc = spawn(command, args, { stdio: ['ignore', out, out] });
  closeSync(out);
  const exited = new Promise((ok) => proc.once('exit', ok));
  return {
    proc,
    async stop() {
      if (proc.exitCode !== null || proc.signalCode !== null) return;
      proc.kill('SIGTERM');
      await Promise.race([exited, new Promise((ok) => setTimeout(ok, 10_000))]);
      if (proc.exitCode === null && proc.signalCode === null) proc.kill('SIGKILL');
      await exited;
    },
  };
}

export async function startPeer(o: {
  binary: string;
  dir: string;
  pg: PostgresServer;
  databases: string[];
  role: { username: string; password: string };
  intervalS: number;
}): Promise<Peer> {
  mkdirSync(o.dir, { recursive: true });
  const exporterPort = await freePort();
  const authModules = {
    auth_modules: { bench: { type: 'userpass', userpass: o.role, options: { sslmode: 'disable' } } },
  };
  writeFileSync(join(o.dir, 'exporter.yml'), dump(authModules));
  const exporter = child(
    o.binary,
    [`--config.file=${join(o.dir, 'exporter.yml')}`, `--web.listen-address=127.0.0.1:${exporterPort}`],
    join(o.dir, 'exporter.log'),
  );

  const prometheusPort = await freePort();
  const scrapeConfig = {
    global: { scrape_interval: `${o.intervalS}s`, scrape_timeout: `${Math.min(10, o.intervalS)}s` },
    scrape_configs: [
      {
        job_name: 'postgres',
        metrics_path: '/probe',
        params: { auth_module: ['bench'] },
        static_configs: [{ targets: o.databases.map((db) => `${o.pg.host}:${o.pg.port}/${db}`) }],
        relabel_configs: [
          { source_labels: ['__address__'], target_label: '__param_target' },
          { source_labels: ['__param_target'], target_label: 'instance' },
          { target_label: '__address__', replacement: `127.0.0.1:${exporterPort}` },
        ],
      },
    ],
  };
  writeFileSync(join(o.dir, 'prometheus.yml'), dump(scrapeConfig));
  const prometheus = child(
    'prometheus',
    [
      `--config.file=${join(o.dir, 'prometheus.yml')}`,
      `--storage.tsdb.path=${join(o.dir, 'tsdb')}`,
      `--web.listen-address=127.0.0.1:${prometheusPort}`,
    ],
    join(o.dir, 'prometheus.log'),
  );

  const query = async (promql: string): Promise<number> => {
    const url = `http://127.0.0.1:${prometheusPort}/api/v1/query?query=${encodeURIComponent(promql)}`;
    const body = (await (await fetch(url, { signal: AbortSignal.timeout(10_000) })).json()) as {
      data: { result: { value: [number, string] }[] };
    };
    return Number(body.data.result[0]?.value[1] ?? 0);
  };
  return {
    exporterPid: exporter.proc.pid!,
    prometheusPid: prometheus.proc.pid!,
    async probes(seconds) {
      const range = `[${Math.round(seconds)}s]`;
      return {
        scraped: await query(`sum(count_over_time(up{job="postgres"}${range}))`),
        up: await query(`sum(sum_over_time(pg_up{job="postgres"}${range}))`),
        meanDurationS: await query(`avg(avg_over_time(scrape_duration_seconds{job="postgres"}${range}))`),
      };
    },
    async stop() {
      await prometheus.stop();
      await exporter.stop();
    },
  };
}
