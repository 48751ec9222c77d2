import { execFileSync, spawnSync } from 'node:child_process';
import { join, resolve } from 'node:path';
import { importImage, nodeNetwork } from '../../test/support/node.js';
import { startPostgres } from '../../test/support/postgres-server.js';

/**
 * `npm run demo:cluster`: the operator's real job on a local node — node up, image built and imported,
 * chart installed, an example PostgreSQL monitored, a gated Deployment released once its migration is
 * applied — ending with `kubectl get dbmon,dbprereq,pods`. Then waits for Ctrl-C and takes everything
 * down (DEMO_EXIT=1: at once).
 */
const REPO = resolve(import.meta.dirname, '../..');
const dir = join(REPO, '.dbwatch/cluster');
const network = nodeNetwork();
const image = 'localhost/dbwatch:demo';
const ns = 'shop';
const say = (text: string) => console.log(`\n== ${text}`);
const binDir = execFileSync(join(REPO, 'hack/build-control-plane.sh'), { encoding: 'utf8' }).trim();
const env = { ...process.env, KUBECONFIG: join(dir, 'kubeconfig') };
const tool = (name: string, args: string[], input?: string) => {
  const result = spawnSync(join(binDir, name), args, {
    env,
    input,
    stdio: [input ? 'pipe' : 'ignore', 'inherit', 'inherit'],
  });
  if (result.status !== 0) throw new Error(`${name} ${args.join(' ')} exited ${result.status}`);
};
const npx = (args: string[]) => spawnSync('npx', args, { cwd: REPO, stdio: 'inherit' });

say('image (npm run image)');
const archive = execFileSync(join(REPO, 'hack/build-image.sh'), {
  encoding: 'utf8',
  env: { ...process.env, IMAGE: image },
  stdio: ['ignore', 'pipe', 'inherit'],
}).trim();
say('node (npm run cluster:up -- --node)');
npx(['tsx', 'hack/cluster.ts', 'down']);
if (npx(['tsx', 'hack/cluster.ts', 'up', '--node']).status !== 0) throw new Error('cluster:up failed');
importImage(join(dir, 'node'), archive);

