import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, test } from '@jest/globals';
import pg from 'pg';
import {
  createEngine,
  type DatabaseEngine,
  type ResolveResult,
  resolveMonitorConnection,
  runMonitorChecks,
} from '../../../src/checks/index.js';
import { monitorSpec } from '../../support/pg-fixtures.js';
import { type PostgresServer, startPostgres } from '../../support/postgres-server.js';

/*
 * A broken login path while the warm session still works: every application that opens a connection fails,
 * and only a fresh login (connect, authenticate, SELECT 1, close) can see it. One real server of its own
 * (pg_hba.conf and max_connections are changed here), a monitor whose engine lives across passes as in the
 * operator.
 */

let server: PostgresServer;
const role = 'login_watch';
const password = 'Login-Pw-1';
const held: pg.Client[] = [];

beforeAll(async () => {
  server = await startPostgres({ maxConnections: 12 });
  await server.asSuperuser(`CREATE ROLE ${role} LOGIN PASSWORD '${password}'`);
  await server.asSuperuser(`CREATE DATABASE shop OWNER ${role}`);
}, 60_000);

afterAll(async () => {
  for (const c of held) await c.end().catch(() => undefined);
  await server.stop();
});

function monitor() {
  const spec = monitorSpec({ timeoutSeconds: 5 });
  const secret = { host: server.host, port: String(server.port), database: 'shop', username: role, password };
  const resolved = resolveMonitorConnection(spec, () => secret) as Extract<ResolveResult, { ok: true }>;
  const engine: DatabaseEngine = createEngine(resolved.config);
  const pass = (freshLogin: boolean) =>
    runMonitorChecks(engine, spec, resolved, {
      includePerformance: false,
      freshLogin,
      makeEngine: () => createEngine(resolved.config, { poolSize: 1 }),
    });
  return { engine, pass };
}

/** Each case breaks new logins, checks, then repairs. */
async function whileBroken(
  breakLogins: () => Promise<unknown>,
  repair: () => Promise<unknown>,
  expected: { reason: string; error: RegExp },
) {
  const { engine, pass } = monitor();
  try {
    expect((await pass(true)).health).toMatchObject({ status: 'healthy', login: { succeeded: true } });
    await breakLogins();
    // The warm session alone sees nothing wrong: that is the blind spot.
    expect((await pass(false)).health.status).toBe('healthy');
    const broken = (await pass(true)).health;
    expect(broken).toMatchObject({
      status: 'unhealthy',
      connection: false,
      queryTest: true,
      errorReason: expected.reason,
      login: { succeeded: false, errorReason: expected.reason },
    });
    expect(broken.error).toMatch(expected.error);
    expect(broken.reasons.join()).toMatch(/a new connection cannot log in \(the open session still works\)/);
    await repair();
    expect((await pass(true)).health).toMatchObject({
      status: 'healthy',
      connection: true,
      login: { succeeded: true },
    });
  } finally {
    await engine.close();
  }
}

describe('a fresh login sees what the warm session cannot', () => {
  test('max_connections reached by other clients: TooManyConnections', async () => {
    const { engine, pass } = monitor();
    try {
      expect((await pass(true)).health.status).toBe('healthy');
      // Fill every slot a non-superuser may take (12 − 3 reserved − dbwatch's own warm session).
      for (;;) {
        const c = new pg.Client({ host: server.host, port: server.port, user: role, password, database: 'shop' });
        c.on('error', () => undefined);
        try {
          await c.connect();
          held.push(c);
        } catch {
          break;
        }
      }
      // The warm session sees the utilization (degraded), not that new connections fail.
      const warm = (await pass(false)).health;
      expect(warm).toMatchObject({ status: 'degraded', connection: true });
      const full = (await pass(true)).health;
      expect(full).toMatchObject({ status: 'unhealthy', connection: false, errorReason: 'TooManyConnections' });
      for (const c of held.splice(0)) await c.end();
      expect((await pass(true)).health.status).toBe('healthy');
    } finally {
      for (const c of held.splice(0)) await c.end().catch(() => undefined);
      await engine.close();
    }
  });

  test("the role's CONNECTION LIMIT reached: RoleConnectionLimit", () =>
    whileBroken(sql(`ALTER ROLE ${role} CONNECTION LIMIT 1`), sql(`ALTER ROLE ${role} CONNECTION LIMIT -1`), {
      reason: 'RoleConnectionLimit',
      error: /too many connections for role/,
    }));

  test("the role's VALID UNTIL passed: RoleExpired (PostgreSQL tells the client only 'password authentication failed')", () =>
    whileBroken(sql(`ALTER ROLE ${role} VALID UNTIL '2001-01-01'`), sql(`ALTER ROLE ${role} VALID UNTIL 'infinity'`), {
      reason: 'RoleExpired',
      error: /password expired at 2001-01-01/,
    }));

  test('the password changed on the server but not in the Secret: WrongPassword', () =>
    whileBroken(sql(`ALTER ROLE ${role} PASSWORD 'Changed-Pw-2'`), sql(`ALTER ROLE ${role} PASSWORD '${password}'`), {
      reason: 'WrongPassword',
      error: /password authentication failed/,
    }));

  test('a pg_hba.conf line that rejects the client: HbaRejected', async () => {
    const hba = join(server.dataDir, 'pg_hba.conf');
    const original = readFileSync(hba, 'utf8');
    const reload = sql('SELECT pg_reload_conf()');
    try {
      await whileBroken(
        async () => {
          writeFileSync(hba, `host shop ${role} 127.0.0.1/32 reject\n${original}`);
          await reload();
        },
        async () => {
          writeFileSync(hba, original);
          await reload();
        },
        { reason: 'HbaRejected', error: /pg_hba\.conf rejects connection/ },
      );
    } finally {
      writeFileSync(hba, original);
      await reload();
    }
  });
});

const sql = (text: string) => () => server.asSuperuser(text);
