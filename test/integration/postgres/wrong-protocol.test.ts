import http from 'node:http';
import type net from 'node:net';
import { afterAll, beforeAll, describe, expect, test } from '@jest/globals';
import { adminUrl, createDatabase, secretData } from '../../support/pg-fixtures.js';
import { runMonitor } from '../../support/run-monitor.js';
import { startTdsServer, type TdsServer } from '../../support/tds-server.js';

/**
 * A port that speaks another protocol than the monitor's engine is named as such, in both directions: the
 * mssql driver against the real PostgreSQL server, node-postgres against a TDS server (SQL Server cannot run
 * here; see docs/sql-server.md), and either against an HTTP server. The health result says so too, instead of
 * "connection lost" or a timeout.
 */

type Db = Awaited<ReturnType<typeof createDatabase>>;
let db: Db;
let tds: TdsServer;
let web: http.Server;
let webPort: number;

beforeAll(async () => {
  db = await createDatabase();
  tds = await startTdsServer({ logins: { monitor: 'pw' }, answer: () => ({ done: true }) });
  web = http.createServer((_req, res) => res.end('hello'));
  await new Promise<void>((ok) => web.listen(0, '127.0.0.1', ok));
  webPort = (web.address() as net.AddressInfo).port;
});
afterAll(async () => {
  await tds.stop();
  await new Promise((ok) => web.close(ok));
});

const connection = { secretRef: { name: 'db' }, connectTimeoutSeconds: 2 };

describe('a port that answers in another protocol', () => {
  test('engine mssql against PostgreSQL: "answers as PostgreSQL, not SQL Server", within a second or two', async () => {
    const pgPort = adminUrl().port;
    const started = Date.now();
    const report = await runMonitor(secretData(db), { engine: 'mssql', connection, timeoutSeconds: 30 });
    const found = `127.0.0.1:${pgPort} answers as PostgreSQL, not SQL Server`;
    expect(report.health).toMatchObject({ status: 'unhealthy', errorReason: 'WrongProtocol', error: found });
    expect(report.health.reasons).toEqual([`cannot connect: ${found}`]);
    expect(report.diagnostics?.connectivity).toMatchObject({ failedStage: 'tls', failureReason: 'WrongProtocol' });
    expect(report.diagnostics?.recommendations[0]).toBe(
      `${found}: point the Secret's host and port at your SQL Server, or set spec.engine to the database that answers there`,
    );
    // PostgreSQL closes on a PRELOGIN at once: no timeout is waited for.
    expect(Date.now() - started).toBeLessThan(3000);
  });

  test('engine postgres against SQL Server (TDS): "answers as SQL Server, not PostgreSQL"', async () => {
    const report = await runMonitor(
      { ...secretData(db), port: String(tds.port) },
      { engine: 'postgres', connection, timeoutSeconds: 30 },
    );
    const found = `127.0.0.1:${tds.port} answers as SQL Server, not PostgreSQL`;
    expect(report.health).toMatchObject({ status: 'unhealthy', errorReason: 'WrongProtocol', error: found });
    expect(report.diagnostics?.connectivity).toMatchObject({
      failedStage: 'authentication',
      failureReason: 'WrongProtocol',
    });
    expect(report.diagnostics?.recommendations[0]).toMatch(/point the Secret's host and port at your PostgreSQL/);
    // The test server stays silent on a PostgreSQL startup packet: the check's attempt and diagnostics' one
    // each wait the 2 s connect timeout, then the port is asked what it is.
    expect(report.durations.diagnostics).toBeLessThan(4000 + 250);
  });

  test.each(['postgres', 'mssql'] as const)('engine %s against an HTTP server: "answers as HTTP"', async (engine) => {
    const report = await runMonitor(
      { ...secretData(db), port: String(webPort) },
      { engine, connection, timeoutSeconds: 30 },
    );
    expect(report.health.errorReason).toBe('WrongProtocol');
    expect(report.health.error).toMatch(new RegExp(`^127.0.0.1:${webPort} answers as HTTP, not `));
  });

  test('the right engine on the right port is not second-guessed', async () => {
    const report = await runMonitor(secretData(db), { engine: 'postgres', connection });
    expect(report.health.status).toBe('healthy');
    expect(report.diagnostics).toBeUndefined();
  });
});
