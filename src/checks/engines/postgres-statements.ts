import { randomBytes } from 'node:crypto';
import pg from 'pg';

/*
 * The text of every statement dbwatch sends to PostgreSQL. Each goes as ONE simple-protocol message that
 * is its own (implicit) transaction, so it works the same on a direct connection and through PgBouncer in
 * session, transaction or statement pooling: no startup parameters a pooler refuses, no session settings
 * (SET LOCAL ends with the message's transaction), no prepared statements, no DISCARD. A PgBouncer server
 * connection changes hands only between messages, so nothing here can leak to the next client.
 */

/**
 * Leads every message: names dbwatch — and the monitor, `/* dbwatch:<namespace>/<name>:<random> *\/` — in
 * pg_stat_activity and the server log, and finds an overrun statement's backend (the random part).
 */
export const markerOf = (id: string) => `/* dbwatch:${id} */`;
export const newMarker = (label?: string) => {
  const random = randomBytes(8).toString('hex');
  return markerOf(label ? `${safeLabel(label)}:${random}` : random);
};

/** Kubernetes names are DNS labels already; anything else (a file's name in `dbwatch check`) cannot end the comment. */
const safeLabel = (label: string) => label.replace(/[^A-Za-z0-9._/:-]/g, '_').slice(0, 200);

/** A SQL literal for a value dbwatch puts into its own statements (names of tables, schemas). */
export const literal = (value: string | null) => (value === null ? 'NULL' : pg.escapeLiteral(value));

const ceiling = (boundMs: number) => Math.max(1, Math.floor(boundMs));

/** Server-side limits of this message's transaction: the server ends the work even if dbwatch is gone. */
function limits(boundMs: number): string {
  const ms = ceiling(boundMs);
  return `SET LOCAL statement_timeout = ${ms}; SET LOCAL lock_timeout = ${ms}; SET TRANSACTION READ ONLY;`;
}

/** One of dbwatch's own read-only statements, guarded by server-side limits; its result is the last one. */
export function guarded(sql: string, boundMs: number, marker = newMarker()): string {
  return `${marker} ${limits(boundMs)}\n${sql}`;
}

/** The column that carries a test query's own duration, measured by the server around the statement. */
export const TEST_QUERY_MS = 'dbwatch_test_query_ms';

/**
 * A caller-supplied test query, already proven to be one statement (see `assertSingleStatement`): run
 * read-only under the limits, timed by the server around the statement alone, then followed in the same
 * transaction by statements that undo what a read-only statement can leave on a session once its
 * transaction commits: session settings (a role too: RESET ALL keeps it), LISTEN, holdable cursors, session
 * advisory locks and SQL-level prepared statements. A failing statement rolls the transaction back instead (the cleanup is skipped
 * with it; the caller then releases advisory locks itself).
 */
export function testQuery(sql: string, boundMs: number, marker = newMarker()): string {
  return `${marker} ${limits(boundMs)} SELECT set_config('dbwatch.started', clock_timestamp()::text, true);
${sql}
;SELECT (extract(epoch FROM clock_timestamp() - current_setting('dbwatch.started')::timestamptz) * 1000)::float8 AS ${TEST_QUERY_MS};
RESET ALL; RESET ROLE; RESET SESSION AUTHORIZATION; UNLISTEN *; CLOSE ALL; SELECT pg_advisory_unlock_all();
DO $dbwatch$
DECLARE prepared text;
BEGIN
  FOR prepared IN SELECT name FROM pg_prepared_statements WHERE from_sql AND prepare_time >= now() LOOP
    EXECUTE format('DEALLOCATE %I', prepared);
  END LOOP;
END $dbwatch$`;
}

/** After a test query failed: its transaction is rolled back, but session advisory locks it took are not. */
export const RELEASE_ADVISORY_LOCKS = `${markerOf('cleanup')} SELECT pg_advisory_unlock_all()`;

/** The duration the server measured, from the results of a `testQuery` message. */
export function testQueryMs(results: pg.QueryResult | pg.QueryResult[]): number {
  const all = Array.isArray(results) ? results : [results];
  const row = all.find((r) => r.fields?.some((f) => f.name === TEST_QUERY_MS))?.rows[0];
  const ms = Number(row?.[TEST_QUERY_MS]);
  if (!Number.isFinite(ms)) throw new Error('the test query returned no timing (was it cut short?)');
  return ms;
}

/** The rows of a `guarded` message: its last statement's. */
export function lastRows<R extends pg.QueryResultRow>(results: pg.QueryResult<R> | pg.QueryResult<R>[]): R[] {
  return (Array.isArray(results) ? results.at(-1)?.rows : results.rows) ?? [];
}

/** Ends the backend still running a marked statement, from another session of the same role. */
export const terminateMarkedSql = (marker: string) =>
  `${markerOf('cleanup')} SELECT pg_terminate_backend(pid) FROM pg_stat_activity
WHERE starts_with(query, ${literal(marker)}) AND pid <> pg_backend_pid()`;
