import net from 'node:net';
import { afterAll, beforeAll, describe, expect, test } from '@jest/globals';
import { startBlackHole } from '../../support/black-hole.js';
import { freePort } from '../../support/free-port.js';
import { createDatabase, secretData, withAdmin } from '../../support/pg-fixtures.js';
import { runMonitor } from '../../support/run-monitor.js';

type Db = Awaited<ReturnType<typeof createDatabase>>;
let db: Db;
beforeAll(async () => {
  db = await createDatabase();
});

const stage = (report: Awaited<ReturnType<typeof runMonitor>>, name: string) =>
  report.diagnostics?.connectivity.stages.find((s) => s.name === name);

describe('connectivity failures are results with diagnostics', () => {
  test('a wrong password fails at authentication and says to update the Secret', async () => {
    const report = await runMonitor({ ...secretData(db), password: 'not-the-password' });
    expect(report.health).toMatchObject({ status: 'unhealthy', connection: false, queryTest: false });
    expect(report.health.error).toMatch(/password authentication failed/);
    expect(report.diagnostics?.connectivity.failedStage).toBe('authentication');
    expect(stage(report, 'tcp')?.outcome).toBe('ok');
    expect(stage(report, 'database')?.outcome).toBe('skipped');
    expect(report.diagnostics?.recommendations[0]).toMatch(/rejected the password for user .*update the password key/);
  });

  test('a missing database passes authentication and fails at the database stage', async () => {
    const report = await runMonitor({ ...secretData(db), database: 'no_such_database' });
    expect(report.health.status).toBe('unhealthy');
    expect(stage(report, 'authentication')?.outcome).toBe('ok');
    expect(report.diagnostics?.connectivity.failedStage).toBe('database');
    expect(report.diagnostics?.recommendations[0]).toMatch(/Database no_such_database does not exist/);
  });

  test('an unresolvable host fails at DNS', async () => {
    const report = await runMonitor({ ...secretData(db), host: 'no-such-host.invalid' });
    expect(report.health.status).toBe('unhealthy');
    expect(report.diagnostics?.connectivity.failedStage).toBe('dns');
    expect(stage(report, 'tcp')?.outcome).toBe('skipped');
    expect(report.diagnostics?.recommendations[0]).toMatch(/does not resolve/);
  });

  test('a closed port fails at TCP with connection refused', async () => {
    const port = await freePort();
    const report = await runMonitor({ ...secretData(db), port: String(port) });
    expect(report.health.status).toBe('unhealthy');
    expect(report.diagnostics?.connectivity.failedStage).toBe('tcp');
    expect(report.diagnostics?.recommendations[0]).toMatch(
      new RegExp(`Nothing accepts connections on 127.0.0.1:${port}`),
    );
  });

  test('tls.mode require against a server without TLS fails at the TLS stage', async () => {
    const report = await runMonitor(secretData(db), {
      connection: { secretRef: { name: 'db' }, tls: { mode: 'require' } },
    });
    expect(report.health.status).toBe('unhealthy');
    expect(report.health.errorReason).toBe('TlsFailed');
    expect(report.diagnostics?.connectivity.failedStage).toBe('tls');
    expect(report.diagnostics?.recommendations[0]).toMatch(/does not offer TLS/);
  });

  test('a login without CONNECT on the database is told which grant is missing', async () => {
    const locked = await createDatabase();
    await withAdmin((c) => c.query(`REVOKE CONNECT ON DATABASE ${locked.database} FROM PUBLIC`));
    const stranger = await createDatabase();
    const report = await runMonitor({ ...secretData(stranger), database: locked.database });
    expect(report.health).toMatchObject({ status: 'unhealthy', errorReason: 'NoConnectPrivilege' });
    expect(report.diagnostics?.connectivity.failedStage).toBe('database');
    expect(report.diagnostics?.recommendations[0]).toMatch(
      new RegExp(`lacks the CONNECT privilege on database ${locked.database}: GRANT CONNECT`),
    );
  });

  test('a server that closes the connection during TLS negotiation is named as such', async () => {
    // Accepts, reads the SSLRequest, hangs up: what a proxy that does not speak PostgreSQL's TLS does.
    const server = net.createServer((socket) => {
      socket.on('error', () => undefined);
      socket.once('data', () => socket.destroy());
    });
    await new Promise<void>((ok) => server.listen(0, '127.0.0.1', ok));
    try {
      const port = (server.address() as net.AddressInfo).port;
      const report = await runMonitor(
        { ...secretData(db), port: String(port) },
        { connection: { secretRef: { name: 'db' }, tls: { mode: 'require' } }, timeoutSeconds: 5 },
      );
      expect(report.health.status).toBe('unhealthy');
      expect(report.diagnostics?.connectivity.failedStage).toBe('tls');
      expect(stage(report, 'tls')?.detail).toMatch(/closed the connection during TLS negotiation/);
      expect(report.diagnostics?.recommendations[0]).toMatch(/closed the connection during TLS negotiation/);
    } finally {
      server.close();
    }
  });

  describe('a port that accepts and never answers', () => {
    let hole: Awaited<ReturnType<typeof startBlackHole>>;
    beforeAll(async () => {
      hole = await startBlackHole();
    });
    afterAll(async () => hole.stop());

    test('costs two connect timeouts and a stated diagnostics budget, not the rest of timeoutSeconds', async () => {
      const started = Date.now();
      const report = await runMonitor(
        { ...secretData(db), port: String(hole.port) },
        { connection: { secretRef: { name: 'db' }, connectTimeoutSeconds: 2 }, timeoutSeconds: 30 },
      );
      const elapsed = Date.now() - started;
      // No answer is a connect timeout, never a session "lost" after connecting.
      expect(report.health).toMatchObject({
        status: 'unhealthy',
        connection: false,
        errorReason: 'ConnectTimeout',
        error: `no answer from 127.0.0.1:${hole.port} within 2000 ms (connectTimeoutSeconds)`,
      });
      expect(report.diagnostics?.connectivity).toMatchObject({
        failedStage: 'authentication',
        failureReason: 'HandshakeTimeout',
      });
      expect(stage(report, 'authentication')?.detail).toMatch(/^no answer within 2000 ms/);
      // The advice quotes the timeout that was used, not what was left of a budget.
      expect(report.diagnostics?.recommendations[0]).toBe(
        `127.0.0.1:${hole.port} accepted TCP but did not complete the postgres handshake within 2000 ms: check the port is the database's and the server's load`,
      );
      // Durations are milliseconds: the check's own attempt, then diagnostics within connectTimeout + 2 s.
      expect(report.durations.health).toBeGreaterThanOrEqual(1900);
      expect(report.durations.health).toBeLessThan(2500);
      expect(report.durations.diagnostics).toBeGreaterThanOrEqual(1900);
      expect(report.durations.diagnostics).toBeLessThanOrEqual(4000 + 250);
      expect(elapsed).toBeLessThan(2000 + 4000 + 1000);
    });
  });
});
