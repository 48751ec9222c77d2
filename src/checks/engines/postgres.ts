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
  type TestQuerySession,
} from '../engine.js';
import { withTimeout } from '../timeout.js';
import {
  CLEANUP_MS,
  clientConfig,
  destroySocket,
  endClient,
  ignore,
  isOverrun,
  isSessionLost,
  newClient,
  PostgresTestSession,
  processId,
  sslOptions,
} from './postgres-session.js';

const DEFAULT_POOL_SIZE = 2;
const MAX_ROWS = 10_000;

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
    this.pool.on('error', ignore);
    // A checked-out client has no pool listener: without one of ours, a backend terminated mid-check
    // (pg_terminate_backend, a restart, a failover) would be an unhandled 'error' event and end the process.
    this.pool.on('connect', (client) => client.on('error', ignore));
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

  /**
   * Runs work on a pooled session. Any failure discards the session; a statement the client gave up on
   * is also ended on the server, so no dbwatch backend keeps running or waiting there.
   */
  private async withClient<T>(timeoutMs: number, what: string, work: (c: pg.PoolClient) => Promise<T>): Promise<T> {
    const client = await this.acquire(timeoutMs, what);
    let result: T;
    try {
      result = await work(client);
    } catch (error) {
      const pid = processId(client);
      client.release(error instanceof Error ? error : new Error(String(error)));
      if (isOverrun(error)) await this.terminateBackend(pid);
      throw error;
    }
    client.release();
    return result;
  }

  /** Ends a backend from a separate session (a role may end its own backends); bounded, best effort. */
  private async terminateBackend(pid: number | undefined): Promise<void> {
    if (pid === undefined) return;
    const client = newClient(this.config, CLEANUP_MS);
    const attempt = (async () => {
      await client.connect();
      await client.query({
        text: 'SELECT pg_terminate_backend($1)',
        values: [pid],
        query_timeout: CLEANUP_MS,
      } as pg.QueryConfig);
    })();
    await withTimeout(attempt, CLEANUP_MS, 'ending an overrun statement').catch(ignore);
    await endClient(client);
  }

  private query<R extends pg.QueryResultRow>(
    client: pg.ClientBase,
    text: string,
    values: unknown[],
    timeoutMs: number,
    extended = false,
  ) {
    const config = {
      text,
      values,
      query_timeout: Math.max(1, timeoutMs),
      ...(extended ? { queryMode: 'extended' } : {}),
    };
    return client.query<R>(config as pg.QueryConfig);
  }

  async ping(timeoutMs: number): Promise<void> {
    let lost = false;
    try {
      await this.withClient(timeoutMs, 'test query', async (c) => {
        try {
          await this.query(c, 'SELECT 1', [], timeoutMs);
        } catch (error) {
          lost = isSessionLost(error);
          throw new PhaseError(lost ? 'connect' : 'query', error);
        }
      });
    } catch (error) {
      if (error instanceof PhaseError) throw error;
      throw new PhaseError('connect', error);
    }
  }

  async connectOnce(timeoutMs: number): Promise<void> {
    const client = newClient(this.config, timeoutMs);
    try {
      await withTimeout(client.connect(), timeoutMs + 100, 'connecting');
    } finally {
      await endClient(client);
    }
  }

  async openTestSession(timeoutMs: number): Promise<TestQuerySession> {
    const client = newClient(this.config, timeoutMs);
    try {
      await withTimeout(client.connect(), timeoutMs + 100, 'connecting');
    } catch (error) {
      await endClient(client);
      throw error;
    }
    return new PostgresTestSession(client, this.config, (pid) => this.terminateBackend(pid));
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
    // One listener for the socket's whole life: a second error after a step settled must not go unhandled.
    let failed: (e: Error) => void = ignore;
    const closedDuringTls = () =>
      failed(
        Object.assign(new Error('the server closed the connection during TLS negotiation'), { code: 'TLS_CLOSED' }),
      );
    socket.on('error', (e) => failed(e));
    try {
      await withTimeout(
        new Promise((ok, fail) => {
          failed = fail;
          socket.once('connect', ok);
        }),
        timeoutMs,
        'TCP',
      );
      socket.once('close', closedDuringTls);
      const answer = await withTimeout(
        new Promise<string>((ok, fail) => {
          failed = fail;
          socket.once('data', (b) => ok(b.subarray(0, 1).toString()));
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
      secure.on('error', (e) => failed(e));
      try {
        await withTimeout(
          new Promise((ok, fail) => {
            failed = fail;
            secure.once('secureConnect', ok);
          }),
          timeoutMs,
          'TLS handshake',
        );
        return `${secure.getProtocol()} negotiated (${mode})`;
      } finally {
        secure.destroy();
      }
    } finally {
      failed = ignore;
      socket.destroy();
    }
  }

  classifyError(error: unknown): ClassifiedError {
    return classifyPostgresError(error);
  }

  async close(): Promise<void> {
    // pool.end() waits for every session to say goodbye; a hung server must not hold the caller.
    await withTimeout(this.pool.end(), CLEANUP_MS, 'closing the pool').catch(() => {
      for (const client of (this.pool as unknown as { _clients?: pg.Client[] })._clients ?? []) destroySocket(client);
    });
  }
}

const TLS_CODES = /^(ERR_TLS|ERR_SSL|DEPTH_ZERO|SELF_SIGNED|UNABLE_TO_|CERT_|NO_SSL|HOSTNAME_MISMATCH|ERR_TLS_CERT)/;

export function classifyPostgresError(error: unknown): ClassifiedError {
  if (error instanceof PhaseError) return classifyPostgresError(error.cause);
  const e = error as { code?: string; message?: string };
  const message = e?.message ?? String(error);
  const code = e?.code ?? '';
  const is = (stage: ClassifiedError['stage'], cause: string): ClassifiedError => ({ stage, cause, message });
  if (code === '57014') return is('query', 'StatementTimeout');
  if (code === '55P03') return is('query', 'LockTimeout');
  if (code === '25P03') return is('query', 'IdleInTransactionTimeout');
  if (code === '57P03')
    return is('database', /shutting down/i.test(message) ? 'DatabaseShuttingDown' : 'DatabaseStarting');
  // pg's own connect timeout (client "timeout expired", pool "…due to connection timeout"): the server never
  // answered, which is not a session lost after connecting.
  if (/^timeout expired$|due to connection timeout/i.test(message)) return is('timeout', 'ConnectTimeout');
  // The session died under a check: terminated backend, restart, failover, network cut.
  if (isSessionLost(error)) return is('tcp', 'ConnectionLost');
  if (isOverrun(error) || /timeout|timed out/i.test(message)) return is('timeout', 'Timeout');
  if (code === 'ENOTFOUND' || code === 'EAI_AGAIN') return is('dns', 'HostNotFound');
  if (code === 'ECONNREFUSED') return is('tcp', 'ConnectionRefused');
  if (code === 'EHOSTUNREACH' || code === 'ENETUNREACH') return is('tcp', 'HostUnreachable');
  if (code === 'NO_SSL') return is('tls', 'TlsUnsupported');
  if (code === 'TLS_CLOSED') return is('tls', 'TlsClosedByServer');
  if (TLS_CODES.test(code) || /SSL|TLS|certificate/i.test(message)) return is('tls', 'TlsFailed');
  if (code === '28P01') return is('authentication', 'WrongPassword');
  if (code === '28000') return is('authentication', /pg_hba/.test(message) ? 'NoHbaEntry' : 'NotAuthorized');
  if (code === '53300') return is('authentication', 'TooManyConnections');
  if (code === '3D000') return is('database', 'DatabaseMissing');
  if (code === '42501' && /permission denied for database/i.test(message)) return is('database', 'NoConnectPrivilege');
  if (code === '42501') return is('query', 'PermissionDenied');
  if (code === '25006') return is('query', 'WriteRefused');
  return is('query', 'QueryFailed');
}

export const createPostgresEngine = (config: ConnectionConfig, options?: { poolSize?: number }) =>
  new PostgresEngine(config, options);
