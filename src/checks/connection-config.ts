import type { ConnectionSpec, EngineName, PgbouncerCheck } from '../api/index.js';
import type { ConnectionConfig } from './engine.js';

/** A Secret value that cannot be used as text; `problem` says why and never holds the value. */
export interface UnreadableSecretValue {
  problem: string;
}
/** A Secret's decoded data. Values that could not be decoded stay visible as such, so the error names their key. */
export type SecretData = Record<string, string | UnreadableSecretValue>;
/**
 * A Secret's decoded data, or undefined when the Secret does not exist. `where` says where a Secret that is not
 * found was looked for ("in namespace shop"), so the message names it; without it, "in this namespace".
 */
export type SecretLookup = ((name: string) => SecretData | undefined) & { where?: (name: string) => string };

const notFound = (lookup: SecretLookup, name: string) => lookup.where?.(name) ?? 'in this namespace';

export type ResolveFailure = {
  ok: false;
  /** CamelCase, usable as a condition reason. */
  reason: 'SecretNotFound' | 'SecretKeyMissing' | 'InvalidConnection';
  message: string;
};
export type ResolveResult =
  | {
      ok: true;
      config: ConnectionConfig;
      /** PgBouncer's admin console, when spec.checks.pgbouncer is set. */
      pgbouncerConsole?: ConnectionConfig;
    }
  | ResolveFailure;

const BASE64 = /^(?:[A-Za-z0-9+/]{4})*(?:[A-Za-z0-9+/]{2}==|[A-Za-z0-9+/]{3}=)?$/;
const utf8 = new TextDecoder('utf-8', { fatal: true });

/** Standard base64 with padding, line breaks ignored: what the API server accepts in Secret data. */
export const isBase64 = (text: string) => BASE64.test(text.replace(/[\r\n]/g, ''));

/** The Secret keys a connection is read from unless secretRef.keys names others (discovery reads the same). */
export const DEFAULT_SECRET_KEYS = {
  url: 'url',
  host: 'host',
  port: 'port',
  database: 'database',
  username: 'username',
  password: 'password',
  instance: 'instance',
} as const;

/**
 * Decodes one Secret `data` value the way the API server does (standard base64 with padding; line breaks
 * ignored) and insists on UTF-8 text: Buffer.from(x, 'base64') would silently skip bad characters.
 */
export function decodeSecretValue(encoded: unknown): string | UnreadableSecretValue {
  if (typeof encoded !== 'string') return { problem: 'is not a string' };
  if (!isBase64(encoded)) return { problem: 'is not valid base64' };
  try {
    return utf8.decode(Buffer.from(encoded, 'base64'));
  } catch {
    return { problem: 'is not UTF-8 text' };
  }
}

/** Secret `data` (base64) and `stringData` (text) as one map; stringData wins, as on the API server. */
export function decodeSecretData(data: unknown, stringData?: unknown): SecretData {
  const out: SecretData = Object.create(null);
  for (const [key, value] of ownEntries(data)) out[key] = decodeSecretValue(value);
  for (const [key, value] of ownEntries(stringData)) {
    out[key] = typeof value === 'string' ? value : { problem: 'is not a string' };
  }
  return out;
}

const ownEntries = (value: unknown): [string, unknown][] =>
  value !== null && typeof value === 'object' && !Array.isArray(value) ? Object.entries(value) : [];

/** A key's value, read as an own property only (a key named "constructor" must not find Object's). */
function readKey(data: SecretData, key: string): string | UnreadableSecretValue | undefined {
  return Object.hasOwn(data, key) ? data[key] : undefined;
}

const DEFAULT_PORT: Record<EngineName, number> = { postgres: 5432, mssql: 1433 };

/**
 * Turns a connection spec and its Secret into a connection config. Messages name Secrets and keys,
 * never their values.
 */
