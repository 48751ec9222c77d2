import net from 'node:net';
import tls from 'node:tls';
import pg from 'pg';
import type { ServerConnections } from '../../api/index.js';
import {
  type ClassifiedError,
  type ConnectionConfig,
  type DatabaseEngine,
  PhaseError,
  type TableRef,
} from '../engine.js';
import { TimeoutError, withTimeout } from '../timeout.js';

const DEFAULT_POOL_SIZE = 2;
const MAX_ROWS = 10_000;

/** pg's TLS options for a spec's mode; verify-ca checks the chain but not the host name. */
function sslOptions(config: ConnectionConfig): pg.ClientConfig['ssl'] {
  const { mode, ca } = config.tls;
  if (mode === 'disable') return false;
  return {
    rejectUnauthorized: mode !== 'require',
    ...(ca ? { ca } : {}),
    ...(mode === 'verify-ca' ? { checkServerIdentity: () => undefined } : {}),
  };
}

function clientConfig(config: ConnectionConfig): pg.ClientConfig {
  return {
    host: config.host,
    port: config.port,
    database: config.database,
    user: config.username,
    password: config.password,
    ssl: sslOptions(config),
    connectionTimeoutMillis: config.connectTimeoutMs,
    application_name: 'dbwatch',
    // Every session starts read-only: a check can never write, whatever SQL it is given.
    options: '-c default_transaction_read_only=on',
    keepAlive: true,
  };
}

// Client backends by state, against the connections a non-superuser can have. Without pg_read_all_stats
// other roles' sessions still count, but their state reads NULL: we report that as partial visibility.
const SERVER_CONNECTIONS_SQL = `
SELECT count(*) FILTER (WHERE state = 'active')::int AS active,
       count(*) FILTER (WHERE state = 'idle')::int AS idle,
       count(*) FILTER (WHERE state LIKE 'idle in transaction%')::int AS idle_in_tx,
       count(*) FILTER (WHERE state IS NULL)::int AS hidden,
       count(*)::int AS total,
       current_setting('max_connections')::int
         - current_setting('superuser_reserved_connections')::int
         - coalesce(current_setting('reserved_connections', true), '0')::int AS max_usable,
       pg_has_role(current_user, 'pg_read_all_stats', 'MEMBER') AS sees_all
FROM pg_stat_activity
WHERE backend_type = 'client backend'`;

const TABLE_EXISTS_SQL = `
SELECT 1 FROM information_schema.tables
WHERE table_name = $1 AND table_schema = coalesce($2, current_schema())`;

export class PostgresEngine implements DatabaseEngine {
  readonly name = 'postgres' as const;
  private readonly pool: pg.Pool;
  private readonly size: number;

  constructor(
    private readonly config: ConnectionConfig,
    options: { poolSize?: number } = {},
  ) {
    this.size = options.poolSize ?? DEFAULT_POOL_SIZE;
    this.pool = new pg.Pool({ ...clientConfig(config), max: this.size, idleTimeoutMillis: 60_000 });
    // An idle client that loses its server emits here; the next check reports the outage.
    this.pool.on('error', () => undefined);
  }

  /** pg enforces connectionTimeoutMillis itself; the outer bound also covers a full pool. */
  private async acquire(timeoutMs: number, what: string): Promise<pg.PoolClient> {
    const pending = this.pool.connect();
    try {
      return await withTimeout(pending, timeoutMs, `${what}: connecting`);
    } catch (error) {
      // A connection that arrives after we gave up goes straight back to the pool.
      pending.then(
        (late) => late.release(),
        () => undefined,
      );
      throw error;
    }
  }

  private async withClient<T>(timeoutMs: number, what: string, work: (c: pg.PoolClient) => Promise<T>): Promise<T> {
    const client = await this.acquire(timeoutMs, what);
    let broken: Error | undefined;
    try {
      return await work(client);
    } catch (error) {
      if (!(error instanceof Error && 'code' in error)) broken = error as Error;
      throw error;
    } finally {
      // A timed-out or failed-at-protocol client is discarded rather than reused.
      client.release(broken);
    }
  }

