import type { ConnectionSpec, EngineName } from '../api/index.js';
import type { ConnectionConfig } from './engine.js';

/** A Secret's decoded data, or undefined when the Secret does not exist. */
export type SecretLookup = (name: string) => Record<string, string> | undefined;

export type ResolveFailure = {
  ok: false;
  /** CamelCase, usable as a condition reason. */
  reason: 'SecretNotFound' | 'SecretKeyMissing' | 'InvalidConnection';
  message: string;
};
export type ResolveResult = { ok: true; config: ConnectionConfig } | ResolveFailure;

const DEFAULT_PORT: Record<EngineName, number> = { postgres: 5432, mssql: 1433 };

/**
 * Turns a connection spec and its Secret into a connection config. Messages name Secrets and keys,
 * never their values.
 */
export function resolveConnection(engine: EngineName, spec: ConnectionSpec, lookup: SecretLookup): ResolveResult {
  const secretName = spec.secretRef.name;
  const data = lookup(secretName);
  if (!data) return fail('SecretNotFound', `Secret ${secretName} not found in this namespace`);
  const keys = {
    url: 'url',
    host: 'host',
    port: 'port',
    database: 'database',
    username: 'username',
    password: 'password',
    instance: 'instance',
    ...spec.secretRef.keys,
  };
  const fromUrl = data[keys.url] !== undefined ? parseConnectionUrl(data[keys.url]!) : undefined;
  if (fromUrl && 'error' in fromUrl) {
    return fail('InvalidConnection', `Secret ${secretName} key ${keys.url}: ${fromUrl.error}`);
  }
  const value = (field: keyof typeof keys) => data[keys[field]] ?? fromUrl?.[field as keyof ParsedUrl];
  const missing = (['host', 'database', 'username', 'password'] as const).filter((f) => !value(f));
  if (missing.length > 0) {
    const names = missing.map((f) => keys[f]).join(', ');
    const hint = fromUrl ? '' : ` (or a ${keys.url} key)`;
    return fail('SecretKeyMissing', `Secret ${secretName} is missing key ${names}${hint}`);
  }
  const portText = value('port');
  const port = portText === undefined || portText === '' ? DEFAULT_PORT[engine] : Number(portText);
  if (!Number.isInteger(port) || port < 1 || port > 65535) {
    return fail('InvalidConnection', `Secret ${secretName} key ${keys.port} is not a port number (1-65535)`);
  }
  const instance = value('instance');
  return {
    ok: true,
    config: {
      engine,
      host: value('host')!,
      port,
      database: value('database')!,
      username: value('username')!,
      password: value('password')!,
      ...(instance ? { instance } : {}),
      tls: { mode: spec.tls?.mode ?? fromUrl?.tlsMode ?? 'disable' },
      connectTimeoutMs: spec.connectTimeoutSeconds * 1000,
    },
  };
}

/** Adds the CA bundle from its own Secret key to a resolved config. */
export function withCa(result: ResolveResult, spec: ConnectionSpec, lookup: SecretLookup): ResolveResult {
  const ref = spec.tls?.caSecretRef;
  if (!result.ok || !ref) return result;
  const data = lookup(ref.name);
  if (!data) return fail('SecretNotFound', `Secret ${ref.name} (TLS CA) not found in this namespace`);
  const ca = data[ref.key];
  if (!ca) return fail('SecretKeyMissing', `Secret ${ref.name} is missing key ${ref.key} (TLS CA)`);
  return { ok: true, config: { ...result.config, tls: { ...result.config.tls, ca } } };
}

interface ParsedUrl {
  host?: string;
  port?: string;
  database?: string;
  username?: string;
  password?: string;
  instance?: string;
  tlsMode?: ConnectionConfig['tls']['mode'];
}

const SSLMODES: Record<string, ConnectionConfig['tls']['mode']> = {
  disable: 'disable',
  allow: 'disable',
  prefer: 'disable',
  require: 'require',
  'verify-ca': 'verify-ca',
  'verify-full': 'verify-full',
};

/**
 * postgres://, postgresql://, mssql:// and sqlserver:// URLs, and ADO.NET-style SQL Server connection
 * strings (Server=host,port;Database=...;User Id=...;Password=...).
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
  const sslmode = url.searchParams.get('sslmode');
  // SQL Server named instances: mssql://host/INSTANCE/database.
  const parts = decodeURIComponent(url.pathname.slice(1)).split('/');
  return {
    ...(url.hostname ? { host: url.hostname.replace(/^\[|\]$/g, '') } : {}),
    ...(url.port ? { port: url.port } : {}),
    ...(parts.at(-1) ? { database: parts.at(-1) } : {}),
    ...(parts.length > 1 && parts[0] ? { instance: parts[0] } : {}),
    ...(url.username ? { username: decodeURIComponent(url.username) } : {}),
    ...(url.password ? { password: decodeURIComponent(url.password) } : {}),
    ...(sslmode && SSLMODES[sslmode] ? { tlsMode: SSLMODES[sslmode] } : {}),
  };
}

function parseAdoString(text: string): ParsedUrl | { error: string } {
  const pairs = new Map<string, string>();
  for (const part of text.split(';')) {
    const eq = part.indexOf('=');
    if (eq < 0) {
      if (part.trim() === '') continue;
      return { error: 'not a URL or a Key=Value;... connection string' };
    }
    pairs.set(part.slice(0, eq).trim().toLowerCase().replace(/\s+/g, ' '), part.slice(eq + 1).trim());
  }
  const pick = (...names: string[]) => names.map((n) => pairs.get(n)).find((v) => v !== undefined);
  const server = (pick('server', 'data source', 'address', 'addr') ?? '').replace(/^tcp:/i, '');
  const [hostPart, port] = server.split(',');
  const [host, instance] = (hostPart ?? '').split('\\');
  const encrypt = pick('encrypt')?.toLowerCase();
  const trust = pick('trustservercertificate')?.toLowerCase();
  return {
    ...(host ? { host } : {}),
    ...(port ? { port: port.trim() } : {}),
    ...(instance ? { instance } : {}),
    ...(pick('database', 'initial catalog') ? { database: pick('database', 'initial catalog') } : {}),
    ...(pick('user id', 'uid', 'user') ? { username: pick('user id', 'uid', 'user') } : {}),
    ...(pick('password', 'pwd') ? { password: pick('password', 'pwd') } : {}),
    ...(encrypt === 'true' || encrypt === 'mandatory' || encrypt === 'strict'
      ? { tlsMode: trust === 'true' ? 'require' : 'verify-full' }
      : encrypt === 'false' || encrypt === 'optional'
        ? { tlsMode: 'disable' }
        : {}),
  };
}

function fail(reason: ResolveFailure['reason'], message: string): ResolveFailure {
  return { ok: false, reason, message };
}