export function resolveConnection(engine: EngineName, spec: ConnectionSpec, lookup: SecretLookup): ResolveResult {
  const secretName = spec.secretRef.name;
  const data = lookup(secretName);
  if (!data) return fail('SecretNotFound', `Secret ${secretName} not found ${notFound(lookup, secretName)}`);
  const keys = { ...DEFAULT_SECRET_KEYS, ...spec.secretRef.keys };
  const unreadable = Object.values(keys).find((key) => typeof readKey(data, key) === 'object');
  if (unreadable !== undefined) {
    const { problem } = readKey(data, unreadable) as UnreadableSecretValue;
    return fail('InvalidConnection', `Secret ${secretName} key ${unreadable} ${problem}`);
  }
  const text = (key: string) => readKey(data, key) as string | undefined;
  const urlText = text(keys.url);
  const fromUrl = urlText !== undefined ? parseConnectionUrl(urlText) : undefined;
  if (fromUrl && 'error' in fromUrl) {
    return fail('InvalidConnection', `Secret ${secretName} key ${keys.url}: ${fromUrl.error}`);
  }
  // Non-secret overrides in the spec win over the Secret (a Secret written by a database operator may name a
  // host that resolves only in its own namespace, or hold a login without a database).
  const overrides: Partial<Record<keyof typeof keys, string>> = {
    host: spec.host,
    port: spec.port === undefined ? undefined : String(spec.port),
    database: spec.database,
  };
  const value = (field: keyof typeof keys) =>
    overrides[field] ?? text(keys[field]) ?? fromUrl?.[field as keyof ParsedUrl];
  const missing = (['host', 'database', 'username', 'password'] as const).filter((f) => !value(f));
  if (missing.length > 0) {
    const names = missing.map((f) => keys[f]).join(', ');
    const hint = fromUrl ? '' : ` (or a ${keys.url} key)`;
    return fail('SecretKeyMissing', `Secret ${secretName} is missing key ${names}${hint}`);
  }
  const portText = value('port');
  const port = portText === undefined || portText === '' ? DEFAULT_PORT[engine] : Number(portText);
  if (!/^[0-9]*$/.test(portText ?? '') || !Number.isInteger(port) || port < 1 || port > 65535) {
    const from = text(keys.port) !== undefined ? keys.port : keys.url;
    return fail('InvalidConnection', `Secret ${secretName} key ${from}: the port is not a number from 1 to 65535`);
  }
  const instance = value('instance');
  return {
    ok: true,
    // One fixed shape (no conditional spread): held per monitor, and a spread gave each its own hidden class.
    config: {
      engine,
      host: value('host')!,
      port,
      database: value('database')!,
      username: value('username')!,
      password: value('password')!,
      instance: instance || undefined,
      tls: { mode: spec.tls?.mode ?? fromUrl?.tlsMode ?? 'disable', ca: undefined },
      connectTimeoutMs: spec.connectTimeoutSeconds * 1000,
    },
  };
}

/** Adds the CA bundle from its own Secret key to a resolved config. */
export function withCa(result: ResolveResult, spec: ConnectionSpec, lookup: SecretLookup): ResolveResult {
  const ref = spec.tls?.caSecretRef;
  if (!result.ok || !ref) return result;
  const data = lookup(ref.name);
  if (!data) return fail('SecretNotFound', `Secret ${ref.name} (TLS CA) not found ${notFound(lookup, ref.name)}`);
  const ca = readKey(data, ref.key);
  if (typeof ca === 'object')
    return fail('InvalidConnection', `Secret ${ref.name} key ${ref.key} ${ca.problem} (TLS CA)`);
  if (!ca) return fail('SecretKeyMissing', `Secret ${ref.name} is missing key ${ref.key} (TLS CA)`);
  result.config.tls.ca = ca;
  return result;
}

/**
 * PgBouncer's admin console: the monitor's address and TLS, database `check.database`, and the login of the
 * check's own Secret when it names one (its host and port keys, when present, move the address).
 */
