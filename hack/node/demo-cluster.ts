import { execFileSync, spawnSync } from 'node:child_process';
import { join, resolve } from 'node:path';
import { cnpgAppSecret, cnpgCluster, cnpgStatus } from '../../test/support/database-operators.js';
import { importImage, nodeNetwork } from '../../test/support/node.js';
import { startPostgres } from '../../test/support/postgres-server.js';

/**
 * `npm run demo:cluster`: the operator's real job on a local node — node up, image built and imported,
 * chart installed, an example PostgreSQL monitored, a gated Deployment released once its migration is
 * applied — then discovery: CloudNativePG-shaped Clusters in three namespaces, one DatabaseDiscovery, every
 * database Ready in `kubectl get dbmon -A`, and a deleted Cluster losing its monitor. Then waits for Ctrl-C and
 * takes everything down (DEMO_EXIT=1: at once).
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
const capture = (name: string, args: string[], input?: string) =>
  execFileSync(join(binDir, name), args, { env, input, encoding: 'utf8' });
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

  say("CloudNativePG's CRDs (its Go module, v1.27.1), as where CloudNativePG is installed");
  const crds = execFileSync(join(REPO, 'hack/fetch-operator-crds.sh'), ['cloudnative-pg'], { encoding: 'utf8' });
  const crdDir = crds.trim().split(' ')[2]!;
  tool('kubectl', ['apply', '--server-side', '-f', crdDir]);
  tool('kubectl', ['wait', '--for=condition=Established', '-f', crdDir]);

  say(
    'helm install dbwatch deploy/helm/dbwatch (the image just built, pullPolicy Never; discovery with CloudNativePG)',
  );
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
    '--set',
    'discovery.enabled=true',
    '--set',
    'discovery.sources.cloudNativePG=true',
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

  say('discovery: Clusters and their -app Secrets as CloudNativePG writes them, in three namespaces');
  const teams = ['team-a', 'team-b', 'team-c'];
  for (const team of teams) {
    const login = { database: team.replace('-', '_'), username: team.replace('-', '_'), password: `demo-${team}` };
    await sql(`CREATE ROLE ${login.username} LOGIN PASSWORD '${login.password}'`);
    await sql(`CREATE DATABASE ${login.database} OWNER ${login.username}`);
    tool('kubectl', ['create', 'namespace', team]);
    tool('kubectl', ['label', 'namespace', team, 'dbwatch.dev/discover=on']);
    const created = capture(
      'kubectl',
      ['create', '-o', 'json', '-f', '-'],
      JSON.stringify(cnpgCluster(team, 'app-db')),
    );
    const uid = (JSON.parse(created) as { metadata: { uid: string } }).metadata.uid;
    const secret = cnpgAppSecret({ name: 'app-db', uid }, team, login);
    const body = { apiVersion: 'v1', kind: 'Secret', ...secret, metadata: { ...secret.metadata, namespace: team } };
    tool('kubectl', ['create', '-f', '-'], JSON.stringify(body));
    const status = JSON.stringify(cnpgStatus());
    tool('kubectl', [
      'patch',
      'cluster.postgresql.cnpg.io',
      'app-db',
      '-n',
      team,
      '--subresource=status',
      '--type=merge',
      '-p',
      status,
    ]);
  }
  say('one DatabaseDiscovery in dbwatch-system (no cluster DNS here: host and port of the PostgreSQL on this machine)');
  const discovery = {
    apiVersion: 'dbwatch.dev/v1alpha1',
    kind: 'DatabaseDiscovery',
    metadata: { name: 'all-postgres', namespace: 'dbwatch-system' },
    spec: {
      namespaceSelector: { matchLabels: { 'dbwatch.dev/discover': 'on' } },
      sources: [{ cloudNativePG: { host: network.gateway, port: postgres.port } }],
      template: { interval: '10s' },
    },
  };
  tool('kubectl', ['apply', '-f', '-'], JSON.stringify(discovery));
  for (const team of teams) {
    for (let i = 0; i < 120; i++) {
      const got = spawnSync(join(binDir, 'kubectl'), ['get', 'dbmon', 'app-db', '-n', team], { env });
      if (got.status === 0) break;
      await new Promise((ok) => setTimeout(ok, 500));
    }
    tool('kubectl', ['wait', '-n', team, '--for=condition=Ready', 'dbmon/app-db', '--timeout=60s']);
  }
  say('kubectl get dbdisc,dbmon -A');
  tool('kubectl', ['get', 'dbdisc,dbmon', '-A']);
  say('kubectl delete cluster.postgresql.cnpg.io app-db -n team-a: its monitor goes');
  tool('kubectl', ['delete', 'cluster.postgresql.cnpg.io', 'app-db', '-n', 'team-a']);
  tool('kubectl', ['wait', '-n', 'team-a', '--for=delete', 'dbmon/app-db', '--timeout=60s']);
  const counted = ['wait', '-n', 'dbwatch-system', '--for=jsonpath={.status.discovered}=2', 'dbdisc/all-postgres'];
  tool('kubectl', [...counted, '--timeout=60s']);
  tool('kubectl', ['get', 'dbdisc,dbmon', '-A']);
  console.log(`\nexport KUBECONFIG=${join(dir, 'kubeconfig')}; PATH=${binDir}:$PATH`);
  if (process.env.DEMO_EXIT !== '1') {
    console.log('Ctrl-C stops PostgreSQL and the cluster.');
    await new Promise((ok) => process.once('SIGINT', ok));
  }
} finally {
  await stop();
}
