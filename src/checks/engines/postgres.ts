import net from 'node:net';
import tls from 'node:tls';
import pg from 'pg';
import type { ServerConnections } from '../../api/index.js';
import {
  type ClassifiedError,
  type ConnectionConfig,
  type DatabaseEngine,
  type EngineOptions,
  PhaseError,
  type TableRef,
  type TestQuerySession,
} from '../engine.js';
import { withTimeout } from '../timeout.js';
import { classifyPoolerError } from './pooler-errors.js';
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
  sslOptions,
  terminateMarked,
} from './postgres-session.js';
import { guarded, lastRows, literal, newMarker } from './postgres-statements.js';

const DEFAULT_POOL_SIZE = 2;
const DEFAULT_IDLE_MS = 60_000;
const MAX_ROWS = 10_000;

// Client backends by state, against the connections a non-superuser can have. Without pg_read_all_stats
// other roles' sessions show neither state nor backend_type (both NULL) but keep their database and role:
// they still count, as hidden. (A parallel worker of another role's query looks the same while it runs.)
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
WHERE backend_type = 'client backend'
   OR (backend_type IS NULL AND datid IS NOT NULL AND usesysid IS NOT NULL)`;

const tableExistsSql = (ref: TableRef) => `
SELECT 1 FROM information_schema.tables
WHERE table_name = ${literal(ref.table)} AND table_schema = coalesce(${literal(ref.schema ?? null)}, current_schema())`;

export class PostgresEngine implements DatabaseEngine {
  readonly name = 'postgres' as const;
  private readonly pool: pg.Pool;
  private readonly size: number;
  /** Whose statements these are, in their marker (the monitor's namespace/name). */
  private readonly label: string | undefined;

  constructor(
    private readonly config: ConnectionConfig,
    options: EngineOptions = {},
  ) {
    this.size = options.poolSize ?? DEFAULT_POOL_SIZE;
    this.label = options.label;
    this.pool = new pg.Pool({
      ...clientConfig(config),
      max: this.size,
      idleTimeoutMillis: options.idleTimeoutMs ?? DEFAULT_IDLE_MS,
    });
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
   * Runs one guarded statement (postgres-statements.ts) on a pooled session and returns its rows. Any
   * failure discards the session; a statement the client gave up on is also ended on the server, so no
   * dbwatch backend keeps running or waiting there.
   */
  private async run<R extends pg.QueryResultRow>(what: string, sql: string, timeoutMs: number): Promise<R[]> {
    const client = await this.acquire(timeoutMs, what);
    const marker = newMarker(this.label);
    try {
      const results = await client.query<R>({
        text: guarded(sql, timeoutMs, marker),
        query_timeout: Math.max(1, timeoutMs),
      } as pg.QueryConfig);
      client.release();
      return lastRows(results as unknown as pg.QueryResult<R>[]);
    } catch (error) {
      client.release(error instanceof Error ? error : new Error(String(error)));
      if (isOverrun(error)) await terminateMarked(this.config, marker);
      throw error;
    }
  }

  async ping(timeoutMs: number): Promise<void> {
    let acquired = false;
    try {
      const client = await this.acquire(timeoutMs, 'test query');
      acquired = true;
      const marker = newMarker(this.label);
      try {
        await client.query({
          text: guarded('SELECT 1', timeoutMs, marker),
          query_timeout: Math.max(1, timeoutMs),
        } as pg.QueryConfig);
        client.release();
      } catch (error) {
        client.release(error instanceof Error ? error : new Error(String(error)));
        if (isOverrun(error)) await terminateMarked(this.config, marker);
        throw new PhaseError(isSessionLost(error) ? 'connect' : 'query', error);
      }
    } catch (error) {
      if (error instanceof PhaseError) throw error;
      throw new PhaseError(acquired ? 'query' : 'connect', error);
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

  async freshLogin(timeoutMs: number): Promise<number> {
    const started = performance.now();
    const client = newClient(this.config, timeoutMs);
    try {
      await withTimeout(client.connect(), timeoutMs + 100, 'logging in');
      const left = Math.max(1, timeoutMs - (performance.now() - started));
      await client.query({
        text: guarded('SELECT 1', left, newMarker(this.label)),
        query_timeout: left,
      } as pg.QueryConfig);
      return performance.now() - started;
    } catch (error) {
      throw await this.explainLoginFailure(error, timeoutMs);
    } finally {
      await endClient(client);
    }
  }

  /**
   * PostgreSQL answers a login with an expired password (VALID UNTIL) exactly as a wrong password (28P01), to
   * the client; the role's own row in pg_roles, read on the warm session, tells the two apart.
   */
  private async explainLoginFailure(error: unknown, timeoutMs: number): Promise<unknown> {
    if ((error as { code?: string })?.code !== '28P01' || this.pool.totalCount === 0) return error;
    const rows = await this.run<{ valid_until: string | null }>(
      'reading the role',
      'SELECT rolvaliduntil::text AS valid_until FROM pg_roles WHERE rolname = current_user AND rolvaliduntil < now()',
      Math.min(timeoutMs, CLEANUP_MS),
    ).catch(() => []);
    const expired = rows[0]?.valid_until;
    if (!expired) return error;
    return Object.assign(new Error(`the role's password expired at ${expired} (VALID UNTIL)`), {
      code: 'ROLE_EXPIRED',
    });
  }

  async openTestSession(timeoutMs: number): Promise<TestQuerySession> {
    const client = newClient(this.config, timeoutMs);
    try {
      await withTimeout(client.connect(), timeoutMs + 100, 'connecting');
    } catch (error) {
      await endClient(client);
      throw error;
    }
    return new PostgresTestSession(client, this.config, this.label);
  }
  async serverConnections(timeoutMs: number): Promise<ServerConnections> {
    const rows = await this.run<{
      active: number;
      idle: number;
      idle_in_tx: number;
      hidden: number;
      total: number;
      max_usable: number;
      sees_all: boolean;
    }>('reading pg_stat_activity', SERVER_CONNECTIONS_SQL, timeoutMs);
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
    const rows = await this.run<{ version: string; in_recovery: boolean }>(
      'reading the server version',
      "SELECT current_setting('server_version') AS version, pg_is_in_recovery() AS in_recovery",
      timeoutMs,
    );
    // A standby in recovery is read-only; the database is open either way once we are connected.
    return { version: rows[0]!.version, state: 'ONLINE', readOnly: rows[0]!.in_recovery };
  }

  async tableExists(ref: TableRef, timeoutMs: number): Promise<boolean> {
    return (await this.run('looking up the table', tableExistsSql(ref), timeoutMs)).length > 0;
  }

  async selectColumns(ref: TableRef, columns: string[], timeoutMs: number) {
    const table = [ref.schema, ref.table]
      .filter((p): p is string => p !== undefined)
      .map(pg.escapeIdentifier)
      .join('.');
    const sql = `SELECT ${columns.map(pg.escapeIdentifier).join(', ')} FROM ${table} LIMIT ${MAX_ROWS}`;
    return this.run<Record<string, unknown>>(`reading ${table}`, sql, timeoutMs);
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
  const pooler = classifyPoolerError(error);
  if (pooler) return pooler;
  const e = error as { code?: string; message?: string };
  const message = e?.message ?? String(error);
  const code = e?.code ?? '';
  const is = (stage: ClassifiedError['stage'], cause: string): ClassifiedError => ({ stage, cause, message });
  if (code === 'MULTIPLE_STATEMENTS') return is('query', 'MultipleStatements');
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
  if (code === 'ROLE_EXPIRED') return is('authentication', 'RoleExpired');
  if (code === '28P01') return is('authentication', 'WrongPassword');
  if (code === '28000' && /no pg_hba\.conf entry/.test(message)) return is('authentication', 'NoHbaEntry');
  if (code === '28000' && /pg_hba\.conf rejects/.test(message)) return is('authentication', 'HbaRejected');
  if (code === '28000') return is('authentication', 'NotAuthorized');
  if (code === '53300' && /too many connections for role/.test(message))
    return is('authentication', 'RoleConnectionLimit');
  if (code === '53300') return is('authentication', 'TooManyConnections');
  if (code === '3D000') return is('database', 'DatabaseMissing');
  if (code === '42501' && /permission denied for database/i.test(message)) return is('database', 'NoConnectPrivilege');
  if (code === '42501') return is('query', 'PermissionDenied');
  if (code === '25006') return is('query', 'WriteRefused');
  return is('query', 'QueryFailed');
}

export const createPostgresEngine = (config: ConnectionConfig, options?: EngineOptions) =>
  new PostgresEngine(config, options);
