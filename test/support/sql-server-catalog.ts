/**
 * The documented columns of every SQL Server view and migration journal that dbwatch reads, each with the
 * page it comes from. The TDS test server answers from these and refuses any other column with error 207,
 * as SQL Server does — so a typo or a wrong assumption in dbwatch's SQL fails a test instead of being echoed.
 * Lists are the documented columns dbwatch may plausibly touch, not every column of the view.
 */
export interface CatalogObject {
  columns: string[];
  source: string;
}

const LEARN = 'https://learn.microsoft.com/en-us/sql';

export const SQL_SERVER_CATALOG: Record<string, CatalogObject> = {
  'sys.dm_exec_sessions': {
    source: `${LEARN}/relational-databases/system-dynamic-management-views/sys-dm-exec-sessions-transact-sql`,
    columns: [
      'session_id',
      'login_time',
      'host_name',
      'program_name',
      'login_name',
      'status',
      'cpu_time',
      'memory_usage',
      'last_request_start_time',
      'last_request_end_time',
      'reads',
      'writes',
      'is_user_process',
      'transaction_isolation_level',
      'database_id',
      'open_transaction_count',
    ],
  },
  'sys.databases': {
    source: `${LEARN}/relational-databases/system-catalog-views/sys-databases-transact-sql`,
    columns: [
      'name',
      'database_id',
      'source_database_id',
      'owner_sid',
      'create_date',
      'compatibility_level',
      'collation_name',
      'user_access',
      'user_access_desc',
      'is_read_only',
      'state',
      'state_desc',
      'is_in_standby',
      'recovery_model_desc',
    ],
  },
  'sys.configurations': {
    source: `${LEARN}/relational-databases/system-catalog-views/sys-configurations-transact-sql`,
    columns: [
      'configuration_id',
      'name',
      'value',
      'minimum',
      'maximum',
      'value_in_use',
      'description',
      'is_dynamic',
      'is_advanced',
    ],
  },
  'INFORMATION_SCHEMA.TABLES': {
    source: `${LEARN}/relational-databases/system-information-schema-views/tables-transact-sql`,
    columns: ['TABLE_CATALOG', 'TABLE_SCHEMA', 'TABLE_NAME', 'TABLE_TYPE'],
  },
  // Journals, as each tool creates them on SQL Server.
  flyway_schema_history: {
    source: 'https://documentation.red-gate.com/fd/flyway-schema-history-table-273973417.html',
    columns: [
      'installed_rank',
      'version',
      'description',
      'type',
      'script',
      'checksum',
      'installed_by',
      'installed_on',
      'execution_time',
      'success',
    ],
  },
  DATABASECHANGELOG: {
    source: 'https://docs.liquibase.com/concepts/tracking-tables/databasechangelog-table.html',
    columns: [
      'ID',
      'AUTHOR',
      'FILENAME',
      'DATEEXECUTED',
      'ORDEREXECUTED',
      'EXECTYPE',
      'MD5SUM',
      'DESCRIPTION',
      'COMMENTS',
      'TAG',
      'LIQUIBASE',
      'CONTEXTS',
      'LABELS',
      'DEPLOYMENT_ID',
    ],
  },
  __EFMigrationsHistory: {
    source: 'https://learn.microsoft.com/en-us/ef/core/managing-schemas/migrations/history-table',
    columns: ['MigrationId', 'ProductVersion'],
  },
  // DbUp's SqlTableJournal: CREATE TABLE [SchemaVersions] ([Id] int identity(1,1), [ScriptName] nvarchar(255), [Applied] datetime).
  SchemaVersions: {
    source: 'https://github.com/DbUp/DbUp/blob/master/src/dbup-sqlserver/SqlTableJournal.cs',
    columns: ['Id', 'ScriptName', 'Applied'],
  },
  schema_migrations: {
    source: 'https://github.com/golang-migrate/migrate/blob/master/database/sqlserver/sqlserver.go',
    columns: ['version', 'dirty'],
  },
};

const KEYWORDS = new Set(['WHERE', 'JOIN', 'ON', 'GROUP', 'ORDER', 'WITH', 'INNER', 'LEFT', 'CROSS', 'UNION']);
const unbracket = (s: string) => s.replace(/^\[|\]$/g, '');

/** The catalog entry for a FROM target ("sys.databases", "[dbo].[SchemaVersions]", "INFORMATION_SCHEMA.TABLES"). */
export function catalogObject(target: string): [string, CatalogObject] | undefined {
  const parts = target.split('.').map(unbracket);
  const full = parts.join('.');
  const last = parts.at(-1)!;
  const hit = Object.entries(SQL_SERVER_CATALOG).find(
    ([name]) => name.toLowerCase() === full.toLowerCase() || name.toLowerCase() === last.toLowerCase(),
  );
  return hit;
}

/**
 * The first column the batch names that its FROM objects do not have, checked for `alias.column`
 * references, bracketed select lists and `column =` comparisons (SQL Server compares names case-insensitively).
 */
export function unknownColumn(sql: string): string | undefined {
  const objects = new Map<string, CatalogObject>();
  for (const m of sql.matchAll(/\b(?:FROM|JOIN)\s+((?:\[?[\w#]+\]?\.)*\[?[\w#]+\]?)(?:\s+(?:AS\s+)?(\w+))?/gi)) {
    const found = catalogObject(m[1]!);
    if (!found) continue;
    objects.set(found[0].toLowerCase(), found[1]);
    if (m[2] && !KEYWORDS.has(m[2].toUpperCase())) objects.set(m[2].toLowerCase(), found[1]);
  }
  if (objects.size === 0) return undefined;
  const has = (o: CatalogObject, column: string) => o.columns.some((c) => c.toLowerCase() === column.toLowerCase());
  for (const m of sql.matchAll(/\b(\w+)\.\[?(\w+)\]?/g)) {
    const owner = objects.get(m[1]!.toLowerCase());
    if (owner && !has(owner, m[2]!)) return m[2];
  }
  const single = objects.size === 1 || new Set(objects.values()).size === 1 ? [...objects.values()][0] : undefined;
  if (!single) return undefined;
  const selectList = sql.match(/^\s*SELECT\s+(?:TOP\s*\(\d+\)\s*)?(.+?)\s+FROM\s/is)?.[1] ?? '';
  for (const m of selectList.matchAll(/\[([^\]]+)\]/g)) if (!has(single, m[1]!)) return m[1];
  const where = sql.match(/\bWHERE\s+(.+)$/is)?.[1] ?? '';
  for (const m of where.matchAll(/(?<![.\w])([A-Za-z_]\w*)\s*=/g)) if (!has(single, m[1]!)) return m[1];
  return undefined;
}
