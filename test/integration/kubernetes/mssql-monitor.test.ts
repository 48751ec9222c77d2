import { afterAll, beforeAll, describe, expect, test } from '@jest/globals';
import { ensureCrds, freshNamespace, kubectl } from '../../support/kube.js';
import { eventually, startTestOperator, type TestOperator } from '../../support/operator.js';
import { condition, createMonitor, createSecret, getMonitor } from '../../support/resources.js';
import { sqlServerScript } from '../../support/sql-server-script.js';
import { startTdsServer, type TdsServer } from '../../support/tds-server.js';

let ns: string;
let operator: TestOperator;
let server: TdsServer;

beforeAll(async () => {
  await ensureCrds();
  ns = await freshNamespace('mssql');
  server = await startTdsServer(
    sqlServerScript({
      tables: {
        SchemaVersions: {
          columns: [
            { name: 'Id', type: 'int' },
            { name: 'ScriptName', type: 'nvarchar' },
          ],
          rows: [
            [1, 'Scripts.0001_init.sql'],
            [2, 'Scripts.0002_orders.sql'],
          ],
        },
      },
    }),
  );
  operator = await startTestOperator(ns);
});
afterAll(async () => {
  await operator?.stop();
  await server?.stop();
});

describe('an engine: mssql DatabaseMonitor through the operator', () => {
  test('is checked over TDS and reported healthy with its DbUp version', async () => {
    await createSecret(ns, 'sql', {
      url: `Server=127.0.0.1,${server.port};Database=orders;User Id=monitor;Password=Str0ng!Passw0rd;Encrypt=false`,
    });
    await createMonitor(ns, 'erp', {
      engine: 'mssql',
      connection: { secretRef: { name: 'sql' } },
      interval: '30s',
      checks: { migrations: { tool: 'dbup' } },
    });
    const status = await eventually('healthy', async () => {
      const s = (await getMonitor(ns, 'erp')).status;
      return s?.status === 'healthy' ? s : undefined;
    });
    expect(condition(status, 'Ready')?.status).toBe('True');
    expect(status.health?.database).toMatchObject({ state: 'ONLINE' });
    expect(status.health?.migrationStatus?.currentVersion).toBe('Scripts.0002_orders.sql');
    const get = await kubectl(['get', 'dbmon', '-n', ns]);
    expect(get.stdout).toMatch(/erp\s+True\s+mssql\s+healthy/);
  });
});
