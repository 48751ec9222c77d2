import { type ChildProcess, spawn } from 'node:child_process';
import { freePort } from './free-port.js';
import { operatorUserKubeconfig } from './operator.js';

/** `dbwatch operator` as its own process (as in a Pod), bound to the shipped roles, watching one namespace. */
export interface OperatorProcess {
  child: ChildProcess;
  metricsPort: number;
  /** The last 20,000 characters of its stdout and stderr. */
  output(): string;
  /** Exit codes seen so far: empty while it runs. */
  exits: (number | null)[];
  /** SIGTERM, then SIGKILL if it has not exited within its shutdown grace (20 s) plus 5 s. */
  stop(): Promise<void>;
}

export async function startOperatorProcess(namespace: string): Promise<OperatorProcess> {
  const metricsPort = await freePort();
  const child = spawn(process.execPath, ['--import', 'tsx', 'src/cli/main.ts', 'operator'], {
    env: {
      ...process.env,
      KUBECONFIG: await operatorUserKubeconfig(namespace),
      WATCH_NAMESPACES: namespace,
      LEADER_ELECT: 'false',
      METRICS_PORT: String(metricsPort),
      LOG_LEVEL: 'info',
    },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let output = '';
  const keep = (b: Buffer) => {
    output = (output + b.toString()).slice(-20_000);
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
  };
}
