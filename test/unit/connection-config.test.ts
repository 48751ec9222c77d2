import { describe, expect, test } from '@jest/globals';
import { connectionSchema } from '../../src/api/index.js';
import {
  adoPairs,
  decodeSecretData,
  parseConnectionUrl,
  resolveConnection,
  withCa,
} from '../../src/checks/connection-config.js';
import { parseManifests, secretLookup } from '../../src/cli/manifests.js';

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

  test("the spec's host, port and database win over the Secret's and its URL (a Secret naming an in-namespace Service)", () => {
    const cnpgLike = { username: 'app', password: 'pw', host: 'orders-rw', port: '5432', dbname: 'app' };
    const r = resolveConnection(
      'postgres',
      spec({ secretRef: { name: 'orders-app', keys: { database: 'dbname' } }, host: 'orders-rw.shop.svc', port: 6432 }),
      () => cnpgLike,
    );
    expect(r.ok && r.config).toMatchObject({
      host: 'orders-rw.shop.svc',
      port: 6432,
      database: 'app',
      username: 'app',
    });
    const loginOnly = resolveConnection('postgres', spec({ host: 'acid.shop.svc', database: 'orders' }), () => ({
      username: 'u',
      password: 'p',
    }));
    expect(loginOnly.ok && loginOnly.config).toMatchObject({ host: 'acid.shop.svc', port: 5432, database: 'orders' });
    const fromUrl = resolveConnection('postgres', spec({ host: '10.0.0.7' }), () => ({ url: 'postgres://a:b@x:1/db' }));
    expect(fromUrl.ok && fromUrl.config).toMatchObject({ host: '10.0.0.7', port: 1, database: 'db' });
    expect(connectionSchema.safeParse({ secretRef: { name: 'db' }, host: 'bad host' }).success).toBe(false);
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
      message: 'Secret db key port: the port is not a number from 1 to 65535',
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

describe('strict connection input: InvalidConnection naming the Secret and key, never the value', () => {
  const resolveUrl = (url: string, engine: 'postgres' | 'mssql' = 'postgres') =>
    resolveConnection(engine, spec(), () => ({ url }));

  test.each([
    ['verify_full', 'sslmode=verify_full'],
    ['an empty sslmode', 'sslmode='],
    ['a repeated sslmode', 'sslmode=require&sslmode=disable'],
    ['a name of an Object property', 'sslmode=constructor'],
  ])('%s is refused', (_what, query) => {
    expect(resolveUrl(`postgres://app:pw@db.example/orders?${query}`)).toEqual({
      ok: false,
      reason: 'InvalidConnection',
      message:
        'Secret db key url: sslmode must be given once, as one of disable, allow, prefer, require, verify-ca, verify-full',
    });
  });

  test.each(['disable', 'allow', 'prefer', 'require', 'verify-ca', 'verify-full'])('sslmode=%s is read', (mode) => {
    const r = resolveUrl(`postgres://app:pw@db.example/orders?sslmode=${mode}`);
    expect(r.ok && r.config.tls.mode).toBe(mode === 'allow' || mode === 'prefer' ? 'disable' : mode);
  });

  test('TLS parameters dbwatch does not honour are refused rather than ignored', () => {
    expect(resolveUrl('postgres://app:pw@db.example/orders?sslrootcert=/ca.pem')).toMatchObject({
      reason: 'InvalidConnection',
      message: 'Secret db key url: URL parameter sslrootcert is not supported: set spec.connection.tls instead',
    });
  });

  test.each([
    ['password', 'postgres://app:50%off@db.example/orders'],
    ['user name', 'postgres://a%zzpp:pw@db.example/orders'],
    ['database path', 'postgres://app:pw@db.example/or%ders'],
  ])('a bad percent-encoding in the %s is an error, not a URIError', (part, url) => {
    const r = resolveUrl(url);
    expect(r).toEqual({
      ok: false,
      reason: 'InvalidConnection',
      message: `Secret db key url: the ${part} in the URL is not percent-encoded correctly (write a literal % as %25)`,
    });
    expect(JSON.stringify(r)).not.toMatch(/50%off|a%zzpp|or%ders/);
  });

  test.each([
    ['Encrypt=maybe', 'Secret db key url: Encrypt must be one of true, yes, false, no, mandatory, optional, strict'],
    [
      'Encrypt=true;TrustServerCertificate=sure',
      'Secret db key url: TrustServerCertificate must be one of true, yes, false, no',
    ],
  ])('ADO %s is refused', (setting, message) => {
    expect(resolveUrl(`Server=sql.example;Database=Orders;User Id=app;Password=pw;${setting}`, 'mssql')).toEqual({
      ok: false,
      reason: 'InvalidConnection',
      message,
    });
  });

  test.each([
    ['Encrypt=yes', 'verify-full'],
    ['Encrypt=Strict', 'verify-full'],
    ['Encrypt=Mandatory;TrustServerCertificate=yes', 'require'],
    ['Encrypt=optional', 'disable'],
    ['Encrypt=no', 'disable'],
  ])('ADO %s means TLS mode %s', (setting, mode) => {
    const r = resolveUrl(`Server=sql.example;Database=Orders;User Id=app;Password=pw;${setting}`, 'mssql');
    expect(r.ok && r.config.tls.mode).toBe(mode);
  });

  test('Secret keys are own properties only: a key named constructor or toString is missing, not inherited', () => {
    const r = resolveConnection(
      'postgres',
      spec({ secretRef: { name: 'db', keys: { host: 'constructor', password: 'toString' } } }),
      () => ({ database: 'orders', username: 'app' }),
    );
    expect(r).toEqual({
      ok: false,
      reason: 'SecretKeyMissing',
      message: 'Secret db is missing key constructor, toString (or a url key)',
    });
  });

  test('a bad port inside a connection string names the url key', () => {
    expect(resolveConnection('mssql', spec(), () => ({ url: 'Server=h,x;Database=d;User Id=u;Password=p' }))).toEqual({
      ok: false,
      reason: 'InvalidConnection',
      message: 'Secret db key url: the port is not a number from 1 to 65535',
    });
  });

  test('a port that is not plain digits is refused', () => {
    for (const port of ['0x10', ' 5432', '5432.0', '1e3']) {
      expect(resolveConnection('postgres', spec(), () => ({ ...full, port }))).toMatchObject({
        reason: 'InvalidConnection',
      });
    }
  });
});

describe('Secret data decoding', () => {
  test('base64 data decodes; stringData wins; bad values stay unreadable with the reason', () => {
    const data = decodeSecretData(
      { host: Buffer.from('db.example').toString('base64'), password: 'not base64!', blob: '/w==', port: 5432 },
      { database: 'orders', host: 'override', username: 7 },
    );
    expect({ ...data }).toEqual({
      host: 'override',
      password: { problem: 'is not valid base64' },
      blob: { problem: 'is not UTF-8 text' },
      port: { problem: 'is not a string' },
      database: 'orders',
      username: { problem: 'is not a string' },
    });
  });

  test('an unreadable key in use is InvalidConnection naming the Secret and key; unused ones do not matter', () => {
    const data = decodeSecretData({ ...encodeAll(full), password: 'junk*', spare: '/w==' });
    expect(resolveConnection('postgres', spec(), () => data)).toEqual({
      ok: false,
      reason: 'InvalidConnection',
      message: 'Secret db key password is not valid base64',
    });
    const fine = decodeSecretData({ ...encodeAll(full), spare: '/w==' });
    expect(resolveConnection('postgres', spec(), () => fine).ok).toBe(true);
  });

  test('the TLS CA key is checked the same way', () => {
    const s = spec({ tls: { mode: 'verify-ca', caSecretRef: { name: 'ca' } } });
    const lookup = (name: string) => (name === 'db' ? full : decodeSecretData({ 'ca.crt': '%%%' }));
    expect(withCa(resolveConnection('postgres', s, lookup), s, lookup)).toEqual({
      ok: false,
      reason: 'InvalidConnection',
      message: 'Secret ca key ca.crt is not valid base64 (TLS CA)',
    });
  });

  test("Secret data as the API server sends it (the operator's SecretReader decodes with this)", () => {
    expect({ ...decodeSecretData({ password: 'aGk=', host: 'bad!' }) }).toEqual({
      password: 'hi',
      host: { problem: 'is not valid base64' },
    });
    expect(decodeSecretData({ password: 'aGk=\n' }).password).toBe('hi');
  });
});

const encodeAll = (values: Record<string, string>) =>
  Object.fromEntries(Object.entries(values).map(([k, v]) => [k, Buffer.from(v).toString('base64')]));

describe('ADO.NET connection strings with quoted values', () => {
  test.each([
    ['Password={a;b}}c}', 'a;b}c'],
    ['Password="a;""b"', 'a;"b'],
    ["Password='x;y'", 'x;y'],
    ['Password=plain', 'plain'],
  ])('%s reads the password as its own characters', (part, password) => {
    expect(adoPairs(`Server=db,1433;Database=orders;User Id=dbwatch;${part};Encrypt=false`)?.get('password')).toBe(
      password,
    );
  });

  test('an unterminated quote is not a connection string', () => {
    expect(adoPairs('Server=db;Password={a;b')).toBeUndefined();
  });
});

describe('Secrets for dbwatch check: files, and keys from the environment', () => {
  const manifests = parseManifests([
    {
      file: 'db.yaml',
      text: `apiVersion: v1
kind: Secret
metadata: { name: orders-db, namespace: shop }
stringData: { host: db.example, database: orders, username: app, password: from-file, ca.crt: PEM }
`,
    },
  ]);
  const lookup = (env: NodeJS.ProcessEnv, namespace = 'shop') => secretLookup(manifests, namespace, env);

  test('DBWATCH_SECRET_<SECRET>_<KEY> supplies one key while the file supplies the others, and wins over it', () => {
    expect(
      lookup({ DBWATCH_SECRET_ORDERS_DB_PASSWORD: 'from-env', DBWATCH_SECRET_ORDERS_DB_PORT: '6432' })('orders-db'),
    ).toEqual({
      host: 'db.example',
      database: 'orders',
      username: 'app',
      password: 'from-env',
      port: '6432',
      'ca.crt': 'PEM',
    });
    // A key the file has with other characters is found by its variable name (ca.crt ↔ CA_CRT).
    expect(lookup({ DBWATCH_SECRET_ORDERS_DB_CA_CRT: 'other' })('orders-db')?.['ca.crt']).toBe('other');
  });

  test('the environment alone is a Secret; neither is "not found" with the namespace and the variable named', () => {
    expect(lookup({ DBWATCH_SECRET_LEDGER_PASSWORD: 'x' })('ledger')).toEqual({ password: 'x' });
    const result = resolveConnection('postgres', spec({ secretRef: { name: 'ledger' } }), lookup({}));
    expect(result).toEqual({
      ok: false,
      reason: 'SecretNotFound',
      message:
        'Secret ledger not found in namespace shop (no Secret manifest in the files given, no DBWATCH_SECRET_LEDGER_<KEY> variable)',
    });
    // The file's Secret lives in shop: from another namespace it is not found.
    expect(lookup({}, 'default')('orders-db')).toBeUndefined();
  });
});
