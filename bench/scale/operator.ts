import { type ChildProcess, execFileSync, spawn } from 'node:child_process';
import { closeSync, openSync, readFileSync, symlinkSync } from 'node:fs';
import { join } from 'node:path';
import { load } from 'js-yaml';

/**
 * `dbwatch operator` of a checkout as its own process, the way the image runs it: compiled with tsc
 * (`runtime: 'dist'`) or from source through tsx, with the V8 flags the checkout's chart gives it.
 */
export interface OperatorOptions {
  operatorDir: string;
  /** Scratch directory: the compiled operator and operator.log go here. */
  dir: string;
  kubeconfig: string;
  metricsPort: number;
  runtime: 'dist' | 'tsx';
  /** NAME=value overrides; NODE_OPTIONS replaces the chart's flags. */
  env?: Record<string, string>;
  /** Extra node flags before the script (e.g. heap snapshots). */
  nodeFlags?: string[];
}

export interface OperatorProcess {
  child: ChildProcess;
  pid: number;
  /** NODE_OPTIONS it runs with. */
  nodeOptions: string;
  exited: Promise<unknown>;
  /** SIGTERM, then SIGKILL after `graceSeconds`; resolves once it has exited. */
  stop(graceSeconds?: number): Promise<void>;
}

/** Compiles the checkout's operator once into `dir/dist`; returns the command line that runs it. */
export function operatorCommand(operatorDir: string, dir: string, runtime: 'dist' | 'tsx'): string[] {
  if (runtime === 'tsx') return ['--import', 'tsx', join(operatorDir, 'src/cli/main.ts')];
  const tsc = join(operatorDir, 'node_modules/.bin/tsc');
  execFileSync(tsc, ['-p', 'tsconfig.build.json', '--outDir', join(dir, 'dist')], { cwd: operatorDir });
  // The compiled files import their dependencies by name: give them the checkout's node_modules.
  symlinkSync(join(operatorDir, 'node_modules'), join(dir, 'node_modules'));
  // `dbwatch --version` reads the package's manifest beside dist/, as in the image.
  symlinkSync(join(operatorDir, 'package.json'), join(dir, 'package.json'));
  return [join(dir, 'dist/cli/main.js')];
}

/** The chart's V8 flags (deploy/helm/dbwatch: heapLimitMiB and a 2 MiB semi-space), as the Pod gets them. */
export function chartNodeOptions(operatorDir: string): string {
  const values = load(readFileSync(join(operatorDir, 'deploy/helm/dbwatch/values.yaml'), 'utf8')) as {
    heapLimitMiB?: number;
  };
  return values.heapLimitMiB ? `--max-old-space-size=${values.heapLimitMiB} --max-semi-space-size=2` : '';
}

/** The environment the image sets (its Dockerfile's ENV lines), as the Pod's process gets it. */
export function imageEnv(operatorDir: string): Record<string, string> {
  const lines = readFileSync(join(operatorDir, 'Dockerfile'), 'utf8').match(/^ENV .+$/gm) ?? [];
  const pairs = lines.flatMap((l) => l.slice(4).trim().split(/\s+/));
  return Object.fromEntries(pairs.map((kv) => [kv.slice(0, kv.indexOf('=')), kv.slice(kv.indexOf('=') + 1)]));
}

export function startOperator(command: string[], o: OperatorOptions): OperatorProcess {
  const nodeOptions = o.env?.NODE_OPTIONS ?? chartNodeOptions(o.operatorDir);
  const out = openSync(join(o.dir, 'operator.log'), 'a');
  const child = spawn(process.execPath, [...(o.nodeFlags ?? []), ...command, 'operator'], {
    cwd: o.operatorDir,
    env: {
      ...process.env,
      ...imageEnv(o.operatorDir),
      KUBECONFIG: o.kubeconfig,
      LEADER_ELECT: 'false',
      METRICS_PORT: String(o.metricsPort),
      LOG_LEVEL: 'warn',
      ...o.env,
      NODE_OPTIONS: nodeOptions,
    },
    stdio: ['ignore', out, out],
  });
  closeSync(out);
  const exited = new Promise((ok) => child.once('exit', ok));
  return {
    child,
    pid: child.pid!,
    nodeOptions,
    exited,
    async stop(graceSeconds = 25) {
      if (child.exitCode !== null || child.signalCode !== null) return;
      child.kill('SIGTERM');
      await Promise.race([exited, new Promise((ok) => setTimeout(ok, graceSeconds * 1000))]);
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
      await exited;
    },
  };
}
