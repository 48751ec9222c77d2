import sql from 'mssql';
import type { TestQuerySession } from '../engine.js';
import { TimeoutError, withTimeout } from '../timeout.js';
import { TRANCOUNT_SQL } from './mssql-queries.js';
import { boundedBatch, CANCEL_MS, closePool } from './mssql-requests.js';

/** SQL Server has no read-only session mode: transaction control in test queries is refused outright. */
const TRANSACTION_CONTROL = /\b(COMMIT|ROLLBACK|SAVE\s+TRAN(SACTION)?|BEGIN\s+(DISTRIBUTED\s+)?TRAN(SACTION)?)\b/i;

/**
 * Test queries on a connection of their own (the mssql driver does not reset pooled connections, so
 * SET options or USE from a test query would leak into later checks). Each query runs in a transaction
 * that is rolled back with XACT_ABORT on; a query that overruns, or a BEGIN that does not come back in
 * time, closes the connection, and the next query opens a new one.
 */
export class MssqlTestSession implements TestQuerySession {
  private pool: sql.ConnectionPool | undefined;

  constructor(
    pool: sql.ConnectionPool,
    private readonly open: (timeoutMs: number) => Promise<sql.ConnectionPool>,
  ) {
    this.pool = pool;
  }

  async run(text: string, timeoutMs: number): Promise<number> {
    if (TRANSACTION_CONTROL.test(text)) {
      throw Object.assign(
        new Error('transaction control (COMMIT, ROLLBACK, BEGIN/SAVE TRAN) is not allowed in test queries'),
        { code: 'WRITE_REFUSED' },
      );
    }
    this.pool ??= await this.open(timeoutMs);
    const pool = this.pool;
    const transaction = new sql.Transaction(pool);
    try {
      await withTimeout(transaction.begin(), CANCEL_MS, 'BEGIN TRANSACTION');
    } catch (error) {
      await this.discard();
      throw error;
    }
    const started = performance.now();
    let failure: unknown;
    try {
      await boundedBatch(new sql.Request(transaction), `SET XACT_ABORT ON;\n${text}`, timeoutMs);
    } catch (error) {
      failure = error;
    }
    const ms = performance.now() - started;
    // The text filter cannot see EXEC('COM'+'MIT'), sp_executesql or a procedure: @@TRANCOUNT can.
    if (failure === undefined) failure = await this.escapedTransaction(transaction);
    try {
      // Always rolled back: whatever the query changed is undone.
      await withTimeout(transaction.rollback(), CANCEL_MS, 'ROLLBACK');
    } catch {
      // Already rolled back by XACT_ABORT, or the connection is in doubt: never reuse it.
      if (failure === undefined || failure instanceof TimeoutError) await this.discard();
    }
    if (failure !== undefined) throw failure;
    return ms;
  }

  private async escapedTransaction(transaction: sql.Transaction): Promise<Error | undefined> {
    try {
      const [r] = await boundedBatch<{ trancount: number }>(new sql.Request(transaction), TRANCOUNT_SQL, CANCEL_MS);
      if (r && Number(r.trancount) > 0) return undefined;
    } catch (error) {
      return error as Error;
    }
    return Object.assign(
      new Error("the test query committed or rolled back dbwatch's transaction itself (@@TRANCOUNT was 0 after it)"),
      { code: 'WRITE_ESCAPED' },
    );
  }

  private async discard(): Promise<void> {
    const pool = this.pool;
    this.pool = undefined;
    if (pool) await closePool(pool);
  }

  async close(): Promise<void> {
    await this.discard();
  }
}