  private query<R extends pg.QueryResultRow>(
    client: pg.PoolClient,
    text: string,
    values: unknown[],
    timeoutMs: number,
  ) {
    return client.query<R>({ text, values, query_timeout: timeoutMs } as pg.QueryConfig);
  }

  async ping(timeoutMs: number): Promise<void> {
    const client = await this.acquire(timeoutMs, 'test query').catch((e: unknown) => {
      throw new PhaseError('connect', e);
    });
    try {
      await this.query(client, 'SELECT 1', [], timeoutMs);
      client.release();
    } catch (error) {
      client.release(error as Error);
      throw new PhaseError('query', error);
    }
  }

  async connectOnce(timeoutMs: number): Promise<void> {
    const client = new pg.Client({ ...clientConfig(this.config), connectionTimeoutMillis: timeoutMs });
    client.on('error', () => undefined);
    try {
      await withTimeout(client.connect(), timeoutMs + 100, 'connecting');
    } finally {
      await client.end().catch(() => undefined);
    }
  }

  async runReadOnly(sql: string, timeoutMs: number): Promise<void> {
    await this.withClient(timeoutMs, 'test query', async (c) => {
      await c.query('BEGIN READ ONLY');
      try {
        await c.query(`SET LOCAL statement_timeout = ${Math.max(1, Math.floor(timeoutMs))}`);
        // Extended protocol: a single statement only, so "SELECT 1; COMMIT; DELETE ..." is refused.
        await c.query({ text: sql, queryMode: 'extended', query_timeout: timeoutMs + 1000 } as pg.QueryConfig);
      } finally {
        await c.query('ROLLBACK').catch(() => undefined);
      }
    });
  }

  async serverConnections(timeoutMs: number): Promise<ServerConnections> {
    const { rows } = await this.withClient(timeoutMs, 'reading pg_stat_activity', (c) =>
      this.query<{
        active: number;
        idle: number;
        idle_in_tx: number;
        hidden: number;
        total: number;
        max_usable: number;
        sees_all: boolean;
      }>(c, SERVER_CONNECTIONS_SQL, [], timeoutMs),
    );
    const r = rows[0]!;
    return {
      active: r.active,
      idle: r.idle,
      idleInTransaction: r.idle_in_tx,
      other: r.total - r.active - r.idle - r.idle_in_tx,
      total: r.total,
      maxUsable: r.max_usable,
      utilizationPercent: r.max_usable > 0 ? Math.round((r.total / r.max_usable) * 10_000) / 100 : 0,
      visibility: r.sees_all && r.hidden === 0 ? 'full' : 'partial',
    };
  }

  poolStats() {
    return {
      size: this.size,
      checkedOut: this.pool.totalCount - this.pool.idleCount,
      idle: this.pool.idleCount,
      waiting: this.pool.waitingCount,
    };
  }

  async databaseInfo(timeoutMs: number) {
    const { rows } = await this.withClient(timeoutMs, 'reading the server version', (c) =>
      this.query<{ version: string; in_recovery: boolean }>(
        c,
        "SELECT current_setting('server_version') AS version, pg_is_in_recovery() AS in_recovery",
        [],
        timeoutMs,
      ),
    );
    // A standby in recovery is read-only; the database is open either way once we are connected.
    return { version: rows[0]!.version, state: 'ONLINE', readOnly: rows[0]!.in_recovery };
  }

  async tableExists(ref: TableRef, timeoutMs: number): Promise<boolean> {
    const { rowCount } = await this.withClient(timeoutMs, 'looking up the table', (c) =>
      this.query(c, TABLE_EXISTS_SQL, [ref.table, ref.schema ?? null], timeoutMs),
    );
    return (rowCount ?? 0) > 0;
  }

  async selectColumns(ref: TableRef, columns: string[], timeoutMs: number) {
    const table = [ref.schema, ref.table]
      .filter((p): p is string => p !== undefined)
      .map(pg.escapeIdentifier)
      .join('.');
    const sql = `SELECT ${columns.map(pg.escapeIdentifier).join(', ')} FROM ${table} LIMIT ${MAX_ROWS}`;
    const { rows } = await this.withClient(timeoutMs, `reading ${table}`, (c) => this.query(c, sql, [], timeoutMs));
    return rows as Record<string, unknown>[];
  }

