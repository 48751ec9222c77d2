import { catalogObject, unknownColumn } from './sql-server-catalog.js';
import type { BatchAnswer, Cell, Column, TdsScript } from './tds-server.js';

export interface FakeTable {
  columns: Column[];
  rows: Cell[][];
}

/**
 * Editions as their documentation describes them. sql2019 and sql2022 differ in VIEW SERVER PERFORMANCE
 * STATE (2022+); Azure SQL Database has no server scope (server-scope permission checks return NULL,
 * sys.configurations and @@MAX_CONNECTIONS are not documented there); a readable secondary reports
 * is_read_only = 0 and Updateability READ_ONLY.
 */
export type SqlServerProfile = 'sql2019' | 'sql2022' | 'azure-sql-database' | 'readable-secondary';

const PROFILES: Record<SqlServerProfile, { edition: number; major: number; version: string }> = {
  sql2019: { edition: 3, major: 15, version: '15.0.4375.4' },
  sql2022: { edition: 3, major: 16, version: '16.0.4135.4' },
  'azure-sql-database': { edition: 5, major: 12, version: '12.0.2000.8' },
  'readable-secondary': { edition: 3, major: 16, version: '16.0.4135.4' },
};

export interface SqlServerState {
  profile?: SqlServerProfile;
  logins?: Record<string, string>;
  /** Permissions granted to the monitoring login: VIEW SERVER STATE, VIEW SERVER PERFORMANCE STATE, VIEW DATABASE STATE. */
  grants?: string[];
  /** VIEW ANY DATABASE (granted to public by default); without it sys.databases hides databases the login cannot open. */
  viewAnyDatabase?: boolean;
  /** state_desc by database name; a database not ONLINE refuses logins with 4060. */
  databaseStates?: Record<string, string>;
  /** Databases where the login has no user: logins to them fail with 4060, HAS_DBACCESS is 0. */
  noUserIn?: string[];
  sessions?: {
    total: number;
    running: number;
    sleeping: number;
    idleInTransaction: number;
    configured: number;
  };
  /** Journal tables: columns must be documented ones (SQL_SERVER_CATALOG), or the fixture is refused. */
  tables?: Record<string, FakeTable>;
  /** Answers for test queries, by exact SQL text. */
  queries?: Record<string, BatchAnswer>;
  encryption?: 'NOT_SUP' | 'REQ';
}

const int = (name: string): Column => ({ name, type: 'int' });
const text = (name: string): Column => ({ name, type: 'nvarchar' });
const DEFAULT_SESSIONS = { total: 12, running: 2, sleeping: 10, idleInTransaction: 1, configured: 0 };

function checkFixture(state: SqlServerState): void {
  for (const [name, table] of Object.entries(state.tables ?? {})) {
    const documented = catalogObject(name);
    if (!documented) throw new Error(`fixture table ${name} is not in SQL_SERVER_CATALOG`);
    for (const c of table.columns) {
      if (!documented[1].columns.includes(c.name))
        throw new Error(`fixture column ${name}.${c.name} is not documented (${documented[1].source})`);
    }
  }
}

/**
 * Answers the statements dbwatch's SQL Server engine sends the way the documented server would, from a
 * profile and a small state: unknown columns get error 207, unknown objects 208, permission-dependent
 * views follow the documented visibility rules.
 */
