import { execFileSync, spawnSync } from 'node:child_process';
import { chmodSync, mkdirSync, readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { importImage } from '../../test/support/node.js';

/**
 * CloudNativePG's own operator, compiled from its Go module, running on the local node with a PostgreSQL image
 * built from Debian's packages; a Cluster it really manages (initdb, its Secrets, its Services) is discovered by
 * dbwatch, installed by its chart. Run as root under the node lock:
 *   flock /tmp/dbwatch-node.lock npx tsx hack/node/cloudnative-pg-on-node.ts
 * Prints the times and ends with the node taken down (KEEP=1: left up).
 */
const REPO = resolve(import.meta.dirname, '../..');
const dir = join(REPO, '.dbwatch/cluster');
const say = (text: string) => console.log(`\n== ${text}`);
const binDir = execFileSync(join(REPO, 'hack/build-control-plane.sh'), { encoding: 'utf8' }).trim();
const env = { ...process.env, KUBECONFIG: join(dir, 'kubeconfig') };
const kubectl = (args: string[], input?: string) => {
  const r = spawnSync(join(binDir, 'kubectl'), args, { env, input, encoding: 'utf8' });
  if (r.status !== 0) throw new Error(`kubectl ${args.join(' ')}: ${r.stderr}`);
  return r.stdout;
};
const show = (args: string[]) => console.log(kubectl(args));
const npx = (args: string[]) => spawnSync('npx', args, { cwd: REPO, stdio: 'inherit' }).status;
const until = async (what: string, probe: () => boolean, timeoutMs: number) => {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    try {
      if (probe()) return;
    } catch {}
    await new Promise((ok) => setTimeout(ok, 500));
  }
  throw new Error(`${what}: not within ${timeoutMs / 1000} s`);
};
const times: Record<string, number> = {};

say('images: CloudNativePG (compiled from its module), PostgreSQL (Debian), dbwatch');
const images = execFileSync(join(REPO, 'hack/node/build-cloudnative-pg-images.sh'), { encoding: 'utf8' })
  .trim()
  .split('\n')
  .map((l) => l.split(' ') as [string, string]);
const dbwatch = execFileSync(join(REPO, 'hack/build-image.sh'), {
  encoding: 'utf8',
  env: { ...process.env, IMAGE: 'localhost/dbwatch:cnpg' },
  stdio: ['ignore', 'pipe', 'inherit'],
}).trim();

