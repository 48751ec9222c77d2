import pg from 'pg';
import type { ConnectionConfig, TestQuerySession } from '../engine.js';
import { TimeoutError, withTimeout } from '../timeout.js';

/* Sessions to PostgreSQL that own their failure paths: every client has an error listener, every close is
   bounded, and a statement the client gave up on is ended on the server. */

/** How long killing an overrun statement's backend may take. */
export const CLEANUP_MS = 1000;
export const ignore = () => undefined;

/** pg's TLS options for a spec's mode; verify-ca checks the chain but not the host name. */
export function sslOptions(config: ConnectionConfig): pg.ClientConfig['ssl'] {
  const { mode, ca } = config.tls;
  if (mode === 'disable') return false;
  return {
    rejectUnauthorized: mode !== 'require',
    ...(ca ? { ca } : {}),
    ...(mode === 'verify-ca' ? { checkServerIdentity: () => undefined } : {}),
  };
}

/**
 * Startup settings of every dbwatch session: read-only, and server-side ceilings so that nothing
 * dbwatch sends can run, wait for a lock, or hold a transaction open longer than the check's budget,
 * even if dbwatch itself is gone.
 */
function sessionOptions(config: ConnectionConfig): string {
  const settings = ['default_transaction_read_only=on'];
  const ms = config.serverTimeoutMs;
  if (ms !== undefined) {
    for (const name of ['statement_timeout', 'lock_timeout', 'idle_in_transaction_session_timeout'])
      settings.push(`${name}=${Math.max(1, Math.floor(ms))}`);
  }
  return settings.map((s) => `-c ${s}`).join(' ');
}

export function clientConfig(config: ConnectionConfig): pg.ClientConfig {
  return {
    host: config.host,
    port: config.port,
    database: config.database,
    user: config.username,
    password: config.password,
    ssl: sslOptions(config),
    connectionTimeoutMillis: config.connectTimeoutMs,
    application_name: 'dbwatch',
    // Every session starts read-only: a check can never write through this session, whatever SQL it is given.
    options: sessionOptions(config),
    keepAlive: true,
  };
}

/** A fresh client that owns its error path: a server that dies under it rejects the pending call instead. */
export function newClient(config: ConnectionConfig, connectTimeoutMs: number): pg.Client {
  const client = new pg.Client({ ...clientConfig(config), connectionTimeoutMillis: connectTimeoutMs });
  client.on('error', ignore);
  return client;
}

/** Ends a client within CLEANUP_MS; a server that does not answer gets its socket destroyed. */
export async function endClient(client: pg.Client): Promise<void> {
  await withTimeout(client.end(), CLEANUP_MS, 'closing the session').catch(() => destroySocket(client));
}

export function destroySocket(client: pg.Client): void {
  (client as unknown as { connection?: { stream?: { destroy(): void } } }).connection?.stream?.destroy();
}

export const processId = (client: pg.Client) => (client as unknown as { processID?: number }).processID;

/** SQLSTATEs and driver errors that mean the session itself is gone, not that a statement failed. */
const SESSION_LOST_CODES = new Set(['57P01', '57P02', '08003', '08006', 'ECONNRESET', 'EPIPE']);

export function isSessionLost(error: unknown): boolean {
  const e = error as { code?: string; message?: string } | undefined;
  // pg says "…is not queryable" when a client whose connection already failed is used again.
  return (
    SESSION_LOST_CODES.has(e?.code ?? '') ||
    /Connection terminated|encountered a connection error and is not queryable/i.test(e?.message ?? '')
  );
}

/** The client gave up on a statement the server may still be running. */
export const isOverrun = (error: unknown) =>
  error instanceof TimeoutError || (error instanceof Error && error.message === 'Query read timeout');

/**
 * A session of its own for test queries. Each query runs in BEGIN READ ONLY ... ROLLBACK with its own
 * statement and lock timeouts, then DISCARD ALL drops what a query may have left on the session
 * (session advisory locks, prepared statements, cursors, LISTEN, settings). A query the client gives
 * up on kills the session (and its backend); the next query opens a new one.
 */
export class PostgresTestSession implements TestQuerySession {
  private client: pg.Client | undefined;

  constructor(
    client: pg.Client,
    private readonly config: ConnectionConfig,
    private readonly terminate: (pid: number | undefined) => Promise<void>,
  ) {
    this.client = client;
  }

  async run(sql: string, timeoutMs: number): Promise<number> {
    const client = this.client ?? (await this.reopen(timeoutMs));
    const bound = Math.max(1, Math.floor(timeoutMs));
    const step = (text: string, clientBoundMs: number, extended = false) =>
      client.query({
        text,
        query_timeout: clientBoundMs,
        ...(extended ? { queryMode: 'extended' } : {}),
      } as pg.QueryConfig);
    try {
      await step('BEGIN READ ONLY', CLEANUP_MS);
      await step(`SET LOCAL statement_timeout = ${bound}; SET LOCAL lock_timeout = ${bound}`, CLEANUP_MS);
    } catch (error) {
      await this.kill(client);
      throw error;
    }
    const started = performance.now();
    let failure: unknown;
    try {
      // Extended protocol: one statement only, so "SELECT 1; COMMIT; DELETE ..." is refused.
      await step(sql, bound + 250, true);
    } catch (error) {
      failure = error;
    }
    const ms = performance.now() - started;
    // A statement that ignored its own timeout (e.g. one that catches query_canceled) or a lost
    // session: no ROLLBACK can be trusted to finish, so the session goes and its backend is ended.
    if (failure !== undefined && (isOverrun(failure) || isSessionLost(failure))) {
      await this.kill(client);
      throw failure;
    }
    try {
      await step('ROLLBACK', CLEANUP_MS);
      await step('DISCARD ALL', CLEANUP_MS);
    } catch (error) {
      await this.kill(client);
      throw failure ?? error;
    }
    if (failure !== undefined) throw failure;
    return ms;
  }

  private async reopen(timeoutMs: number): Promise<pg.Client> {
    const client = newClient(this.config, timeoutMs);
    try {
      await withTimeout(client.connect(), timeoutMs + 100, 'connecting');
    } catch (error) {
      await endClient(client);
      throw error;
    }
    this.client = client;
    return client;
  }

  private async kill(client: pg.Client): Promise<void> {
    this.client = undefined;
    const pid = processId(client);
    destroySocket(client);
    await this.terminate(pid);
  }

  async close(): Promise<void> {
    const client = this.client;
    this.client = undefined;
    if (client) await endClient(client);
  }
}
