import type { MigrationStatus, MigrationsCheck } from '../../api/index.js';
import type { DatabaseEngine } from '../engine.js';
import { assessMigrations } from './assess.js';
import { customReader, migrationReaders } from './tools.js';

/** Reads the tool's bookkeeping table and compares it with the expectation. Never throws. */
export async function readMigrationStatus(
  engine: DatabaseEngine,
  spec: MigrationsCheck,
  timeoutMs: number,
  describeError: (e: unknown) => string,
): Promise<MigrationStatus> {
  const reader =
    spec.tool === 'custom'
      ? customReader(spec.table ?? 'schema_version', spec.versionColumn ?? 'version')
      : migrationReaders[spec.tool];
  const names = engine.name === 'mssql' && reader.mssql ? reader.mssql : reader;
  const ref = { table: spec.table ?? names.table, ...(spec.schema ? { schema: spec.schema } : {}) };
  const where = ref.schema ? `${ref.schema}.${ref.table}` : ref.table;
  const empty: MigrationStatus = {
    tool: spec.tool,
    table: where,
    appliedCount: 0,
    pendingMigrations: [],
    failedMigrations: [],
  };
  try {
    if (!(await engine.tableExists(ref, timeoutMs))) {
      return { ...empty, error: `migration table ${where} not found: has ${spec.tool} run against this database?` };
    }
    const rows = await engine.selectColumns(ref, names.columns, timeoutMs);
    return assessMigrations(spec.tool, where, reader.read(rows.map(lowerCaseKeys)), spec);
  } catch (error) {
    return { ...empty, error: `reading ${where}: ${describeError(error)}` };
  }
}

/** Readers see one spelling of column names: SQL Server returns them as the tool created them. */
const lowerCaseKeys = (row: Record<string, unknown>) =>
  Object.fromEntries(Object.entries(row).map(([k, v]) => [k.toLowerCase(), v]));
