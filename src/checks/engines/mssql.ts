import net from 'node:net';
import sql from 'mssql';
import type { ServerConnections } from '../../api/index.js';
import {
  type ClassifiedError,
  type ConnectionConfig,
  type DatabaseEngine,
  type DatabaseInfo,
  type EngineOptions,
  PhaseError,
  type TableRef,
  type TestQuerySession,
} from '../engine.js';
import { withTimeout } from '../timeout.js';
import { classifyMssqlError } from './mssql-errors.js';
import {
  AZURE_SQL_DATABASE,
  bracket,
  DATABASE_INFO_SQL,
  databaseAccessSql,
  literal,
  SERVER_FACTS_SQL,
  type ServerFacts,
  serverConnectionsSql,
} from './mssql-queries.js';
import { boundedBatch, CANCEL_MS, closePool, ignore } from './mssql-requests.js';
import { MssqlTestSession } from './mssql-session.js';
import { isTdsResponse, preloginPacket, tdsPacketComplete } from './tds-prelogin.js';

export { classifyMssqlError };

const DEFAULT_POOL_SIZE = 2;
const MAX_ROWS = 10_000;

/** encrypt + trustServerCertificate from the spec's TLS mode (tedious cannot skip only the host-name check). */
export function poolConfig(
  config: ConnectionConfig,
  poolSize: number,
  database = config.database,
  idleTimeoutMs = 60_000,
): sql.config {
  const { mode, ca } = config.tls;
  return {
    server: config.host,
    ...(config.instance ? {} : { port: config.port }),
    database,
    user: config.username,
    password: config.password,
    connectionTimeout: config.connectTimeoutMs,
    requestTimeout: 120_000,
    options: {
      // Below our own wait for the acknowledgement, so a cancel that is not answered closes the connection.
      cancelTimeout: CANCEL_MS,
      encrypt: mode !== 'disable',
      trustServerCertificate: mode === 'require',
      appName: 'dbwatch',
      ...(config.instance ? { instanceName: config.instance } : {}),
      ...(ca ? { cryptoCredentialsDetails: { ca } } : {}),
    },
    pool: { max: poolSize, min: 0, idleTimeoutMillis: idleTimeoutMs },
    // We run our own test query; the default would send an extra SELECT 1 on every acquire.
    validateConnection: 'socket',
  } as sql.config;
}

export class MssqlEngine implements DatabaseEngine {
  readonly name = 'mssql' as const;
  private readonly pool: sql.ConnectionPool;
  private connecting: Promise<sql.ConnectionPool> | undefined;
  private facts: ServerFacts | undefined;
  private readonly size: number;

  constructor(
    private readonly config: ConnectionConfig,
    options: EngineOptions = {},
  ) {
    this.size = options.poolSize ?? DEFAULT_POOL_SIZE;
    this.pool = new sql.ConnectionPool(poolConfig(config, this.size, config.database, options.idleTimeoutMs));
    this.pool.on('error', () => undefined);
  }

  /** Connects the pool once; a failed connect is forgotten so the next check tries again. */
  private async connected(timeoutMs: number): Promise<sql.ConnectionPool> {
    if (this.pool.connected) return this.pool;
    this.connecting ??= this.pool.connect().finally(() => {
      this.connecting = undefined;
    });
    return withTimeout(this.connecting, timeoutMs + 500, 'connecting');
  }

  private batch<T>(request: sql.Request, text: string, timeoutMs: number): Promise<T[]> {
    return boundedBatch<T>(request, text, timeoutMs);
  }

  private async query<T>(text: string, timeoutMs: number): Promise<T[]> {
    const pool = await this.connected(timeoutMs);
    return this.batch<T>(pool.request(), text, timeoutMs);
  }

  async ping(timeoutMs: number): Promise<void> {
    const pool = await this.connected(timeoutMs).catch(async (e: unknown) => {
      // A failed login says only "Login failed": master tells a missing, offline or inaccessible database apart.
      throw new PhaseError('connect', await this.explainLoginFailure(e, timeoutMs));
    });
    try {
      await this.batch(pool.request(), 'SELECT 1 AS ok', timeoutMs);
    } catch (error) {
      // A dropped connection surfaces while acquiring: that is a connection failure, not a query one.
      const lost = error instanceof sql.ConnectionError || classifyMssqlError(error).cause === 'ConnectionLost';
      throw new PhaseError(lost ? 'connect' : 'query', error);
    }
  }

  async connectOnce(timeoutMs: number): Promise<void> {
    try {
      await this.openAndClose(this.config.database, timeoutMs);
    } catch (error) {
      throw await this.explainLoginFailure(error, timeoutMs);
    }
  }