export function withPgbouncerConsole(
  result: ResolveResult,
  check: PgbouncerCheck | undefined,
  lookup: SecretLookup,
): ResolveResult {
  if (!result.ok || !check) return result;
  const base = result.config;
  const console: ConnectionConfig = {
    engine: base.engine,
    host: base.host,
    port: base.port,
    database: check.database,
    username: base.username,
    password: base.password,
    instance: undefined,
    tls: base.tls,
    connectTimeoutMs: base.connectTimeoutMs,
  };
  const ref = check.secretRef;
  if (ref) {
    const what = `(PgBouncer admin console)`;
    const data = lookup(ref.name);
    if (!data) return fail('SecretNotFound', `Secret ${ref.name} ${what} not found in this namespace`);
    const keys = { host: 'host', port: 'port', username: 'username', password: 'password', ...ref.keys };
    for (const key of Object.values(keys)) {
      const value = readKey(data, key);
      if (typeof value === 'object')
        return fail('InvalidConnection', `Secret ${ref.name} key ${key} ${value.problem} ${what}`);
    }
    const text = (key: string) => readKey(data, key) as string | undefined;
    const missing = [keys.username, keys.password].filter((k) => !text(k));
    if (missing.length > 0)
      return fail('SecretKeyMissing', `Secret ${ref.name} is missing key ${missing.join(', ')} ${what}`);
    console.username = text(keys.username)!;
    console.password = text(keys.password)!;
    console.host = text(keys.host) || base.host;
    const portText = text(keys.port);
    if (portText) {
      const port = Number(portText);
      if (!/^[0-9]+$/.test(portText) || port < 1 || port > 65535) {
        return fail(
          'InvalidConnection',
          `Secret ${ref.name} key ${keys.port}: the port is not a number from 1 to 65535 ${what}`,
        );
      }
      console.port = port;
    }
  }
  return { ...result, pgbouncerConsole: console };
}

interface ParsedUrl {
  host?: string;
  port?: string;
  database?: string;
  username?: string;
  password?: string;
  instance?: string;
  tlsMode?: TlsMode;
}

type TlsMode = ConnectionConfig['tls']['mode'];

/** libpq's sslmode values; allow and prefer may fall back to plain text, so dbwatch treats them as disable. */
const SSLMODES = new Map<string, TlsMode>([
  ['disable', 'disable'],
  ['allow', 'disable'],
  ['prefer', 'disable'],
  ['require', 'require'],
  ['verify-ca', 'verify-ca'],
  ['verify-full', 'verify-full'],
]);

/** URL parameters that would change TLS if dbwatch honoured them; refused so they are never silently ignored. */
const UNSUPPORTED_TLS_PARAMETERS = [
  'ssl',
  'sslcert',
  'sslkey',
  'sslrootcert',
  'sslcrl',
  'sslpassword',
  'sslnegotiation',
  'encrypt',
  'trustservercertificate',
];

/**
 * postgres://, postgresql://, mssql:// and sqlserver:// URLs, and ADO.NET-style SQL Server connection
 * strings (Server=host,port;Database=...;User Id=...;Password=...). Errors never quote the text.
 */
