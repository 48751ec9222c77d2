import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { controlPlaneBinaries, startControlPlane, stopProcesses } from './control-plane.js';
import { startPostgres } from './postgres-server.js';

const REPO = resolve(import.meta.dirname, '../..');

export interface TestComponents {
  stop(): Promise<void>;
}

/**
 * Everything the integration tests talk to, started once per run: a PostgreSQL and a kube-apiserver +
 * etcd. Their addresses reach the tests through the environment. DBWATCH_TEST_PG_URL and
 * DBWATCH_TEST_KUBECONFIG (with DBWATCH_TEST_CP_DIR holding its ca.key) reuse running ones.
 */
export async function startTestComponents(): Promise<TestComponents> {
  const stops: (() => Promise<void>)[] = [];
  const stop = async () => {
    for (const s of stops.reverse()) await s().catch((e: unknown) => console.error(e));
  };
  // Ctrl-C during a run (or during this setup): jest skips global teardown, so stop the servers here rather than orphan them.
  for (const signal of ['SIGINT', 'SIGTERM'] as const) {
    process.once(signal, () => {
      void stop().finally(() => process.exit(130));
    });
  }
  try {
    // Everything first, before any server starts or any test's timeout runs: Debian packages (PostgreSQL,
    // openssl, Prometheus — installed when missing, as root), then the binaries built from Go modules.
    execFileSync(join(REPO, 'hack/ensure-system-packages.sh'), { stdio: ['ignore', 'inherit', 'inherit'] });
    process.env.DBWATCH_TEST_BIN_DIR ??= controlPlaneBinaries();
    if (!process.env.DBWATCH_TEST_PG_URL) {
      const pg = await startPostgres();
      stops.push(() => pg.stop());
      process.env.DBWATCH_TEST_PG_URL = pg.url;
    }
    if (!process.env.DBWATCH_TEST_KUBECONFIG) {
      const dir = mkdtempSync(join(tmpdir(), 'dbwatch-cp-'));
      // Registered before starting: the pid files let an interrupted start be cleaned up too.
      stops.push(async () => {
        await stopProcesses(dir, ['kube-apiserver', 'etcd']);
        rmSync(dir, { recursive: true, force: true });
      });
      const cp = await startControlPlane({ dir });
      process.env.DBWATCH_TEST_KUBECONFIG = cp.kubeconfig;
      process.env.DBWATCH_TEST_CP_DIR = cp.dir;
      process.env.DBWATCH_TEST_BIN_DIR = cp.binDir;
    }
  } catch (error) {
    await stop();
    throw error;
  }
  return { stop };
}