export function sqlServerScript(state: SqlServerState): TdsScript {
  checkFixture(state);
  const profile = PROFILES[state.profile ?? 'sql2022'];
  const azure = state.profile === 'azure-sql-database';
  const grants = new Set(state.grants ?? ['VIEW SERVER STATE']);
  const states = state.databaseStates ?? {};
  const stateOf = (db: string) => states[db] ?? 'ONLINE';
  const accessible = (db: string) => stateOf(db) === 'ONLINE' && !state.noUserIn?.includes(db);
  const known = (db: string) => db === 'master' || db === 'orders' || db in states || !!state.noUserIn?.includes(db);
  /** HAS_PERMS_BY_NAME as documented per edition; NULL for a permission the edition does not know. */
  const hasPerms = (scope: 'server' | 'database', permission: string): number | null => {
    if (scope === 'server' && azure) return null;
    if (permission === 'VIEW SERVER PERFORMANCE STATE' && profile.major < 16) return null;
    return grants.has(permission) ? 1 : 0;
  };

  return {
    logins: state.logins ?? { monitor: 'Str0ng!Passw0rd' },
    unavailableDatabases: [...Object.keys(states).filter((db) => states[db] !== 'ONLINE'), ...(state.noUserIn ?? [])],
    databases: ['master', 'orders', ...Object.keys(states), ...(state.noUserIn ?? [])],
    ...(state.encryption ? { encryption: state.encryption } : {}),
    answer(sql, session): BatchAnswer {
      // The engine puts session limits (SET LOCK_TIMEOUT, SET XACT_ABORT) before each batch.
      const q = sql.replace(/^(\s*SET [A-Z_]+ [^;]+;)+/i, '').trim();
      if (state.queries?.[q]) return state.queries[q]!;
      const column = unknownColumn(q);
      if (column) return { error: { number: 207, message: `Invalid column name '${column}'.`, class: 16 } };
      if (q === 'SELECT 1 AS ok') return { columns: [int('ok')], rows: [[1]] };
      if (q === 'SELECT @@TRANCOUNT AS trancount')
        return { columns: [int('trancount')], rows: [[session.inTransaction ? 1 : 0]] };
      if (q.includes("SERVERPROPERTY('EngineEdition')")) {
        return {
          columns: [int('engine_edition'), int('major_version'), text('product_version')],
          rows: [[profile.edition, profile.major, profile.version]],
        };
      }
      if (q.includes('sys.dm_exec_sessions')) {
        if (azure && q.includes('sys.configurations')) {
          return { error: { number: 208, message: "Invalid object name 'sys.configurations'.", class: 16 } };
        }
        const perms = [...q.matchAll(/HAS_PERMS_BY_NAME\((NULL|DB_NAME\(\)), [^,]+, '([^']+)'\)/g)].map((m) =>
          hasPerms(m[1] === 'NULL' ? 'server' : 'database', m[2]!),
        );
        const seesAll = perms.some((p) => p === 1);
        const s = state.sessions ?? DEFAULT_SESSIONS;
        // Without the permission the DMV silently shows only the caller's own session.
        const row = seesAll
          ? [s.total, s.running, s.sleeping - s.idleInTransaction, s.idleInTransaction]
          : [1, 1, 0, 0];
        const seesAllCell = perms.length === 1 && perms[0] === null ? null : seesAll ? 1 : 0;
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
          rows: [[...row, s.configured, 32767, seesAllCell]],
        };
      }
      if (q.includes("DATABASEPROPERTYEX(DB_NAME(), 'Updateability')")) {
        const secondary = state.profile === 'readable-secondary';
        return {
          columns: [text('state_desc'), { name: 'is_read_only', type: 'bit' }, text('updateability')],
          rows: [[stateOf(session.database), false, secondary ? 'READ_ONLY' : 'READ_WRITE']],
        };
      }
      const access = q.match(/HAS_DBACCESS\(N'([^']+)'\)/);
      if (access) {
        const db = access[1]!;
        const visible = known(db) && (state.viewAnyDatabase !== false || accessible(db));
        return {
          columns: [int('has_access'), text('state_desc')],
          rows: [[known(db) ? (accessible(db) ? 1 : 0) : null, visible ? stateOf(db) : null]],
        };
      }
      const exists = q.match(/INFORMATION_SCHEMA\.TABLES WHERE TABLE_NAME = N'([^']+)'/);
      if (exists) return { columns: [int('found')], rows: state.tables?.[exists[1]!] ? [[1]] : [] };
      const select = q.match(/^SELECT TOP \(\d+\) (.+) FROM (?:\[[^\]]+\]\.)?\[([^\]]+)\]$/);
      if (select && state.tables?.[select[2]!]) {
        const table = state.tables[select[2]!]!;
        const wanted = select[1]!.split(', ').map((c) => c.slice(1, -1));
        const idx = wanted.map((w) => table.columns.findIndex((c) => c.name === w));
        const documented = catalogObject(select[2]!)![1].columns;
        return {
          columns: wanted.map(
            (w, i) => table.columns[idx[i]!] ?? { name: documented.find((d) => d === w)!, type: 'nvarchar' },
          ),
          rows: table.rows.map((r) => idx.map((i) => (i < 0 ? null : (r[i] ?? null)))),
        };
      }
      return { error: { number: 208, message: `Invalid object name '${q.slice(0, 60)}'.` } };
    },
  };
}