export function parseConnectionUrl(text: string): ParsedUrl | { error: string } {
  if (!/^[a-z]+:\/\//i.test(text)) return parseAdoString(text);
  let url: URL;
  try {
    url = new URL(text);
  } catch {
    return { error: 'not a valid URL (expected scheme://user:password@host:port/database)' };
  }
  if (!['postgres:', 'postgresql:', 'mssql:', 'sqlserver:'].includes(url.protocol)) {
    return { error: `unsupported scheme ${url.protocol} (use postgres://, mssql:// or sqlserver://)` };
  }
  const unsupported = [...url.searchParams.keys()].find((k) => UNSUPPORTED_TLS_PARAMETERS.includes(k.toLowerCase()));
  if (unsupported !== undefined) {
    return { error: `URL parameter ${unsupported} is not supported: set spec.connection.tls instead` };
  }
  const sslmodes = url.searchParams.getAll('sslmode');
  if (sslmodes.length > 1 || (sslmodes.length === 1 && !SSLMODES.has(sslmodes[0]!))) {
    return { error: `sslmode must be given once, as one of ${[...SSLMODES.keys()].join(', ')}` };
  }
  const path = percentDecode(url.pathname.slice(1), 'database path');
  const username = percentDecode(url.username, 'user name');
  const password = percentDecode(url.password, 'password');
  for (const part of [path, username, password]) if (typeof part === 'object') return part;
  // SQL Server named instances: mssql://host/INSTANCE/database.
  const parts = (path as string).split('/');
  return {
    ...(url.hostname ? { host: url.hostname.replace(/^\[|\]$/g, '') } : {}),
    ...(url.port ? { port: url.port } : {}),
    ...(parts.at(-1) ? { database: parts.at(-1) } : {}),
    ...(parts.length > 1 && parts[0] ? { instance: parts[0] } : {}),
    ...(username ? { username: username as string } : {}),
    ...(password ? { password: password as string } : {}),
    ...(sslmodes.length === 1 ? { tlsMode: SSLMODES.get(sslmodes[0]!)! } : {}),
  };
}

/** decodeURIComponent throws URIError on a bare %; that becomes an error naming the part, not its text. */
function percentDecode(text: string, part: string): string | { error: string } {
  try {
    return decodeURIComponent(text);
  } catch {
    return { error: `the ${part} in the URL is not percent-encoded correctly (write a literal % as %25)` };
  }
}

const ADO_BOOLEANS = new Map([
  ['true', true],
  ['yes', true],
  ['false', false],
  ['no', false],
]);
/** Encrypt values of Microsoft.Data.SqlClient (strict is TDS 8: TLS before the login, always verified). */
const ADO_ENCRYPT = new Map([...ADO_BOOLEANS, ['mandatory', true], ['optional', false], ['strict', true]]);

/**
 * Key=Value pairs of an ADO.NET connection string. Values may be quoted as ADO.NET allows — {a;b} (with }}
 * for a literal }), "a;b" or 'a;b' (doubled quote for a literal one) — so a password may contain ';'.
 */
export function adoPairs(text: string): Map<string, string> | undefined {
  const pairs = new Map<string, string>();
  let i = 0;
  while (i < text.length) {
    const eq = text.indexOf('=', i);
    const semi = text.indexOf(';', i);
    if (eq < 0 || (semi >= 0 && semi < eq)) {
      const rest = text.slice(i, semi < 0 ? undefined : semi);
      if (rest.trim() !== '') return undefined;
      if (semi < 0) break;
      i = semi + 1;
      continue;
    }
    const key = text.slice(i, eq).trim().toLowerCase().replace(/\s+/g, ' ');
    let j = eq + 1;
    while (text[j] === ' ') j++;
    const close = { '{': '}', '"': '"', "'": "'" }[text[j] ?? ''];
    let value = '';
    if (close) {
      j++;
      for (;;) {
        if (j >= text.length) return undefined;
        if (text[j] === close) {
          if (text[j + 1] === close) {
            value += close;
            j += 2;
            continue;
          }
          j++;
          break;
        }
        value += text[j++];
      }
      const end = text.indexOf(';', j);
      if (text.slice(j, end < 0 ? undefined : end).trim() !== '') return undefined;
      i = end < 0 ? text.length : end + 1;
    } else {
      const end = text.indexOf(';', j);
      value = text.slice(j, end < 0 ? undefined : end).trim();
      i = end < 0 ? text.length : end + 1;
    }
    pairs.set(key, value);
  }
  return pairs;
}

function parseAdoString(text: string): ParsedUrl | { error: string } {
  const pairs = adoPairs(text);
  if (!pairs) return { error: 'not a URL or a Key=Value;... connection string' };
  const pick = (...names: string[]) => names.map((n) => pairs.get(n)).find((v) => v !== undefined);
  const encryptText = pick('encrypt')?.toLowerCase();
  const trustText = pick('trustservercertificate', 'trust server certificate')?.toLowerCase();
  const encrypt = encryptText === undefined ? undefined : ADO_ENCRYPT.get(encryptText);
  const trust = trustText === undefined ? false : ADO_BOOLEANS.get(trustText);
  if (encryptText !== undefined && encrypt === undefined) {
    return { error: `Encrypt must be one of ${[...ADO_ENCRYPT.keys()].join(', ')}` };
  }
  if (trust === undefined)
    return { error: `TrustServerCertificate must be one of ${[...ADO_BOOLEANS.keys()].join(', ')}` };
  const server = (pick('server', 'data source', 'address', 'addr') ?? '').replace(/^tcp:/i, '');
  const [hostPart, port] = server.split(',');
  const [host, instance] = (hostPart ?? '').split('\\');
  return {
    ...(host ? { host } : {}),
    ...(port ? { port: port.trim() } : {}),
    ...(instance ? { instance } : {}),
    ...(pick('database', 'initial catalog') ? { database: pick('database', 'initial catalog') } : {}),
    ...(pick('user id', 'uid', 'user') ? { username: pick('user id', 'uid', 'user') } : {}),
    ...(pick('password', 'pwd') ? { password: pick('password', 'pwd') } : {}),
    ...(encrypt === undefined ? {} : { tlsMode: encrypt ? (trust ? 'require' : 'verify-full') : 'disable' }),
  };
}

function fail(reason: ResolveFailure['reason'], message: string): ResolveFailure {
  return { ok: false, reason, message };
}
