import type { BatchAnswer, Cell, Column, TdsScript } from './tds-server.js';

export interface FakeTable {
  columns: Column[];
  rows: Cell[][];
}

export interface SqlServerState {
  logins?: Record<string, string>;
  unavailableDatabases?: string[];
  /** state_desc by database name, as master's sys.databases reports it. */
  databaseStates?: Record<string, string>;
  sessions?: {
    total: number;
    running: number;
    sleeping: number;
    idleInTransaction: number;
    configured: number;
    seesAll: boolean;
  };
  tables?: Record<string, FakeTable>;
  /** Answers for test queries, by exact SQL text. */
  queries?: Record<string, BatchAnswer>;
  encryption?: 'NOT_SUP' | 'REQ';
}

const int = (name: string): Column => ({ name, type: 'int' });
const text = (name: string): Column => ({ name, type: 'nvarchar' });

/**
 * Answers the statements dbwatch's SQL Server engine sends, the way SQL Server would, from a small
 * state object. Unknown SQL gets SQL Server's "Invalid object name" error.
 */
export function sqlServerScript(state: SqlServerState): TdsScript {
  return {
    logins: state.logins ?? { monitor: 'Str0ng!Passw0rd' },
    ...(state.unavailableDatabases ? { unavailableDatabases: state.unavailableDatabases } : {}),
    ...(state.encryption ? { encryption: state.encryption } : {}),
    answer(sql, session): BatchAnswer {
      // The engine puts session limits (SET LOCK_TIMEOUT, SET XACT_ABORT) before each batch.
      const q = sql.replace(/^(\s*SET [A-Z_]+ [^;]+;)+/i, '').trim();
      if (state.queries?.[q]) return state.queries[q]!;
      if (q === 'SELECT 1 AS ok') return { columns: [int('ok')], rows: [[1]] };
      if (q.includes('SERVERPROPERTY')) {
        const st = state.databaseStates?.[session.database] ?? 'ONLINE';
        return {
          columns: [text('state_desc'), { name: 'is_read_only', type: 'bit' }, text('version')],
          rows: [[st, false, '16.0.4135.4']],
        };
      }
      if (q.includes('sys.dm_exec_sessions')) {
        const s = state.sessions ?? {
          total: 12,
          running: 2,
          sleeping: 10,
          idleInTransaction: 1,
          configured: 0,
          seesAll: true,
        };
        return {
          columns: [
            int('total'),
            int('active'),
            int('idle'),
            int('idle_in_tx'),
            int('configured'),
            int('max_connections'),
            int('sees_all'),
          ],
          rows: [
            [
              s.total,
              s.running,
              s.sleeping - s.idleInTransaction,
              s.idleInTransaction,
              s.configured,
              32767,
              s.seesAll ? 1 : 0,
            ],
          ],
        };
      }
      const stateQuery = q.match(/FROM sys\.databases WHERE name = N'([^']+)'/);
      if (stateQuery) {
        const st = state.databaseStates?.[stateQuery[1]!];
        return { columns: [text('state_desc')], rows: st ? [[st]] : [] };
      }
      const exists = q.match(/INFORMATION_SCHEMA\.TABLES WHERE TABLE_NAME = N'([^']+)'/);
      if (exists) return { columns: [int('found')], rows: state.tables?.[exists[1]!] ? [[1]] : [] };
      const select = q.match(/^SELECT TOP \(\d+\) (.+) FROM (?:\[[^\]]+\]\.)?\[([^\]]+)\]$/);
      if (select && state.tables?.[select[2]!]) {
        const table = state.tables[select[2]!]!;
        const wanted = select[1]!.split(', ').map((c) => c.slice(1, -1));
        const idx = wanted.map((w) => table.columns.findIndex((c) => c.name === w));
        return {
          columns: idx.map((i) => table.columns[i]!),
          rows: table.rows.map((r) => idx.map((i) => r[i] ?? null)),
        };
      }
      return { error: { number: 208, message: `Invalid object name '${q.slice(0, 60)}'.` } };
    },
  };
}