const postgres = await startPostgres({ reachableAt: { address: network.gateway, clients: network.subnet } });
const stop = async () => {
  await postgres.stop();
  npx(['tsx', 'hack/cluster.ts', 'down']);
};
try {
  const sql = (query: string, database?: string) => postgres.asSuperuser(query, database);
  await sql(`CREATE ROLE dbwatch LOGIN PASSWORD 'demo-only'`);
  await sql('CREATE DATABASE orders OWNER dbwatch');
  await sql(
    `CREATE TABLE flyway_schema_history (installed_rank int PRIMARY KEY, version varchar(50), description varchar(200) NOT NULL,
       type varchar(20) NOT NULL, script varchar(1000) NOT NULL, checksum int, installed_by varchar(100) NOT NULL,
       installed_on timestamp NOT NULL DEFAULT now(), execution_time int NOT NULL, success boolean NOT NULL);
     INSERT INTO flyway_schema_history VALUES (1, '1', 'init', 'SQL', 'V1__init.sql', 1, 'app', now(), 5, true);
     GRANT SELECT ON flyway_schema_history TO dbwatch;
     CREATE TABLE orders (id serial PRIMARY KEY, status text NOT NULL DEFAULT 'open');
     GRANT SELECT ON orders TO dbwatch;`,
    'orders',
  );

  say('helm install dbwatch deploy/helm/dbwatch (the image just built, pullPolicy Never)');
  tool('helm', [
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
    'image.tag=demo',
    '--set',
    'image.pullPolicy=Never',
  ]);

  say(`the example monitor and prerequisite, PostgreSQL at ${network.gateway}:${postgres.port}, one migration pending`);
  tool('kubectl', ['create', 'namespace', ns]);
  tool('kubectl', [
    'create',
    'secret',
    'generic',
    'orders-db',
    '-n',
    ns,
    `--from-literal=host=${network.gateway}`,
    `--from-literal=port=${postgres.port}`,
    '--from-literal=database=orders',
    '--from-literal=username=dbwatch',
    '--from-literal=password=demo-only',
  ]);
  const examples = ['monitor', 'prerequisite'].map((f) => join(REPO, `examples/${f}.yaml`));
  tool('kubectl', ['apply', '-n', ns, ...examples.flatMap((f) => ['-f', f])]);
  // Demo pace: check every 5 s instead of the examples' minute.
  for (const kind of ['dbmon/orders', 'dbprereq/orders-ready']) {
    tool('kubectl', ['patch', '-n', ns, kind, '--type=merge', '-p', '{"spec":{"interval":"5s"}}']);
  }
  // Connected, but not Ready yet: the pending migration degrades it (MigrationsApplied=False).
  tool('kubectl', ['wait', '-n', ns, '--for=condition=Connected', 'dbmon/orders', '--timeout=90s']);

  say('a Deployment gated by `dbwatch wait orders-ready` (examples/gitops)');
  // examples/gitops/reader-rbac.yaml, with the subject's namespace its kustomization would add.
  const rbac = [
    { apiVersion: 'v1', kind: 'ServiceAccount', metadata: { name: 'shop-api' } },
    {
      apiVersion: 'rbac.authorization.k8s.io/v1',
      kind: 'Role',
      metadata: { name: 'read-prerequisites' },
      rules: [{ apiGroups: ['dbwatch.dev'], resources: ['databaseprerequisites'], verbs: ['get'] }],
    },
    {
      apiVersion: 'rbac.authorization.k8s.io/v1',
      kind: 'RoleBinding',
      metadata: { name: 'shop-api-read-prerequisites' },
      roleRef: { apiGroup: 'rbac.authorization.k8s.io', kind: 'Role', name: 'read-prerequisites' },
      subjects: [{ kind: 'ServiceAccount', name: 'shop-api', namespace: ns }],
    },
  ];
  tool('kubectl', ['apply', '-n', ns, '-f', '-'], JSON.stringify({ apiVersion: 'v1', kind: 'List', items: rbac }));
  const deployment = {
    apiVersion: 'apps/v1',
    kind: 'Deployment',
    metadata: { name: 'shop-api' },
    spec: {
      replicas: 1,
      selector: { matchLabels: { app: 'shop-api' } },
      template: {
        metadata: { labels: { app: 'shop-api' } },
        spec: {
          serviceAccountName: 'shop-api',
          initContainers: [
            {
              name: 'wait-for-databases',
              image,
              imagePullPolicy: 'Never',
              args: ['wait', 'orders-ready', '--timeout', '10m'],
              env: [{ name: 'POD_NAMESPACE', valueFrom: { fieldRef: { fieldPath: 'metadata.namespace' } } }],
            },
          ],
          containers: [
            { name: 'api', image, imagePullPolicy: 'Never', command: ['node', '-e', 'setInterval(() => {}, 1 << 30)'] },
          ],
        },
      },
    },
  };
  tool('kubectl', ['apply', '-n', ns, '-f', '-'], JSON.stringify(deployment));
  await new Promise((ok) => setTimeout(ok, 8000));
  tool('kubectl', ['get', '-n', ns, 'dbmon,dbprereq,pods']);

  say('applying migration 2: the gate opens');
  await sql(
    `INSERT INTO flyway_schema_history VALUES (2, '2', 'orders', 'SQL', 'V2__orders.sql', 2, 'app', now(), 5, true)`,
    'orders',
  );
  tool('kubectl', ['rollout', 'status', '-n', ns, 'deployment/shop-api', '--timeout=120s']);
  tool('kubectl', [
    'wait',
    '-n',
    ns,
    '--for=condition=Ready',
    'dbmon/orders',
    'dbprereq/orders-ready',
    '--timeout=60s',
  ]);
  say('kubectl get dbmon,dbprereq,pods');
  tool('kubectl', ['get', '-n', ns, 'dbmon,dbprereq,pods']);
  console.log(`\nexport KUBECONFIG=${join(dir, 'kubeconfig')}; PATH=${binDir}:$PATH`);
  if (process.env.DEMO_EXIT !== '1') {
    console.log('Ctrl-C stops PostgreSQL and the cluster.');
    await new Promise((ok) => process.once('SIGINT', ok));
  }
} finally {
  await stop();
}