  async freshLogin(timeoutMs: number): Promise<number> {
    const started = performance.now();
    try {
      await this.openAndClose(this.config.database, timeoutMs, async (pool) => {
        await this.batch(pool.request(), 'SELECT 1 AS ok', timeoutMs);
      });
    } catch (error) {
      throw await this.explainLoginFailure(error, timeoutMs);
    }
    return performance.now() - started;
  }

  private async openAndClose(
    database: string,
    timeoutMs: number,
    work?: (p: sql.ConnectionPool) => Promise<void>,
  ): Promise<void> {
    const pool = new sql.ConnectionPool({ ...poolConfig(this.config, 1, database), connectionTimeout: timeoutMs });
    pool.on('error', () => undefined);
    try {
      await withTimeout(pool.connect(), timeoutMs + 500, 'connecting');
      await work?.(pool);
    } finally {
      await closePool(pool);
    }
  }

  /**
   * SQL Server answers a login to an unavailable database with 4060 then 18456, and tedious keeps only
   * the last ("Login failed"). Logging in to master with the same credentials tells the two apart.
   */
  private async explainLoginFailure(error: unknown, timeoutMs: number): Promise<unknown> {
    if (classifyMssqlError(error).cause !== 'LoginFailed' || this.config.database.toLowerCase() === 'master')
      return error;
    let found: { has_access: number | null; state_desc: string | null } | undefined;
    try {
      await this.openAndClose('master', timeoutMs, async (pool) => {
        [found] = await this.batch(pool.request(), databaseAccessSql(this.config.database), timeoutMs);
      });
    } catch {
      return error;
    }
    const explained = explainDatabaseAccess(this.config.database, found?.has_access ?? null, found?.state_desc ?? null);
    return explained ? Object.assign(new Error(explained.message), { code: explained.code }) : error;
  }

  async openTestSession(timeoutMs: number): Promise<TestQuerySession> {
    const open = async (t: number) => {
      const pool = new sql.ConnectionPool({ ...poolConfig(this.config, 1), connectionTimeout: t });
      pool.on('error', ignore);
      try {
        await withTimeout(pool.connect(), t + 500, 'connecting');
      } catch (error) {
        await closePool(pool);
        throw error;
      }
      return pool;
    };
    return new MssqlTestSession(await open(timeoutMs), open);
  }

  /** Edition and version, read once per pool: they decide which permission and which views apply. */
  private async serverFacts(timeoutMs: number): Promise<ServerFacts> {
    if (this.facts) return this.facts;
    const [r] = await this.query<{ engine_edition: number; major_version: number; product_version: string }>(
      SERVER_FACTS_SQL,
      timeoutMs,
    );
    this.facts = {
      engineEdition: Number(r?.engine_edition ?? 0),
      majorVersion: Number(r?.major_version ?? 0),
      productVersion: r?.product_version ?? 'unknown',
    };
    return this.facts;
  }

  async serverConnections(timeoutMs: number): Promise<ServerConnections> {
    const facts = await this.serverFacts(timeoutMs);
    if (facts.engineEdition === AZURE_SQL_DATABASE) {
      throw new Error(
        'Azure SQL Database does not expose its connection limit (it depends on the service tier): utilization is not measured',
      );
    }
    const [r] = await this.query<{
      total: number;
      active: number | null;
      idle: number | null;
      idle_in_tx: number | null;
      configured: number | null;
      max_connections: number;
      sees_all: number | boolean | null;
    }>(serverConnectionsSql(facts), timeoutMs);
    if (!r) throw new Error('sys.dm_exec_sessions returned no row');
    // 0 means "unlimited", which is @@MAX_CONNECTIONS (32767).
    const maxUsable = r.configured ? r.configured : r.max_connections;
    const active = r.active ?? 0;
    const idle = r.idle ?? 0;
    const idleInTransaction = r.idle_in_tx ?? 0;
    return {
      active,
      idle,
      idleInTransaction,
      other: r.total - active - idle - idleInTransaction,
      total: r.total,
      maxUsable,
      utilizationPercent: maxUsable > 0 ? Math.round((r.total / maxUsable) * 10_000) / 100 : 0,
      visibility: r.sees_all === 1 || r.sees_all === true ? 'full' : 'partial',
    };
  }

  async databaseInfo(timeoutMs: number): Promise<DatabaseInfo> {
    const facts = await this.serverFacts(timeoutMs);
    const [r] = await this.query<{ state_desc: string; is_read_only: boolean | number; updateability: string | null }>(
      DATABASE_INFO_SQL,
      timeoutMs,
    );
    return {
      version: facts.productVersion,
      state: r?.state_desc ?? 'UNKNOWN',
      // is_read_only is 0 on readable AG secondaries and geo-replicas; Updateability says READ_ONLY there.
      readOnly: r?.is_read_only === true || r?.is_read_only === 1 || r?.updateability === 'READ_ONLY',
    };
  }

  poolStats() {
    return {
      size: this.size,
      checkedOut: this.pool.borrowed ?? 0,
      idle: this.pool.available ?? 0,
      waiting: this.pool.pending ?? 0,
    };
  }

