import { EventEmitter } from 'node:events';
import pg from 'pg';
import type { ConnectionConfig, TestQuerySession } from '../engine.js';
import { TimeoutError, withTimeout } from '../timeout.js';
import {
  newMarker,
  RELEASE_ADVISORY_LOCKS,
  terminateMarkedSql,
  testQuery,
  testQueryMs,
} from './postgres-statements.js';
import { installScramKeyCache } from './scram-key-cache.js';

/* Sessions to PostgreSQL (or a pooler in front of it) that own their failure paths: every client has an
   error listener, every close is bounded, and a statement the client gave up on is ended on the server. */

// Every login of this process reuses a role's SCRAM key instead of running PBKDF2 again (scram-key-cache.ts).
installScramKeyCache();

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
 * Startup parameters are only the ones PgBouncer passes by default (user, database, application_name):
 * no `options`, which PgBouncer refuses ("unsupported startup parameter: options"). The read-only mode
 * and the server-side limits travel with every statement instead (postgres-statements.ts).
 */
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
 * Ends the backend of a statement the client gave up on (one that ignored its statement_timeout, e.g. by
 * catching query_canceled, or whose answer never came). Found by the statement's marker, not by the
 * session's process ID: behind PgBouncer that ID is the pooler's, not the server's. A role may end its
 * own backends. Bounded, best effort.
 */
export async function terminateMarked(config: ConnectionConfig, marker: string): Promise<void> {
  const client = newClient(config, CLEANUP_MS);
  const attempt = (async () => {
    await client.connect();
    await client.query({ text: terminateMarkedSql(marker), query_timeout: CLEANUP_MS } as pg.QueryConfig);
  })();
  await withTimeout(attempt, CLEANUP_MS, 'ending an overrun statement').catch(ignore);
  await endClient(client);
}

/**
 * Parses a statement without running it (Parse + Sync): PostgreSQL refuses more than one statement in a
 * prepared statement, so "SELECT 1; COMMIT; DELETE …" never reaches the simple protocol that runs it.
 */
class ParseOnly extends EventEmitter implements pg.Submittable {
  constructor(readonly text: string) {
    super();
  }
  submit(connection: pg.Connection): void {
    const wire = connection as unknown as { parse(q: { text: string }): void; sync(): void };
    wire.parse({ text: this.text });
    wire.sync();
  }
  handleError(error: Error): void {
    this.emit('error', error);
  }
  handleReadyForQuery(): void {
    this.emit('end');
  }
}

export class MultipleStatementsError extends Error {
  readonly code = 'MULTIPLE_STATEMENTS';
  constructor() {
    super('a test query must be exactly one statement; this one holds several');
  }
}

async function assertSingleStatement(client: pg.Client, sql: string, timeoutMs: number): Promise<void> {
  const parse = new ParseOnly(sql);
  const done = new Promise<void>((ok, fail) => {
    parse.once('end', ok);
    parse.once('error', fail);
  });
  client.query(parse);
  try {
    await withTimeout(done, timeoutMs, 'parsing the test query');
  } catch (error) {
    const e = error as { code?: string; message?: string };
    if (e.code === '42601' && /multiple commands/.test(e.message ?? '')) throw new MultipleStatementsError();
    throw error;
  }
}

/**
 * A session of its own for test queries. Each query is proven to be one statement, then runs in one
 * message (postgres-statements.ts `testQuery`): read-only, under statement and lock timeouts, timed by the
 * server, followed by a cleanup of what it may have left on the session. That works directly and through
 * PgBouncer in every pooling mode. A query the client gives up on kills the session and ends its backend;
 * the next query opens a new session.
 */
export class PostgresTestSession implements TestQuerySession {
  private client: pg.Client | undefined;
  /** Texts already proven to be one statement on this session. */
  private readonly single = new Set<string>();

  constructor(
    client: pg.Client,
    private readonly config: ConnectionConfig,
    private readonly label?: string,
  ) {
    this.client = client;
  }

  async run(sql: string, timeoutMs: number): Promise<number> {
    const client = this.client ?? (await this.reopen(timeoutMs));
    const bound = Math.max(1, Math.floor(timeoutMs));
    const marker = newMarker(this.label);
    try {
      if (!this.single.has(sql)) {
        await assertSingleStatement(client, sql, bound);
        this.single.add(sql);
      }
      const results = await client.query({
        text: testQuery(sql, bound, marker),
        query_timeout: bound + 250,
      } as pg.QueryConfig);
      // A BEGIN (or START TRANSACTION) leaves the session in a transaction, which would pin a PgBouncer server
      // connection: the session goes (closing it ends the transaction), and the check says why.
      if (client.getTransactionStatus() !== 'I') {
        await this.close();
        throw Object.assign(
          new Error('the test query left a transaction open: a test query must not start or end transactions'),
          { code: '25001' },
        );
      }
      return testQueryMs(results as unknown as pg.QueryResult[]);
    } catch (error) {
      // A statement that ignored its own timeout, or a lost session: the session goes, its backend is ended.
      if (isOverrun(error) || isSessionLost(error)) {
        await this.kill(client, marker);
        throw error;
      }
      await client
        .query({ text: RELEASE_ADVISORY_LOCKS, query_timeout: CLEANUP_MS } as pg.QueryConfig)
        .catch(() => this.kill(client, marker));
      throw error;
    }
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

  private async kill(client: pg.Client, marker: string): Promise<void> {
    this.client = undefined;
    destroySocket(client);
    await terminateMarked(this.config, marker);
  }

  async close(): Promise<void> {
    const client = this.client;
    this.client = undefined;
    if (client) await endClient(client);
  }
}
