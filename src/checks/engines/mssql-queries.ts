/*
 * The SQL dbwatch sends to SQL Server, with the documented behaviour each relies on. Column names follow
 * Microsoft's documentation of each view (sources in docs/sql-server.md); the TDS test server refuses any
 * other column with error 207, as SQL Server would.
 */

export const literal = (s: string) => `N'${s.replace(/'/g, "''")}'`;
export const bracket = (s: string) => `[${s.replace(/]/g, ']]')}]`;

/** EngineEdition 5 is Azure SQL Database, 8 Azure SQL Managed Instance; ProductMajorVersion 16 is SQL Server 2022. */
export const SERVER_FACTS_SQL = `
SELECT CAST(SERVERPROPERTY('EngineEdition') AS int) AS engine_edition,
       CAST(SERVERPROPERTY('ProductMajorVersion') AS int) AS major_version,
       CAST(SERVERPROPERTY('ProductVersion') AS nvarchar(128)) AS product_version`;

export interface ServerFacts {
  engineEdition: number;
  majorVersion: number;
  productVersion: string;
}

export const AZURE_SQL_DATABASE = 5;

/**
 * Which permission makes sys.dm_exec_sessions show every session (without it the DMV silently shows only
 * the caller's own): VIEW SERVER STATE, or from SQL Server 2022 on the narrower VIEW SERVER PERFORMANCE STATE;
 * on Azure SQL Database VIEW DATABASE STATE in the database (server scope does not exist there).
 */
export function visibilityCheck(facts: ServerFacts): string {
  if (facts.engineEdition === AZURE_SQL_DATABASE)
    return "HAS_PERMS_BY_NAME(DB_NAME(), 'DATABASE', 'VIEW DATABASE STATE')";
  const state = "HAS_PERMS_BY_NAME(NULL, NULL, 'VIEW SERVER STATE')";
  if (facts.majorVersion >= 16) {
    return `CASE WHEN ${state} = 1 OR HAS_PERMS_BY_NAME(NULL, NULL, 'VIEW SERVER PERFORMANCE STATE') = 1 THEN 1 ELSE 0 END`;
  }
  return state;
}

/**
 * User sessions by status (documented values: Running, Sleeping, Dormant, Preconnect) against the
 * configured maximum ('user connections'; 0 means @@MAX_CONNECTIONS).
 */
export function serverConnectionsSql(facts: ServerFacts): string {
  return `
SELECT COUNT(*) AS total,
       SUM(CASE WHEN s.status = 'Running' THEN 1 ELSE 0 END) AS active,
       SUM(CASE WHEN s.status = 'Sleeping' AND s.open_transaction_count = 0 THEN 1 ELSE 0 END) AS idle,
       SUM(CASE WHEN s.status = 'Sleeping' AND s.open_transaction_count > 0 THEN 1 ELSE 0 END) AS idle_in_tx,
       (SELECT CAST(c.value_in_use AS int) FROM sys.configurations c WHERE c.name = 'user connections') AS configured,
       @@MAX_CONNECTIONS AS max_connections,
       ${visibilityCheck(facts)} AS sees_all
FROM sys.dm_exec_sessions s
WHERE s.is_user_process = 1`;
}

/** The current database is always visible in sys.databases; Updateability also covers readable secondaries. */
export const DATABASE_INFO_SQL = `
SELECT d.state_desc, d.is_read_only,
       CAST(DATABASEPROPERTYEX(DB_NAME(), 'Updateability') AS nvarchar(128)) AS updateability
FROM sys.databases d
WHERE d.name = DB_NAME()`;

/**
 * From master, after a failed login to `database`: sys.databases hides databases (OFFLINE ones among them)
 * from logins without VIEW ANY DATABASE, so a missing row does not mean a missing database; HAS_DBACCESS
 * is NULL only for a name that does not exist, and 0 for no user there, offline, suspect or single-user.
 */
export const databaseAccessSql = (database: string) => `
SELECT HAS_DBACCESS(${literal(database)}) AS has_access,
       (SELECT d.state_desc FROM sys.databases d WHERE d.name = ${literal(database)}) AS state_desc`;

export const TRANCOUNT_SQL = 'SELECT @@TRANCOUNT AS trancount';
