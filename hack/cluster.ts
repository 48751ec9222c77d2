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

/**
 * `npm run cluster:up [-- --node]` / `npm run cluster:down`: the tests' control plane (kube-apiserver +
 * etcd) for people, so `kubectl get databasemonitors` works without Docker. `--node` adds a real node
 * (containerd, kubelet, controller-manager, scheduler, kube-proxy, a private CNI bridge) where Pods run;
 * `down` removes everything this checkout's `up` created and nothing else: two checkouts can run control planes
 * side by side, and the one node a machine can run belongs to the checkout that brought it up (docs/e2e.md).
 */
const dir = resolve(process.env.DBWATCH_CLUSTER_DIR ?? '.dbwatch/cluster');
const command = process.argv[2];
const withNode = process.argv.includes('--node');

const running = () => {
  try {
    process.kill(Number(readFileSync(join(dir, 'kube-apiserver.pid'), 'utf8')), 0);
    return true;
  } catch {
    return false;
  }
};

if (command === 'up') {
  if (running()) {
    console.log(`already running; export KUBECONFIG=${join(dir, 'kubeconfig')}`);
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
    console.log(`\nkube-apiserver ${cp.server} is up with the dbwatch CRDs (logs in ${dir}).`);
    console.log(`kubectl is at ${kubectl}\n\nexport KUBECONFIG=${cp.kubeconfig}`);
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
  // The node goes first: its Pods are deleted through the API server.
  await stopNode(dir, binDir, network);
  if (existsSync(dir)) {
    await stopProcesses(dir, ['dbwatch-operator', 'kube-apiserver', 'etcd']);
    rmSync(dir, { recursive: true, force: true });
  }
  const left = nodeLeftovers(dir, network, record, owned);
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
