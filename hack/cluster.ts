import { execFileSync } from 'node:child_process';
import { existsSync, readFileSync, rmSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { startControlPlane, stopProcesses } from '../test/support/control-plane.js';

/**
 * `npm run cluster:up` / `npm run cluster:down`: the tests' control plane (kube-apiserver + etcd, no
 * nodes, no controllers) for people, so `kubectl get databasemonitors` works without Docker.
 */
const dir = resolve(process.env.DBWATCH_CLUSTER_DIR ?? '.dbwatch/cluster');
const command = process.argv[2];

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
  } else {
    rmSync(dir, { recursive: true, force: true });
    const cp = await startControlPlane({ dir, detached: true });
    const kubectl = join(cp.binDir, 'kubectl');
    execFileSync(kubectl, ['--kubeconfig', cp.kubeconfig, 'apply', '-f', 'crds/'], { stdio: 'inherit' });
    execFileSync(kubectl, ['--kubeconfig', cp.kubeconfig, 'wait', '--for=condition=Established', '-f', 'crds/'], {
      stdio: 'inherit',
    });
    console.log(`\nkube-apiserver ${cp.server} is up with the dbwatch CRDs (logs in ${dir}).`);
    console.log(`kubectl is at ${kubectl}\n\nexport KUBECONFIG=${cp.kubeconfig}`);
  }
} else if (command === 'down') {
  if (existsSync(dir)) {
    await stopProcesses(dir, ['dbwatch-operator', 'kube-apiserver', 'etcd']);
    rmSync(dir, { recursive: true, force: true });
  }
  console.log('control plane stopped');
} else {
  console.error('usage: tsx hack/cluster.ts up|down');
  process.exitCode = 2;
}
