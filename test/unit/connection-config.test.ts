import { describe, expect, test } from '@jest/globals';
import { connectionSchema } from '../../src/api/index.js';
import { parseConnectionUrl, resolveConnection, withCa } from '../../src/checks/connection-config.js';

const spec = (extra: object = {}) => connectionSchema.parse({ secretRef: { name: 'db' }, ...extra });
const full = { host: 'db.example', port: '6432', database: 'orders', username: 'app', password: 'hunter2' };

describe('resolveConnection', () => {
  test('reads the default keys', () => {
    const r = resolveConnection('postgres', spec(), () => full);
    expect(r).toEqual({
      ok: true,
      config: {
        engine: 'postgres',
        host: 'db.example',
        port: 6432,
        database: 'orders',
        username: 'app',
        password: 'hunter2',
        tls: { mode: 'disable' },
        connectTimeoutMs: 10_000,
      },
    });
  });

  test('a missing Secret is SecretNotFound', () => {
    expect(resolveConnection('postgres', spec(), () => undefined)).toEqual({
      ok: false,
      reason: 'SecretNotFound',
      message: 'Secret db not found in this namespace',
    });
  });

  test('missing keys are named (overridden names included), values never', () => {
    const r = resolveConnection(
      'postgres',
      spec({ secretRef: { name: 'db', keys: { password: 'PGPASSWORD' } } }),
      () => ({ ...full, database: '' }),
    );
    expect(r).toEqual({
      ok: false,
      reason: 'SecretKeyMissing',
      message: 'Secret db is missing key database, PGPASSWORD (or a url key)',
    });
  });

  test('a url key supplies everything; explicit keys override it', () => {
    const r = resolveConnection('postgres', spec(), () => ({
      url: 'postgresql://app:p%40ss@pg.svc:5433/orders?sslmode=verify-full',
      host: 'override.svc',
    }));
    expect(r.ok && r.config).toMatchObject({
      host: 'override.svc',
      port: 5433,
      password: 'p@ss',
      tls: { mode: 'verify-full' },
    });
  });

  test('the spec TLS mode wins over the URL and the port defaults per engine', () => {
    const r = resolveConnection('mssql', spec({ tls: { mode: 'require' } }), () => ({ ...full, port: '' }));
    expect(r.ok && r.config).toMatchObject({ port: 1433, tls: { mode: 'require' } });
  });

  test('a bad port is InvalidConnection', () => {
    const r = resolveConnection('postgres', spec(), () => ({ ...full, port: '70000' }));
    expect(r).toMatchObject({
      ok: false,
      reason: 'InvalidConnection',
      message: 'Secret db key port is not a port number (1-65535)',
    });
  });

  test('the CA comes from its own Secret key', () => {
    const s = spec({ tls: { mode: 'verify-ca', caSecretRef: { name: 'ca' } } });
    const lookup = (name: string) => (name === 'db' ? full : name === 'ca' ? { other: 'x' } : undefined);
    expect(withCa(resolveConnection('postgres', s, lookup), s, lookup)).toMatchObject({
      reason: 'SecretKeyMissing',
      message: 'Secret ca is missing key ca.crt (TLS CA)',
    });
  });
});

describe('parseConnectionUrl', () => {
  test('an ADO.NET connection string', () => {
    expect(
      parseConnectionUrl(
        'Server=tcp:sql.example,1444;Initial Catalog=Orders;User ID=app;Password=x;Encrypt=True;TrustServerCertificate=True',
      ),
    ).toMatchObject({
      host: 'sql.example',
      port: '1444',
      database: 'Orders',
      username: 'app',
      tlsMode: 'require',
    });
  });

  test('a named instance in a URL and in a connection string', () => {
    expect(parseConnectionUrl('mssql://sa:pw@sql.example/SQLEXPRESS/Orders')).toMatchObject({
      instance: 'SQLEXPRESS',
      database: 'Orders',
    });
    expect(parseConnectionUrl('Server=sql.example\\SQLEXPRESS;Database=Orders')).toMatchObject({
      host: 'sql.example',
      instance: 'SQLEXPRESS',
    });
  });

  test('errors never echo the input', () => {
    const r = parseConnectionUrl('mysql://u:secretpw@h/db') as { error: string };
    expect(r.error).toMatch(/unsupported scheme mysql:/);
    expect(r.error).not.toContain('secretpw');
  });
});
