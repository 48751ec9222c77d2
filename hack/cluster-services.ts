import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, rmSync, symlinkSync } from 'node:fs';
import http from 'node:http';
import { join, resolve } from 'node:path';
import { dump } from 'js-yaml';
import { launch, waitFor } from '../test/support/control-plane.js';
import { freePort } from '../test/support/free-port.js';
import { type DemoDatabase, ordersSecret } from './demo-database.js';

/*
 * What `npm run cluster:up` starts beside the control plane for the README's quick start, each recorded in a pid
 * file in the cluster directory so that `npm run cluster:down` stops it: the operator (--operator), the demo
 * database behind Secret orders-db (--demo-database), and a bin directory with kubectl, helm, dbwatch and the
 * kubectl plugin for PATH.
 */

const REPO = resolve(import.meta.dirname, '..');
const tsx = [process.execPath, '--import', 'tsx'] as const;

/** bin/ with kubectl and helm from the build cache, and dbwatch and kubectl-dbwatch from the checkout. */
export function linkTools(dir: string, binDir: string): string {
  const bin = join(dir, 'bin');
  mkdirSync(bin, { recursive: true });
  const links: [string, string][] = [
    ['kubectl', join(binDir, 'kubectl')],
    ['helm', join(binDir, 'helm')],
    ['dbwatch', join(REPO, 'hack/bin/dbwatch')],
    ['kubectl-dbwatch', join(REPO, 'hack/bin/kubectl-dbwatch')],
  ];
  for (const [name, target] of links) {
    rmSync(join(bin, name), { force: true });
    symlinkSync(target, join(bin, name));
  }
  return bin;
}

const ready = (port: number) =>
  new Promise<boolean>((ok) =>
    http
      .get({ host: '127.0.0.1', port, path: '/readyz', timeout: 1000 }, (res) => {
        res.resume();
        ok(res.statusCode === 200);
      })
      .on('error', () => ok(false)),
  );

/** `dbwatch operator` in the background (no leader election: one replica), until its caches have synced. */
export async function startOperator(dir: string, kubeconfig: string): Promise<number> {
  const port = await freePort();
  launch(dir, 'dbwatch-operator', tsx[0], [...tsx.slice(1), join(REPO, 'src/cli/main.ts'), 'operator'], true, {
    ...process.env,
    KUBECONFIG: kubeconfig,
    LEADER_ELECT: 'false',
    METRICS_PORT: String(port),
  });
  await waitFor('the operator', dir, 'dbwatch-operator', () => ready(port), 90_000);
  return port;
}

/** The demo database in the background, and Secret orders-db (namespace default) pointing at it. */
export async function startDemoDatabase(dir: string, kubectl: string, kubeconfig: string): Promise<DemoDatabase> {
  const file = join(dir, 'demo-database.json');
  launch(dir, 'demo-database', tsx[0], [...tsx.slice(1), join(REPO, 'hack/demo-database.ts'), 'serve', file], true);
  await waitFor('the demo database', dir, 'demo-database', async () => existsSync(file), 90_000);
  const db = JSON.parse(readFileSync(file, 'utf8')) as DemoDatabase;
  execFileSync(kubectl, ['--kubeconfig', kubeconfig, 'apply', '-f', '-'], {
    input: dump(ordersSecret(db, 'default')),
    stdio: ['pipe', 'inherit', 'inherit'],
  });
  return db;
}
