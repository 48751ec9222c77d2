import { execFileSync, spawn } from 'node:child_process';
import { closeSync, mkdirSync, openSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import https from 'node:https';
import { join, resolve } from 'node:path';
import { freePort } from './free-port.js';
import { writeKubeconfig } from './kubeconfig.js';
import { createPki, issueClientCert } from './pki.js';

/**
 * A real kube-apiserver backed by a real etcd, built from Go modules (hack/build-control-plane.sh), on
 * free loopback ports, with certificates generated for the run. No controllers run: namespaces never
 * finish terminating and nothing is garbage-collected, so tests use fresh namespaces.
 */
export interface ControlPlane {
  dir: string;
  server: string;
  binDir: string;
  kubeconfig: string;
  stop(): Promise<void>;
}

const REPO = resolve(import.meta.dirname, '../..');

/**
 * Builds every binary the tests use (etcd, kube-apiserver, kubectl, helm) on first use — minutes on a
 * fresh machine — then reuses them from the cache (DBWATCH_CACHE_DIR or ~/.cache/dbwatch).
 */
export function controlPlaneBinaries(): string {
  return execFileSync(join(REPO, 'hack/build-control-plane.sh'), ['etcd', 'kube-apiserver', 'kubectl', 'helm'], {
    encoding: 'utf8',
    stdio: ['ignore', 'pipe', 'inherit'],
  }).trim();
}

export function launch(
  dir: string,
  name: string,
  cmd: string,
  args: string[],
  detached: boolean,
  env: NodeJS.ProcessEnv = process.env,
): number {
  const log = openSync(join(dir, `${name}.log`), 'a');
  const child = spawn(cmd, args, { stdio: ['ignore', log, log], detached, env });
  closeSync(log);
  if (detached) child.unref();
  writeFileSync(join(dir, `${name}.pid`), String(child.pid));
  return child.pid!;
}

export async function waitFor(
  what: string,
  dir: string,
  logName: string,
  probe: () => Promise<boolean>,
  timeoutMs = 60_000,
): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (await probe().catch(() => false)) return;
    await new Promise((ok) => setTimeout(ok, 250));
  }
  const log = readFileSync(join(dir, `${logName}.log`), 'utf8')
    .split('\n')
    .slice(-30)
    .join('\n');
  throw new Error(`${what} did not become ready within ${timeoutMs} ms; last log lines:\n${log}`);
}

function httpsGet(url: string, dir: string): Promise<number> {
  return new Promise((ok, fail) => {
    const req = https.get(
      url,
      {
        ca: readFileSync(join(dir, 'ca.crt')),
        cert: readFileSync(join(dir, 'admin.crt')),
        key: readFileSync(join(dir, 'admin.key')),
        timeout: 2000,
      },
      (res) => {
        res.resume();
        ok(res.statusCode ?? 0);
      },
    );
    req.on('error', fail);
    req.on('timeout', () => req.destroy(new Error('timeout')));
  });
}

const waitForApiServer = (dir: string, server: string) =>
  waitFor(
    'kube-apiserver',
    dir,
    'kube-apiserver',
    async () => (await httpsGet(`${server}/readyz`, dir)) === 200,
    120_000,
  );

/** Stops processes recorded in pid files (SIGTERM, then SIGKILL after 5 s). */
export async function stopProcesses(dir: string, names: string[]): Promise<void> {
  for (const name of names) {
    let pid: number;
    try {
      pid = Number(readFileSync(join(dir, `${name}.pid`), 'utf8'));
    } catch {
      continue;
    }
    const alive = () => {
      try {
        process.kill(pid, 0);
        return true;
      } catch {
        return false;
      }
    };
    if (!alive()) continue;
    process.kill(pid, 'SIGTERM');
    for (let i = 0; i < 50 && alive(); i++) await new Promise((ok) => setTimeout(ok, 100));
    if (alive()) process.kill(pid, 'SIGKILL');
  }
}

/**
 * `node.address`: serve on that address (a node's bridge gateway) instead of loopback, authorize nodes,
 * let the ServiceAccount admission plugin mount tokens, and reach kubelets as an admin (test/support/node.ts).
 */
