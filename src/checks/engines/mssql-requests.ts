import type sql from 'mssql';
import { TimeoutError, withTimeout } from '../timeout.js';

/*
 * Bounded requests on a mssql pool, shared by the engine (mssql.ts) and the test-query session
 * (mssql-session.ts): apart from both so that neither imports the other.
 */

/** How long a cancel (TDS attention) may take before tedious closes the connection itself. */
export const CANCEL_MS = 1000;
export const ignore = () => undefined;

/** Closes a pool within CANCEL_MS; never throws. */
export async function closePool(pool: sql.ConnectionPool): Promise<void> {
  await withTimeout(pool.close(), CANCEL_MS, 'closing the pool').catch(ignore);
}

/**
 * Runs a batch with a server-side lock wait limit, cancelling it (TDS attention) if it outlives the
 * timeout and waiting a little longer than tedious's own cancel timeout for the acknowledgement.
 */
export async function boundedBatch<T>(request: sql.Request, text: string, timeoutMs: number): Promise<T[]> {
  const bound = Math.max(1, Math.floor(timeoutMs));
  const pending = request.batch<T>(`SET LOCK_TIMEOUT ${bound};\n${text}`);
  try {
    const result = await withTimeout(pending, bound, 'query');
    return (result.recordset ?? []) as T[];
  } catch (error) {
    if (error instanceof TimeoutError) {
      request.cancel();
      await withTimeout(pending, CANCEL_MS + 500, 'cancel').catch(ignore);
    }
    throw error;
  }
}
