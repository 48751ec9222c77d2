import { execFileSync } from 'node:child_process';
import { existsSync, readFileSync, rmSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { startControlPlane, stopProcesses } from '../test/support/control-plane.js';
import {
  type HostRecord,
  nodeBinaries,
  nodeLeftovers,
  nodeNetwork,
  nodeOwner,
  ownsNode,
  prepareNode,
  startNode,
  stopNode,
} from '../test/support/node.js';
import { linkTools, startDemoDatabase, startOperator } from './cluster-services.js';

/**
 * `npm run cluster:up [-- --node] [--operator] [--demo-database]` / `npm run cluster:down`: the tests' control
 * plane (kube-apiserver + etcd) for people, so `kubectl get databasemonitors` works without Docker, with kubectl,
 * helm, dbwatch and kubectl-dbwatch in its bin/. `--node` adds a real node (containerd, kubelet,
 * controller-manager, scheduler, kube-proxy, a private CNI bridge) where Pods run; `--operator` runs
 * `dbwatch operator` from the checkout against it; `--demo-database` a throwaway PostgreSQL behind Secret
 * orders-db. `down` stops and removes everything this checkout's `up` started and nothing else: two checkouts can
 * run control planes side by side, and the one node a machine can run belongs to the checkout that brought it up
 * (docs/control-plane.md, docs/e2e.md).
 */
const dir = resolve(process.env.DBWATCH_CLUSTER_DIR ?? '.dbwatch/cluster');
const command = process.argv[2];
const withNode = process.argv.includes('--node');
const withOperator = process.argv.includes('--operator');
const withDemoDatabase = process.argv.includes('--demo-database');
const KNOWN = ['--node', '--operator', '--demo-database'];

const running = () => {
  try {
    process.kill(Number(readFileSync(join(dir, 'kube-apiserver.pid'), 'utf8')), 0);
    return true;
  } catch {
    return false;
  }
};

const unknown = process.argv.slice(3).filter((a) => !KNOWN.includes(a));
if (unknown.length > 0) {
  console.error(`unknown option ${unknown.join(' ')}: use ${KNOWN.join(', ')}`);
  process.exit(2);
}

if (command === 'up') {
  if (running()) {
    console.log(`already running; export KUBECONFIG=${join(dir, 'kubeconfig')} PATH=${join(dir, 'bin')}:$PATH`);
  } else if (existsSync(join(dir, 'node'))) {
    console.error(`a node of an earlier run is still recorded in ${dir}: run \`npm run cluster:down\` first`);
    process.exitCode = 1;
  } else if (withNode && nodeOwner() && nodeOwner() !== dir) {
    // prepareNode claims the node atomically; this only says it before minutes of building.
    console.error(
      `the machine's node belongs to the cluster in ${nodeOwner()} (one node per machine): run \`npm run cluster:down\` there first`,
    );
    process.exitCode = 1;
  } else {
    rmSync(dir, { recursive: true, force: true });
    const network = nodeNetwork();
    // Built before the clock starts: a fresh machine spends minutes here, once.
    if (withNode) nodeBinaries();
    const started = Date.now();
    if (withNode) prepareNode(dir, network);
    const cp = await startControlPlane({
      dir,
      detached: true,
      node: withNode ? { address: network.gateway, serviceIp: network.serviceIp } : undefined,
    });
    const kubectl = join(cp.binDir, 'kubectl');
    execFileSync(kubectl, ['--kubeconfig', cp.kubeconfig, 'apply', '-f', 'crds/'], { stdio: 'inherit' });
    execFileSync(kubectl, ['--kubeconfig', cp.kubeconfig, 'wait', '--for=condition=Established', '-f', 'crds/'], {
      stdio: 'inherit',
    });
    if (withNode) {
      await startNode({ dir, server: cp.server, binDir: cp.binDir, kubeconfig: cp.kubeconfig, network });
      console.log(
        `\nnode ${network.gateway} Ready in ${((Date.now() - started) / 1000).toFixed(1)} s (Pods on ${network.subnet}, bridge ${network.bridge}).`,
      );
      console.log(
        `import images: ctr --address ${join(dir, 'node/containerd/containerd.sock')} -n k8s.io images import FILE`,
      );
    }
    const bin = linkTools(dir, cp.binDir);
    if (withDemoDatabase) {
      const db = await startDemoDatabase(dir, kubectl, cp.kubeconfig);
      console.log(
        `demo database: PostgreSQL ${db.host}:${db.port}, database ${db.database}, Secret orders-db (default)`,
      );
    }
    if (withOperator) {
      const port = await startOperator(dir, cp.kubeconfig);
      console.log(
        `operator: running (log ${join(dir, 'dbwatch-operator.log')}, metrics http://127.0.0.1:${port}/metrics)`,
      );
    }
    console.log(`\nkube-apiserver ${cp.server} is up with the dbwatch CRDs (logs in ${dir}).`);
    console.log(`kubectl, helm, dbwatch and kubectl-dbwatch are in ${bin}; npm run cluster:down stops everything.\n`);
    console.log(`export KUBECONFIG=${cp.kubeconfig} PATH=${bin}:$PATH`);
  }
} else if (command === 'down') {
  const network = nodeNetwork();
  const owned = ownsNode(dir);
  const recordFile = join(dir, 'node/host-record.json');
  const record: HostRecord | undefined = existsSync(recordFile)
    ? JSON.parse(readFileSync(recordFile, 'utf8'))
    : undefined;
  let binDir: string | undefined;
  try {
    binDir = dirname(JSON.parse(readFileSync(join(dir, 'kube-apiserver.args.json'), 'utf8')).cmd);
  } catch {
    binDir = undefined;
  }
  // The node goes first (its Pods are deleted through the API server); only its owner's down touches it.
  await stopNode(dir, binDir, network);
  const started = ['dbwatch-operator', 'demo-database', 'kube-apiserver', 'etcd'];
  const pids = started.flatMap((name) => {
    try {
      return [{ name, pid: Number(readFileSync(join(dir, `${name}.pid`), 'utf8')) }];
    } catch {
      return [];
    }
  });
  if (existsSync(dir)) {
    // The operator first (it holds connections to the demo database), the API server last but one.
    await stopProcesses(dir, started);
    rmSync(dir, { recursive: true, force: true });
  }
  const alive = (pid: number) => {
    try {
      process.kill(pid, 0);
      return true;
    } catch {
      return false;
    }
  };
  const left = [
    ...pids.filter((p) => alive(p.pid)).map((p) => `process ${p.pid} (${p.name})`),
    ...nodeLeftovers(dir, network, record, owned),
  ];
  const other = owned ? undefined : nodeOwner();
  console.log(
    left.length === 0 ? 'cluster stopped; nothing left' : `cluster stopped; LEFT BEHIND:\n  ${left.join('\n  ')}`,
  );
  if (other) console.log(`(the machine's node belongs to ${other} and was left running)`);
  if (left.length > 0) process.exitCode = 1;
} else {
  console.error('usage: tsx hack/cluster.ts up [--node] | down');
  process.exitCode = 2;
}