export async function startControlPlane(options: {
  dir: string;
  detached?: boolean;
  node?: { address: string; serviceIp: string };
  /** API Priority and Fairness on (off by default: the suite's load must never meet a 429 it did not ask for). */
  priorityAndFairness?: boolean;
}): Promise<ControlPlane> {
  const { dir, node } = options;
  const detached = options.detached ?? false;
  const binDir = controlPlaneBinaries();
  mkdirSync(dir, { recursive: true });
  const podSans = node
    ? [`IP:${node.address}`, `IP:${node.serviceIp}`, 'DNS:kubernetes.default.svc', 'DNS:kubernetes.default']
    : [];
  createPki(dir, podSans);
  const admin = issueClientCert(dir, 'dbwatch-admin', ['system:masters']);
  writeFileSync(join(dir, 'admin.crt'), readFileSync(admin.cert));
  writeFileSync(join(dir, 'admin.key'), readFileSync(admin.key));

  const etcdPort = await freePort();
  const etcdUrl = `http://127.0.0.1:${etcdPort}`;
  const etcdArgs = [
    `--data-dir=${join(dir, 'etcd-data')}`,
    `--listen-client-urls=${etcdUrl}`,
    `--advertise-client-urls=${etcdUrl}`,
    '--listen-peer-urls=http://127.0.0.1:0',
    '--unsafe-no-fsync',
    '--log-level=warn',
  ];
  launch(dir, 'etcd', join(binDir, 'etcd'), etcdArgs, detached);
  writeFileSync(join(dir, 'etcd.url'), etcdUrl);
  await waitFor('etcd', dir, 'etcd', async () => (await fetch(`${etcdUrl}/health`)).ok);

  const port = await freePort();
  const address = node?.address ?? '127.0.0.1';
  const server = `https://${address}:${port}`;
  const apiserverArgs = [
    `--etcd-servers=${etcdUrl}`,
    `--cert-dir=${dir}`,
    `--tls-cert-file=${join(dir, 'serving.crt')}`,
    `--tls-private-key-file=${join(dir, 'serving.key')}`,
    `--client-ca-file=${join(dir, 'ca.crt')}`,
    `--secure-port=${port}`,
    `--bind-address=${address}`,
    `--advertise-address=${address}`,
    '--service-cluster-ip-range=10.0.0.0/24',
    '--allow-privileged=true',
    ...(node
      ? [
          '--authorization-mode=Node,RBAC',
          `--kubelet-client-certificate=${join(dir, 'admin.crt')}`,
          `--kubelet-client-key=${join(dir, 'admin.key')}`,
          '--kubelet-preferred-address-types=InternalIP',
        ]
      : ['--authorization-mode=RBAC', '--disable-admission-plugins=ServiceAccount']),
    '--service-account-issuer=https://kubernetes.default.svc.cluster.local',
    `--service-account-key-file=${join(dir, 'sa.pub')}`,
    `--service-account-signing-key-file=${join(dir, 'sa.key')}`,
    `--enable-priority-and-fairness=${options.priorityAndFairness ?? false}`,
  ];
  const command = { cmd: join(binDir, 'kube-apiserver'), args: apiserverArgs, server };
  writeFileSync(join(dir, 'kube-apiserver.args.json'), JSON.stringify(command));
  launch(dir, 'kube-apiserver', command.cmd, apiserverArgs, detached);
  const cp: ControlPlane = {
    dir,
    server,
    binDir,
    kubeconfig: join(dir, 'kubeconfig'),
    stop: async () => {
      await stopProcesses(dir, ['kube-apiserver', 'etcd']);
    },
  };
  try {
    await waitForApiServer(dir, server);
  } catch (error) {
    await cp.stop();
    throw error;
  }
  writeKubeconfig(cp.kubeconfig, server, join(dir, 'ca.crt'), 'dbwatch-admin', admin);
  return cp;
}

/**
 * Compacts etcd's history up to now (through its JSON gateway), so that watches resuming from an
 * older resourceVersion get 410 Gone and must re-list.
 */
export async function compactEtcd(dir: string): Promise<number> {
  const etcd = readFileSync(join(dir, 'etcd.url'), 'utf8');
  const post = async (path: string, body: object) => {
    const res = await fetch(`${etcd}${path}`, { method: 'POST', body: JSON.stringify(body) });
    if (!res.ok) throw new Error(`etcd ${path}: ${res.status} ${await res.text()}`);
    return res.json() as Promise<{ header: { revision: string } }>;
  };
  const { header } = await post('/v3/kv/range', { key: Buffer.from('/').toString('base64') });
  await post('/v3/kv/compaction', { revision: header.revision, physical: true });
  return Number(header.revision);
}

/** Kills kube-apiserver and starts it again on the same port and etcd: for watch-resilience tests. */
export async function restartApiServer(dir: string): Promise<void> {
  await stopProcesses(dir, ['kube-apiserver']);
  await startApiServerAgain(dir);
}

/** Starts kube-apiserver again with the arguments it was first started with; resolves when it is ready. */
export async function startApiServerAgain(dir: string): Promise<void> {
  const { cmd, args, server } = JSON.parse(readFileSync(join(dir, 'kube-apiserver.args.json'), 'utf8'));
  launch(dir, 'kube-apiserver', cmd, args, false);
  await waitForApiServer(dir, server);
}

/** The pid of a control-plane process (`etcd`, `kube-apiserver`) from its pid file: to freeze or kill it. */
export const pidOf = (dir: string, name: 'etcd' | 'kube-apiserver') =>
  Number(readFileSync(join(dir, `${name}.pid`), 'utf8'));

export async function removeControlPlane(cp: ControlPlane): Promise<void> {
  await cp.stop();
  rmSync(cp.dir, { recursive: true, force: true });
}