say('node');
npx(['tsx', 'hack/cluster.ts', 'down']);
if (npx(['tsx', 'hack/cluster.ts', 'up', '--node']) !== 0) throw new Error('cluster:up failed');
try {
  for (const [, archive] of images) importImage(join(dir, 'node'), archive);
  importImage(join(dir, 'node'), dbwatch);

  say("CloudNativePG's release manifest (v1.27.1, from its module), with the local image");
  const module = JSON.parse(
    execFileSync('go', ['mod', 'download', '-json', 'github.com/cloudnative-pg/cloudnative-pg@v1.27.1'], {
      cwd: '/tmp',
      encoding: 'utf8',
      env: { ...process.env, GOFLAGS: '-mod=mod', GOTOOLCHAIN: 'local' },
    }),
  ) as { Dir: string };
  const release = readFileSync(join(module.Dir, 'releases/cnpg-1.27.1.yaml'), 'utf8')
    .replaceAll('ghcr.io/cloudnative-pg/cloudnative-pg:1.27.1', images[0]![0])
    .replaceAll('imagePullPolicy: Always', 'imagePullPolicy: Never');
  kubectl(['apply', '--server-side', '-f', '-'], release);
  kubectl(['rollout', 'status', '-n', 'cnpg-system', 'deployment/cnpg-controller-manager', '--timeout=300s']);

  say('a PersistentVolume on the node (no provisioner here) and a Cluster in namespace shop');
  const volume = join(dir, 'node/pv/orders-1');
  mkdirSync(volume, { recursive: true });
  chmodSync(volume, 0o777);
  kubectl(['create', 'namespace', 'shop']);
  const pv = {
    apiVersion: 'v1',
    kind: 'PersistentVolume',
    metadata: { name: 'shop-orders-1' },
    spec: {
      capacity: { storage: '1Gi' },
      accessModes: ['ReadWriteOnce'],
      storageClassName: 'node-local',
      hostPath: { path: volume, type: 'Directory' },
    },
  };
  kubectl(['apply', '-f', '-'], JSON.stringify(pv));
  const created = Date.now();
  const cluster = {
    apiVersion: 'postgresql.cnpg.io/v1',
    kind: 'Cluster',
    metadata: { name: 'orders', namespace: 'shop' },
    spec: {
      instances: 1,
      imageName: images[1]![0],
      imagePullPolicy: 'Never',
      storage: { size: '1Gi', storageClass: 'node-local' },
    },
  };
  kubectl(['apply', '-f', '-'], JSON.stringify(cluster));

  say('dbwatch with discovery (CloudNativePG source)');
  const helm = spawnSync(
    join(binDir, 'helm'),
    [
      'install',
      'dbwatch',
      join(REPO, 'deploy/helm/dbwatch'),
      '-n',
      'dbwatch-system',
      '--create-namespace',
      '--wait',
      '--set',
      'image.repository=localhost/dbwatch',
      '--set',
      'image.tag=cnpg',
      '--set',
      'image.pullPolicy=Never',
      '--set',
      'replicaCount=1',
      '--set',
      'discovery.enabled=true',
      '--set',
      'discovery.sources.cloudNativePG=true',
    ],
    { env, stdio: 'inherit' },
  );
  if (helm.status !== 0) throw new Error('helm install failed');
  // No cluster DNS on this node: the monitor reaches <cluster>-rw by its ClusterIP (kube-proxy routes it).
  await until('Service orders-rw', () => kubectl(['get', 'service', 'orders-rw', '-n', 'shop']) !== '', 300_000);
  const clusterIp = kubectl(['get', 'service', 'orders-rw', '-n', 'shop', '-o', 'jsonpath={.spec.clusterIP}']);
  const discovery = {
    apiVersion: 'dbwatch.dev/v1alpha1',
    kind: 'DatabaseDiscovery',
    metadata: { name: 'cloudnativepg', namespace: 'shop' },
    spec: { sources: [{ cloudNativePG: { host: clusterIp } }], template: { interval: '10s' } },
  };
  kubectl(['apply', '-f', '-'], JSON.stringify(discovery));

  say('waiting: CloudNativePG bootstraps the Cluster; dbwatch waits for it, then monitors it');
  await until(
    'Cluster Ready',
    () =>
      kubectl(['get', 'cluster.postgresql.cnpg.io', 'orders', '-n', 'shop', '-o', 'jsonpath={.status.phase}']) ===
      'Cluster in healthy state',
    600_000,
  );
  times.clusterCreatedToHealthyS = (Date.now() - created) / 1000;
  const healthy = Date.now();
  await until(
    'monitor Ready',
    () =>
      kubectl([
        'get',
        'dbmon',
        'orders',
        '-n',
        'shop',
        '-o',
        'jsonpath={.status.conditions[?(@.type=="Ready")].status}',
      ]) === 'True',
    120_000,
  );
  times.clusterHealthyToMonitorReadyS = (Date.now() - healthy) / 1000;
  show(['get', 'cluster.postgresql.cnpg.io,dbdisc,dbmon', '-n', 'shop']);
  show(['get', 'dbmon', 'orders', '-n', 'shop', '-o', 'jsonpath={.spec.connection}']);

  say('kubectl delete cluster orders: CloudNativePG removes its Pods, dbwatch the monitor');
  const deleted = Date.now();
  kubectl(['delete', 'cluster.postgresql.cnpg.io', 'orders', '-n', 'shop', '--wait=false']);
  await until(
    'monitor gone',
    () => spawnSync(join(binDir, 'kubectl'), ['get', 'dbmon', 'orders', '-n', 'shop'], { env }).status !== 0,
    120_000,
  );
  times.clusterDeletedToMonitorGoneS = (Date.now() - deleted) / 1000;
  show(['get', 'dbdisc,dbmon', '-n', 'shop']);
  console.log(`cloudnative-pg on the node: ${JSON.stringify(times)}`);
} catch (error) {
  // What the node saw, before it is taken down.
  for (const args of [
    ['get', 'pods,pvc,pv', '-A', '-o', 'wide'],
    ['get', 'events', '-A', '--sort-by=.lastTimestamp'],
    ['logs', '-n', 'cnpg-system', 'deployment/cnpg-controller-manager', '--tail=40'],
    ['logs', '-n', 'shop', '-l', 'cnpg.io/cluster=orders', '--all-containers', '--tail=40'],
  ]) {
    const r = spawnSync(join(binDir, 'kubectl'), args, { env, encoding: 'utf8' });
    console.log(`$ kubectl ${args.join(' ')}\n${r.stdout}${r.stderr}`);
  }
  throw error;
} finally {
  if (process.env.KEEP !== '1') npx(['tsx', 'hack/cluster.ts', 'down']);
}
