import type { ClassifiedError } from '../engine.js';

/*
 * Errors from a connection pooler in front of PostgreSQL (PgBouncer; Odyssey and PgCat answer alike).
 * PgBouncer sends its own errors, and the server's login errors it relays, as SQLSTATE 08P01 with only a
 * severity, code and message; PostgreSQL's own errors always name the source file, line and routine. That
 * difference tells "the pooler said no" apart from "the database said no", so a pooler's refusal is never
 * blamed on the login or the database.
 */

interface WireError {
  code?: string;
  message?: string;
  severity?: string;
  routine?: string;
  file?: string;
}

export function isPoolerError(error: unknown): boolean {
  const e = error as WireError | undefined;
  return e?.code === '08P01' && e.severity !== undefined && e.routine === undefined && e.file === undefined;
}

/** PgBouncer's messages (src/client.c, objects.c, janitor.c of PgBouncer 1.18–1.24) → cause. */
const CAUSES: [RegExp, ClassifiedError['stage'], string][] = [
  [/unsupported (startup parameter|options startup parameter)/i, 'authentication', 'PoolerRefusedParameter'],
  [
    /no more connections allowed \(max_client_conn\)|client connections exceeded/i,
    'authentication',
    'PoolerClientLimit',
  ],
  [/^SSL required/i, 'tls', 'TlsRequired'],
  [/^no such database/i, 'database', 'PoolerNoSuchDatabase'],
  [/^database ".*" is disabled/i, 'database', 'PoolerDatabaseDisabled'],
  [
    /server login has been failing|cannot connect to server|client_login_timeout \(server down\)/i,
    'database',
    'PoolerServerUnavailable',
  ],
  [
    /password authentication failed|SASL authentication failed|no such user|login rejected|authentication failed/i,
    'authentication',
    'PoolerLoginRejected',
  ],
  [/^database ".*" does not exist/i, 'database', 'DatabaseMissing'],
  [/query_wait_timeout/i, 'query', 'PoolerQueryWaitTimeout'],
  [/query_timeout/i, 'query', 'PoolerQueryTimeout'],
  [/not allowed in statement pooling mode|long transactions not allowed/i, 'query', 'PoolerStatementMode'],
  [/pause failed|suspend_timeout|pooler is shutting down|server shutting down/i, 'database', 'PoolerPaused'],
];

/** A pooler's error as a cause, or undefined when the error did not come from a pooler. */
export function classifyPoolerError(error: unknown): ClassifiedError | undefined {
  if (!isPoolerError(error)) return undefined;
  const message = (error as WireError).message ?? '';
  for (const [pattern, stage, cause] of CAUSES) {
    if (pattern.test(message)) return { stage, cause, message: `the pooler (PgBouncer) refused: ${message}` };
  }
  return { stage: 'database', cause: 'PoolerError', message: `the pooler (PgBouncer) refused: ${message}` };
}
