import { afterAll, beforeAll, describe, expect, test } from '@jest/globals';
import { compactEtcd, restartApiServer } from '../../support/control-plane.js';
import { ensureCrds, freshNamespace } from '../../support/kube.js';
import { eventually, startTestOperator, type TestOperator } from '../../support/operator.js';
import { createDatabase, secretData } from '../../support/pg-fixtures.js';
import { condition, createMonitor, createSecret, getMonitor } from '../../support/resources.js';

let ns: string;
let operator: TestOperator;
let db: Awaited<ReturnType<typeof createDatabase>>;

beforeAll(async () => {
  await ensureCrds();
  ns = await freshNamespace('watch');
  db = await createDatabase();
  operator = await startTestOperator(ns);
});
afterAll(async () => operator?.stop());

const stalledOn = async (name: string) => condition((await getMonitor(ns, name)).status, 'Stalled');

describe('watches keep working', () => {
  test('after 40 quiet seconds (past the 30 s watch inactivity timeout) a new Secret is still seen at once', async () => {
    await createMonitor(ns, 'quiet', { connection: { secretRef: { name: 'quiet-db' } }, interval: '10m' });
    await eventually('stalled', async () =>
      (await stalledOn('quiet'))?.reason === 'SecretNotFound' ? true : undefined,
    );
    await new Promise((ok) => setTimeout(ok, 40_000));
    const createdAt = Date.now();
    await createSecret(ns, 'quiet-db', secretData(db));
    await eventually(
      'healthy',
      async () => ((await getMonitor(ns, 'quiet')).status?.status === 'healthy' ? true : undefined),
      10_000,
      100,
    );
    expect(Date.now() - createdAt).toBeLessThan(5000);
  }, 90_000);

  test('after an etcd compaction and a kube-apiserver restart (410 Gone) the operator re-lists and resumes', async () => {
    await createMonitor(ns, 'restart', { connection: { secretRef: { name: 'restart-db' } }, interval: '10m' });
    await eventually('stalled', async () =>
      (await stalledOn('restart'))?.reason === 'SecretNotFound' ? true : undefined,
    );
    const dir = process.env.DBWATCH_TEST_CP_DIR!;
    await createSecret(ns, 'unrelated', { a: 'b' }); // moves the revision past what the watches have seen
    expect(await compactEtcd(dir)).toBeGreaterThan(0);
    await restartApiServer(dir);
    await createSecret(ns, 'restart-db', secretData(db));
    await eventually(
      'healthy after restart',
      async () => ((await getMonitor(ns, 'restart')).status?.status === 'healthy' ? true : undefined),
      40_000,
      250,
    );
    const restarts = await operator.metrics.registry.getSingleMetricAsString('dbwatch_watch_errors_total');
    expect(restarts).toMatch(/dbwatch_watch_errors_total\{resource="secrets"\} [1-9]/);
  }, 120_000);
});
