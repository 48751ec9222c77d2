import { afterAll, beforeAll, describe, expect, test } from '@jest/globals';
import { ensureCrds, freshNamespace } from '../../support/kube.js';
import { eventually, startTestOperator, type TestOperator } from '../../support/operator.js';
import { type PostgresServer, startPostgres } from '../../support/postgres-server.js';
import { condition, createMonitor, createSecret, getMonitor } from '../../support/resources.js';

/*
 * The availability SLO lives in status: it is computed from real checks, falls when the database goes
 * down, and survives an operator restart (the new process continues the record instead of starting over).
 */

let server: PostgresServer;
let ns: string;
let operator: TestOperator | undefined;

beforeAll(async () => {
  await ensureCrds();
  ns = await freshNamespace('slo');
  server = await startPostgres();
  await server.asSuperuser("CREATE ROLE slo LOGIN PASSWORD 'Slo-Pw-1'; GRANT pg_monitor TO slo");
  await createSecret(ns, 'slo-db', {
    host: server.host,
    port: String(server.port),
    database: 'postgres',
    username: 'slo',
    password: 'Slo-Pw-1',
  });
}, 60_000);

afterAll(async () => {
  await operator?.stop();
  await server?.stop();
});

const status = async () => (await getMonitor(ns, 'orders')).status;
const checksRecorded = (s: Awaited<ReturnType<typeof status>>) =>
  (s?.availability?.hours ?? []).reduce((n, h) => n + h.checks, 0);

async function metric(port: number, text: RegExp): Promise<string | undefined> {
  const body = await (await fetch(`http://127.0.0.1:${port}/metrics`)).text();
  return body.split('\n').find((line) => text.test(line));
}

describe('availability SLO in status', () => {
  test('falls during an outage, is reported as a condition and a metric, and survives an operator restart', async () => {
    operator = await startTestOperator(ns);
    await createMonitor(ns, 'orders', {
      connection: { secretRef: { name: 'slo-db' }, connectTimeoutSeconds: 1 },
      interval: '1s',
      timeoutSeconds: 2,
      slo: { target: '99.9' },
    });
    const healthy = await eventually('availability 1 with SLOMet', async () => {
      const s = await status();
      return s?.availability?.last24h === 1 && condition(s, 'SLOMet')?.status === 'True' ? s : undefined;
    });
    expect(healthy.availability).toMatchObject({ target: '99.9', errorBudgetRemaining: 1 });

    await server.halt();
    const burnt = await eventually(
      'SLOMet False after failed checks',
      async () => {
        const s = await status();
        return condition(s, 'SLOMet')?.status === 'False' ? s : undefined;
      },
      20_000,
    );
    expect(condition(burnt, 'SLOMet')?.reason).toBe('ErrorBudgetExhausted');
    expect(burnt.availability!.last24h!).toBeLessThan(1);
    expect(await metric(operator.port, /^dbwatch_database_availability_ratio\{.*name="orders".*window="24h"/)).toMatch(
      / 0\.\d+$/,
    );
    expect(await metric(operator.port, /^dbwatch_database_slo_target_ratio\{.*name="orders"/)).toMatch(/ 0\.999$/);

    await server.resume();
    await operator.stop();
    const before = await status();
    const recorded = checksRecorded(before);
    expect(recorded).toBeGreaterThanOrEqual(2);

    operator = await startTestOperator(ns);
    const after = await eventually(
      'the new operator continues the record',
      async () => {
        const s = await status();
        return checksRecorded(s) > recorded ? s : undefined;
      },
      20_000,
    );
    // Continued, not restarted: the outage is still in the record, so the objective is still missed.
    expect(after.availability!.last24h!).toBeLessThan(1);
    expect(condition(after, 'SLOMet')?.status).toBe('False');
  }, 90_000);
});
