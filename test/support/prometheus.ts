import { type ChildProcess, spawn } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { freePort } from './free-port.js';

/**
 * A throwaway Prometheus server (Debian's `prometheus` package, installed by hack/ensure-system-packages.sh)
 * on a free loopback port, with its config and TSDB in a temporary directory. It scrapes the given targets
 * and evaluates the given rule files every `intervalSeconds`, so alerts fire in test time.
 */
export interface PrometheusServer {
  url: string;
  /** An instant query; the `data.result` vector or matrix (throws on a query error). */
  query(expr: string): Promise<PromSample[]>;
  /** Active alerts (pending and firing) from /api/v1/alerts. */
  alerts(): Promise<PromAlert[]>;
  stop(): Promise<void>;
  /** The server's last log lines, for failure messages. */
  logs(): string;
}

export interface PromSample {
  metric: Record<string, string>;
  value: [number, string];
}

export interface PromAlert {
  labels: Record<string, string>;
  annotations: Record<string, string>;
  state: 'pending' | 'firing';
  activeAt: string;
  value: string;
}

export interface PrometheusOptions {
  /** host:port of each /metrics target, scraped as job `dbwatch` with honor_labels (as the chart does). */
  targets: string[];
  ruleFiles?: string[];
  intervalSeconds?: number;
  /** host:port of Alertmanagers that firing and resolved alerts are sent to (v2 API). */
  alertmanagers?: string[];
}

const REQUEST_TIMEOUT_MS = 5000;

async function api<T>(base: string, path: string): Promise<T> {
  const response = await fetch(`${base}${path}`, { signal: AbortSignal.timeout(REQUEST_TIMEOUT_MS) });
  const body = (await response.json()) as { status: string; data: T; error?: string };
  if (body.status !== 'success') throw new Error(`Prometheus ${path}: ${body.error ?? response.status}`);
  return body.data;
}

export async function startPrometheus(options: PrometheusOptions): Promise<PrometheusServer> {
  const dir = mkdtempSync(join(tmpdir(), 'dbwatch-prom-'));
  const interval = `${options.intervalSeconds ?? 1}s`;
  const config = {
    global: { scrape_interval: interval, scrape_timeout: interval, evaluation_interval: interval },
    rule_files: (options.ruleFiles ?? []).map((file) => resolve(file)),
    scrape_configs: [{ job_name: 'dbwatch', honor_labels: true, static_configs: [{ targets: options.targets }] }],
    ...(options.alertmanagers
      ? { alerting: { alertmanagers: [{ api_version: 'v2', static_configs: [{ targets: options.alertmanagers }] }] } }
      : {}),
  };
  // JSON is YAML: no serializer needed.
  writeFileSync(join(dir, 'prometheus.yml'), JSON.stringify(config, null, 2));
  const port = await freePort();
  const url = `http://127.0.0.1:${port}`;
  let stderr = '';
  const child: ChildProcess = spawn(
    'prometheus',
    [
      `--config.file=${join(dir, 'prometheus.yml')}`,
      `--storage.tsdb.path=${join(dir, 'data')}`,
      `--web.listen-address=127.0.0.1:${port}`,
      '--log.level=warn',
    ],
    { stdio: ['ignore', 'ignore', 'pipe'] },
  );
  child.stderr?.on('data', (b: Buffer) => {
    stderr = (stderr + b.toString()).slice(-8000);
  });
  const spawnFailed = new Promise<Error>((ok) => child.once('error', ok));
  const stop = async () => {
    if (child.exitCode === null && child.signalCode === null) {
      const exited = new Promise((ok) => child.once('exit', ok));
      child.kill('SIGTERM');
      await Promise.race([exited, new Promise((ok) => setTimeout(ok, 10_000).unref())]);
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
    }
    rmSync(dir, { recursive: true, force: true });
  };
  const server: PrometheusServer = {
    url,
    query: async (expr) =>
      (await api<{ result: PromSample[] }>(url, `/api/v1/query?query=${encodeURIComponent(expr)}`)).result,
    alerts: async () => (await api<{ alerts: PromAlert[] }>(url, '/api/v1/alerts')).alerts,
    stop,
    logs: () => stderr,
  };
  const deadline = Date.now() + 30_000;
  for (;;) {
    const ready = await Promise.race([
      fetch(`${url}/-/ready`, { signal: AbortSignal.timeout(1000) }).then(
        (r) => r.ok,
        () => false,
      ),
      spawnFailed,
    ]);
    if (ready === true) return server;
    if (ready instanceof Error || child.exitCode !== null || Date.now() > deadline) {
      await stop();
      const why = ready instanceof Error ? ready.message : `exit code ${child.exitCode}`;
      throw new Error(`Prometheus did not start (${why}; Debian: apt-get install prometheus)\n${stderr}`);
    }
    await new Promise((ok) => setTimeout(ok, 200));
  }
}