  /** Sends PostgreSQL's SSLRequest on a fresh socket, then upgrades it as the driver would. */
  async probeTls(timeoutMs: number): Promise<string> {
    const mode = this.config.tls.mode;
    if (mode === 'disable') return 'TLS disabled by the spec';
    const socket = net.connect({ host: this.config.host, port: this.config.port });
    try {
      await withTimeout(new Promise((ok, fail) => socket.once('connect', ok).once('error', fail)), timeoutMs, 'TCP');
      const answer = await withTimeout(
        new Promise<string>((ok, fail) => {
          socket.once('data', (b) => ok(b.subarray(0, 1).toString())).once('error', fail);
          const request = Buffer.alloc(8);
          request.writeInt32BE(8, 0);
          request.writeInt32BE(80877103, 4);
          socket.write(request);
        }),
        timeoutMs,
        'TLS negotiation',
      );
      if (answer !== 'S') {
        throw Object.assign(new Error('The server does not support SSL connections'), { code: 'NO_SSL' });
      }
      const ssl = sslOptions(this.config) as tls.ConnectionOptions;
      const secure = tls.connect({
        ...ssl,
        socket,
        servername: net.isIP(this.config.host) ? undefined : this.config.host,
      });
      try {
        await withTimeout(
          new Promise((ok, fail) => secure.once('secureConnect', ok).once('error', fail)),
          timeoutMs,
          'TLS handshake',
        );
        return `${secure.getProtocol()} negotiated (${mode})`;
      } finally {
        secure.destroy();
      }
    } finally {
      socket.destroy();
    }
  }

  classifyError(error: unknown): ClassifiedError {
    return classifyPostgresError(error);
  }

  async close(): Promise<void> {
    await this.pool.end().catch(() => undefined);
  }
}

const TLS_CODES = /^(ERR_TLS|ERR_SSL|DEPTH_ZERO|SELF_SIGNED|UNABLE_TO_|CERT_|NO_SSL|HOSTNAME_MISMATCH|ERR_TLS_CERT)/;

export function classifyPostgresError(error: unknown): ClassifiedError {
  if (error instanceof PhaseError) return classifyPostgresError(error.cause);
  const e = error as { code?: string; message?: string };
  const message = e?.message ?? String(error);
  const code = e?.code ?? '';
  const is = (stage: ClassifiedError['stage'], cause: string): ClassifiedError => ({ stage, cause, message });
  if (error instanceof TimeoutError || /timeout|timed out/i.test(message)) return is('timeout', 'Timeout');
  if (code === 'ENOTFOUND' || code === 'EAI_AGAIN') return is('dns', 'HostNotFound');
  if (code === 'ECONNREFUSED') return is('tcp', 'ConnectionRefused');
  if (code === 'EHOSTUNREACH' || code === 'ENETUNREACH') return is('tcp', 'HostUnreachable');
  if (code === 'ECONNRESET' || /Connection terminated/i.test(message)) return is('tcp', 'ConnectionReset');
  if (code === 'NO_SSL') return is('tls', 'TlsUnsupported');
  if (TLS_CODES.test(code) || /SSL|TLS|certificate/i.test(message)) return is('tls', 'TlsFailed');
  if (code === '28P01') return is('authentication', 'WrongPassword');
  if (code === '28000') return is('authentication', /pg_hba/.test(message) ? 'NoHbaEntry' : 'NotAuthorized');
  if (code === '53300') return is('authentication', 'TooManyConnections');
  if (code === '3D000') return is('database', 'DatabaseMissing');
  if (code === '57P03') return is('database', 'DatabaseStarting');
  if (code === '57014') return is('query', 'StatementTimeout');
  if (code === '25006') return is('query', 'WriteRefused');
  return is('query', 'QueryFailed');
}

export const createPostgresEngine = (config: ConnectionConfig, options?: { poolSize?: number }) =>
  new PostgresEngine(config, options);