  async tableExists(ref: TableRef, timeoutMs: number): Promise<boolean> {
    const schema = ref.schema ? literal(ref.schema) : 'SCHEMA_NAME()';
    const rows = await this.query(
      `SELECT 1 AS found FROM INFORMATION_SCHEMA.TABLES WHERE TABLE_NAME = ${literal(ref.table)} AND TABLE_SCHEMA = ${schema}`,
      timeoutMs,
    );
    return rows.length > 0;
  }

  async selectColumns(ref: TableRef, columns: string[], timeoutMs: number) {
    const table = [ref.schema, ref.table]
      .filter((p): p is string => p !== undefined)
      .map(bracket)
      .join('.');
    return this.query<Record<string, unknown>>(
      `SELECT TOP (${MAX_ROWS}) ${columns.map(bracket).join(', ')} FROM ${table}`,
      timeoutMs,
    );
  }

  /** Sends a PRELOGIN and reads the server's ENCRYPTION answer; tedious does the TLS handshake at login. */
  async probeTls(timeoutMs: number): Promise<string> {
    const answer = await preloginEncryption(this.config.host, this.config.port, timeoutMs);
    const mode = this.config.tls.mode;
    if (mode === 'disable') {
      if (answer === 'REQ') throw Object.assign(new Error('the server requires encryption'), { code: 'TLS_REQUIRED' });
      return `encryption disabled by the spec (server: ${answer})`;
    }
    if (answer === 'NOT_SUP')
      throw Object.assign(new Error('the server does not support encryption'), { code: 'NO_SSL' });
    return `server offers encryption (${answer}); certificate ${mode === 'require' ? 'trusted as is' : 'verified'} at login`;
  }

  classifyError(error: unknown): ClassifiedError {
    return classifyMssqlError(error);
  }

  async close(): Promise<void> {
    await closePool(this.pool);
  }
}

const ENCRYPTION = ['OFF', 'ON', 'NOT_SUP', 'REQ'];
const CLOSED = { code: 'ECONNRESET' };
const NOT_TDS = { code: 'NOT_TDS' };

async function preloginEncryption(host: string, port: number, timeoutMs: number): Promise<string> {
  const socket = net.connect({ host, port });
  try {
    const response = await withTimeout(
      new Promise<Buffer>((ok, fail) => {
        let data = Buffer.alloc(0);
        socket.on('error', fail);
        socket.once('connect', () => socket.write(preloginPacket()));
        // A server that is not SQL Server may close at once: say so instead of waiting for the timeout.
        socket.once('close', () =>
          fail(Object.assign(new Error('the server closed the connection without answering PRELOGIN'), CLOSED)),
        );
        socket.on('data', (chunk) => {
          data = Buffer.concat([data, chunk]);
          if (data.length >= 8 && !isTdsResponse(data))
            fail(Object.assign(new Error('the server answered PRELOGIN with something that is not TDS'), NOT_TDS));
          else if (tdsPacketComplete(data)) ok(data.subarray(8, data.readUInt16BE(2)));
        });
      }),
      timeoutMs,
      'PRELOGIN',
    );
    for (let i = 0; response[i] !== 0xff && i + 4 < response.length; i += 5) {
      if (response[i] === 0x01) return ENCRYPTION[response[response.readUInt16BE(i + 1)]!] ?? 'UNKNOWN';
    }
    return 'UNKNOWN';
  } finally {
    socket.destroy();
  }
}

/** What master can tell about a database a login could not open; undefined when it cannot tell more. */
export function explainDatabaseAccess(
  database: string,
  hasAccess: number | null,
  state: string | null,
): { code: string; message: string } | undefined {
  const on = 'Login succeeded on master, but database';
  if (state !== null && state !== 'ONLINE') {
    return { code: 'DB_UNAVAILABLE', message: `${on} ${database} is ${state} (sys.databases.state_desc)` };
  }
  if (hasAccess === null) {
    return {
      code: 'DB_MISSING',
      message: `${on} ${database} does not exist (HAS_DBACCESS is NULL for names that do not exist)`,
    };
  }
  if (hasAccess === 0 && state === 'ONLINE') {
    return {
      code: 'DB_NO_ACCESS',
      message: `${on} ${database} is ONLINE and this login has no access to it: create a user for the login there (or it is in single-user mode)`,
    };
  }
  if (hasAccess === 0) {
    return {
      code: 'DB_UNAVAILABLE',
      message: `${on} ${database} cannot be opened and is not visible to this login in sys.databases: it is OFFLINE, suspect or in single-user mode, or the login has no user there (grant VIEW ANY DATABASE to see which)`,
    };
  }
  return undefined;
}

export const createMssqlEngine = (config: ConnectionConfig, options?: EngineOptions) =>
  new MssqlEngine(config, options);
