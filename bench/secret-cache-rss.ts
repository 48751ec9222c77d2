import { execFileSync, spawn, spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { existsSync, mkdtempSync, openSync, rmSync, symlinkSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import * as k8s from '@kubernetes/client-node';
import { startControlPlane } from '../test/support/control-plane.js';
import { freePort } from '../test/support/free-port.js';
import { rssMiB } from './scale/process-sampler.js';

/**
 * What unrelated Secrets cost the operator: a real control plane holding `--secrets` Secrets of `--kib` KiB
 * each (as Helm release Secrets are), and the operator (compiled, watching all namespaces) started from each
 * `--operator-dir` in turn; prints its RSS once synced and settled. Run under `flock /tmp/dbwatch-heavy.lock`:
 *   node --import tsx bench/secret-cache-rss.ts --operator-dir /tmp/before --operator-dir .
 */
const { values: args } = parseArgs({
  options: {
    secrets: { type: 'string', default: '200' },
    kib: { type: 'string', default: '512' },
    namespaces: { type: 'string', default: '4' },
    'operator-dir': { type: 'string', multiple: true, default: ['.'] },
  },
});
const sleep = (ms: number) => new Promise((ok) => setTimeout(ok, ms));

interface Figures {
  /** Undefined: not synced within 180 s. */
  readyAfterS: number | undefined;
  peak: number;
  now: number;
  watchErrors: string;
}

async function measure(operatorDir: string, kubeconfig: string): Promise<Figures> {
  const dist = mkdtempSync(join(tmpdir(), 'dbwatch-rss-'));
  try {
    // A type error elsewhere in a checkout still emits JavaScript; only a missing entry point is fatal.
    spawnSync(join(operatorDir, 'node_modules/.bin/tsc'), ['-p', 'tsconfig.build.json', '--outDir', dist], {
      cwd: operatorDir,
    });
    if (!existsSync(join(dist, 'cli/main.js'))) throw new Error(`tsc produced no cli/main.js for ${operatorDir}`);
    symlinkSync(join(operatorDir, 'node_modules'), join(dist, 'node_modules'));
    const port = await freePort();
    const operator = spawn(process.execPath, [join(dist, 'cli/main.js'), 'operator'], {
      cwd: operatorDir,
      env: { ...process.env, KUBECONFIG: kubeconfig, LEADER_ELECT: 'false', METRICS_PORT: String(port) },
      stdio: ['ignore', openSync(join(dist, 'operator.log'), 'w'), 'inherit'],
    });
    try {
      // RSS is sampled from the start: an operator that cannot sync is measured too.
      const started = Date.now();
      let peak = 0;
      let readyAfterS: number | undefined;
      while (Date.now() - started < (readyAfterS === undefined ? 180_000 : (readyAfterS + 10) * 1000)) {
        if (operator.exitCode !== null) throw new Error(`operator exited ${operator.exitCode}`);
        peak = Math.max(peak, rssMiB(operator.pid!));
        if (readyAfterS === undefined) {
          const ready = await fetch(`http://127.0.0.1:${port}/readyz`).then(
            (r) => r.ok,
            () => false,
          );
          if (ready) readyAfterS = (Date.now() - started) / 1000;
        }
        await sleep(500);
      }
      const metrics = await (await fetch(`http://127.0.0.1:${port}/metrics`)).text();
      const watchErrors = metrics
        .split('\n')
        .filter((l) => l.startsWith('dbwatch_watch_errors_total'))
        .join(', ');
      return { readyAfterS, peak, now: rssMiB(operator.pid!), watchErrors: watchErrors || 'none' };
    } finally {
      operator.kill('SIGKILL');
    }
  } finally {
    rmSync(dist, { recursive: true, force: true });
  }
}

const dir = mkdtempSync(join(tmpdir(), 'dbwatch-rss-cp-'));
const cp = await startControlPlane({ dir });
try {
  execFileSync(join(cp.binDir, 'kubectl'), ['--kubeconfig', cp.kubeconfig, 'apply', '-f', 'crds/'], {
    stdio: 'ignore',
  });
  const kc = new k8s.KubeConfig();
  kc.loadFromFile(cp.kubeconfig);
  const core = kc.makeApiClient(k8s.CoreV1Api);
  const namespaces = Array.from({ length: Number(args.namespaces) }, (_, i) => `releases-${i}`);
  for (const name of namespaces) await core.createNamespace({ body: { metadata: { name } } });
  const bytes = Number(args.kib) * 1024;
  for (let i = 0; i < Number(args.secrets); i++) {
    await core.createNamespacedSecret({
      namespace: namespaces[i % namespaces.length]!,
      body: {
        metadata: { name: `sh.helm.release.v1.app-${i}.v1`, labels: { owner: 'helm' } },
        type: 'helm.sh/release.v1',
        // Random bytes: incompressible, like a gzipped release.
        data: { release: randomBytes(bytes).toString('base64') },
      },
    });
  }
  console.log(`${args.secrets} Secrets of ${args.kib} KiB in ${namespaces.length} namespaces`);
  for (const operatorDir of args['operator-dir'].map((d) => resolve(d))) {
    if (!existsSync(join(operatorDir, 'node_modules'))) throw new Error(`${operatorDir} has no node_modules`);
    const rev = execFileSync('git', ['-C', operatorDir, 'rev-parse', '--short', 'HEAD'], { encoding: 'utf8' }).trim();
    const f = await measure(operatorDir, cp.kubeconfig).catch((error: Error) => error);
    if (f instanceof Error) {
      console.log(`${operatorDir} (${rev}): ${f.message}`);
      continue;
    }
    const ready =
      f.readyAfterS === undefined ? 'NOT synced within 180 s' : `synced after ${f.readyAfterS.toFixed(1)} s`;
    console.log(
      `${operatorDir} (${rev}): ${ready}; RSS peak ${f.peak.toFixed(0)} MiB, at the end ${f.now.toFixed(0)} MiB; ` +
        `watch errors: ${f.watchErrors}`,
    );
  }
} finally {
  await cp.stop();
  rmSync(dir, { recursive: true, force: true });
}
