import { type ChildProcess, spawn } from 'node:child_process';
import { appendFileSync } from 'node:fs';
import { freePort } from './free-port.js';
import { grantOperatorNamespace, operatorUserKubeconfig } from './operator.js';

/** `dbwatch operator` as its own process (as in a Pod), bound to the shipped roles, watching its namespaces. */
export interface OperatorProcess {
  child: ChildProcess;
  metricsPort: number;
  /** The last 20,000 characters of its stdout and stderr. */
  output(): string;
  /** Exit codes seen so far: empty while it runs. */
  exits: (number | null)[];
  /** SIGTERM, then SIGKILL if it has not exited within its shutdown grace (20 s) plus 5 s. */
  stop(): Promise<void>;
  /** SIGKILL, as when a node dies or the OOM killer strikes: no shutdown code runs. */
  kill(): Promise<void>;
}

export interface OperatorProcessOptions {
  /** Extra environment, e.g. ALERTMANAGER_URL. */
  env?: Record<string, string>;
  /** A fixed metrics port (a restarted operator keeps its Prometheus target); default a free one. */
  metricsPort?: number;
  /** A kubeconfig already bound to the operator's roles (a control plane of the test's own); default the run's. */
  kubeconfig?: string;
  /** Every line it writes is also appended here (output() keeps only the tail). */
  logFile?: string;
}

export async function startOperatorProcess(
  namespaces: string | string[],
  options: OperatorProcessOptions = {},
): Promise<OperatorProcess> {
  const watched = typeof namespaces === 'string' ? [namespaces] : namespaces;
  const metricsPort = options.metricsPort ?? (await freePort());
  const kubeconfig = options.kubeconfig ?? (await operatorUserKubeconfig(watched[0]));
  if (!options.kubeconfig) for (const ns of watched.slice(1)) await grantOperatorNamespace(ns);
  const child = spawn(process.execPath, ['--import', 'tsx', 'src/cli/main.ts', 'operator'], {
    env: {
      ...process.env,
      KUBECONFIG: kubeconfig,
      WATCH_NAMESPACES: watched.join(','),
      LEADER_ELECT: 'false',
      METRICS_PORT: String(metricsPort),
      LOG_LEVEL: 'info',
      ...options.env,
    },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let output = '';
  const keep = (b: Buffer) => {
    output = (output + b.toString()).slice(-20_000);
    if (options.logFile) appendFileSync(options.logFile, b);
  };
  child.stdout?.on('data', keep);
  child.stderr?.on('data', keep);
  const exits: (number | null)[] = [];
  child.on('exit', (code) => exits.push(code));
  return {
    child,
    metricsPort,
    output: () => output,
    exits,
    async stop() {
      if (child.exitCode !== null || child.signalCode !== null) return;
      const exited = new Promise((ok) => child.once('exit', ok));
      child.kill('SIGTERM');
      await Promise.race([exited, new Promise((ok) => setTimeout(ok, 25_000).unref())]);
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
    },
    async kill() {
      if (child.exitCode !== null || child.signalCode !== null) return;
      const exited = new Promise((ok) => child.once('exit', ok));
      child.kill('SIGKILL');
      await exited;
    },
  };
}
