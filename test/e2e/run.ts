import { execFileSync, spawnSync } from 'node:child_process';
import { join, resolve } from 'node:path';
import { importImage, nodeNetwork } from '../support/node.js';

/**
 * `npm run test:e2e`: with DBWATCH_E2E_KUBECONFIG set, runs the suite against that cluster (kind in
 * .github/workflows/e2e.yaml). Otherwise brings up the local node (`cluster:up --node`), builds the image
 * (`npm run image`), imports it into the node's containerd, runs the suite and always takes the node
 * down again. Extra arguments go to jest.
 */
const REPO = resolve(import.meta.dirname, '../..');
const dir = resolve(process.env.DBWATCH_CLUSTER_DIR ?? join(REPO, '.dbwatch/cluster'));
const jestArgs = process.argv.slice(2);

const step = (what: string) => console.log(`\n== e2e: ${what}`);
const sh = (cmd: string, args: string[], env: NodeJS.ProcessEnv = {}) => {
  const result = spawnSync(cmd, args, { cwd: REPO, stdio: 'inherit', env: { ...process.env, ...env } });
  if (result.status !== 0) throw new Error(`${cmd} ${args.join(' ')} exited ${result.status}`);
};
const jest = (env: NodeJS.ProcessEnv) =>
  spawnSync(
    process.execPath,
    ['--experimental-vm-modules', 'node_modules/jest/bin/jest.js', '-c', 'test/e2e/jest.config.js', ...jestArgs],
    { cwd: REPO, stdio: 'inherit', env: { ...process.env, ...env } },
  ).status ?? 1;

if (process.env.DBWATCH_E2E_KUBECONFIG) {
  process.exitCode = jest({});
} else {
  const network = nodeNetwork();
  const image = process.env.IMAGE ?? 'localhost/dbwatch:e2e';
  let code = 1;
  try {
    step('image');
    const archive = execFileSync(join(REPO, 'hack/build-image.sh'), {
      cwd: REPO,
      encoding: 'utf8',
      env: { ...process.env, IMAGE: image },
      stdio: ['ignore', 'pipe', 'inherit'],
    }).trim();
    step('node');
    sh('npx', ['tsx', 'hack/cluster.ts', 'down']);
    sh('npx', ['tsx', 'hack/cluster.ts', 'up', '--node']);
    const imported = Date.now();
    importImage(join(dir, 'node'), archive);
    console.log(`imported ${image} in ${((Date.now() - imported) / 1000).toFixed(1)} s`);
    step('suite');
    const binDir = execFileSync(join(REPO, 'hack/build-control-plane.sh'), { encoding: 'utf8' }).trim();
    code = jest({
      DBWATCH_E2E_KUBECONFIG: join(dir, 'kubeconfig'),
      DBWATCH_E2E_IMAGE: image,
      DBWATCH_E2E_HOST_ADDRESS: network.gateway,
      DBWATCH_E2E_POD_CIDR: network.subnet,
      DBWATCH_E2E_BIN_DIR: binDir,
      DBWATCH_E2E_PODS_REACHABLE: '1',
    });
  } finally {
    step('node down');
    sh('npx', ['tsx', 'hack/cluster.ts', 'down']);
    process.exitCode = code;
  }
}
