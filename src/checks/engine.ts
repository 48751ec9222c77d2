import type { EngineName, ServerConnections } from '../api/index.js';

export type TlsMode = 'disable' | 'require' | 'verify-ca' | 'verify-full';

/** Everything an engine needs to connect: resolved from the spec and its Secret, never logged. */
export interface ConnectionConfig {
  engine: EngineName;
  host: string;
  port: number;
  database: string;
  username: string;
  password: string;
  /** SQL Server named instance. */
  instance?: string;
  tls: { mode: TlsMode; ca?: string };
  connectTimeoutMs: number;
}

export interface ClientPoolStats {
  size: number;
  checkedOut: number;
  idle: number;
  waiting: number;
}

/** Where a failure happened, in the order connectivity diagnostics walk the stages. */
export type FailureStage = 'dns' | 'tcp' | 'tls' | 'authentication' | 'database' | 'query' | 'timeout';

export interface ClassifiedError {
  stage: FailureStage;
  /** Short machine-readable cause, e.g. WrongPassword, NoHbaEntry, DatabaseMissing. */
  cause: string;
  message: string;
}

export interface DatabaseInfo {
  version: string;
  /** ONLINE, or the engine's word for why not (SQL Server state_desc: OFFLINE, RESTORING, ...). */
  state: string;
  readOnly: boolean;
}

export interface TableRef {
  schema?: string;
  table: string;
}

/**
 * One implementation per database engine; all driver I/O lives behind this. Methods throw the
 * driver's errors — the checks catch them, classify them with `classifyError` and turn them into results.
 */
export interface DatabaseEngine {
  readonly name: EngineName;
  /** Takes a pooled connection and runs the engine's cheapest query. */
  ping(timeoutMs: number): Promise<void>;
  /** Opens and closes one unpooled connection (connect + authenticate). */
  connectOnce(timeoutMs: number): Promise<void>;
  /**
   * What an application does when it starts: a new connection (connect, authenticate), the engine's cheapest
   * query, close. Resolves to the milliseconds it took; a failure names why logins fail (too many
   * connections, role expired, rejected by pg_hba.conf, ...), which a warm pooled session cannot see.
   */
  freshLogin(timeoutMs: number): Promise<number>;
  /**
   * Opens a session of its own for caller-supplied test queries: each runs read-only in a transaction
   * that is rolled back, and the session is reset after each and closed at the end, so nothing a test
   * query takes (locks, prepared statements, settings) outlives it.
   */
  openTestSession(timeoutMs: number): Promise<TestQuerySession>;
  serverConnections(timeoutMs: number): Promise<ServerConnections>;
  poolStats(): ClientPoolStats;
  databaseInfo(timeoutMs: number): Promise<DatabaseInfo>;
  tableExists(ref: TableRef, timeoutMs: number): Promise<boolean>;
  selectColumns(ref: TableRef, columns: string[], timeoutMs: number): Promise<Record<string, unknown>[]>;
  /** Negotiates TLS on an open TCP socket the way the driver would; resolves to a description. */
  probeTls(timeoutMs: number): Promise<string>;
  classifyError(error: unknown): ClassifiedError;
  close(): Promise<void>;
}

export interface TestQuerySession {
  /** Runs one test query; resolves to the statement's own duration in ms. */
  run(sql: string, timeoutMs: number): Promise<number>;
  /** Closes the session (bounded); never throws. */
  close(): Promise<void>;
}

export interface EngineOptions {
  poolSize?: number;
  /** Whose checks these are (namespace/name): PostgreSQL statements carry it in their marker comment. */
  label?: string;
  /** How long an idle pooled session is kept (default 60 s): Reuse keeps it from one check to the next. */
  idleTimeoutMs?: number;
}

export type EngineFactory = (config: ConnectionConfig, options?: EngineOptions) => DatabaseEngine;

/** Marks whether a ping failed while getting a connection or while running the query. */
export class PhaseError extends Error {
  constructor(
    readonly phase: 'connect' | 'query',
    override readonly cause: unknown,
  ) {
    super(cause instanceof Error ? cause.message : String(cause));
    this.name = 'PhaseError';
  }
}
