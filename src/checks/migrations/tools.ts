import type { MigrationTool } from '../../api/index.js';
import { highestVersion } from './version-order.js';

type Row = Record<string, unknown>;

/** What a tool's bookkeeping table says, before comparing with what is expected. */
export interface AppliedMigrations {
  applied: string[];
  failed: string[];
  currentVersion?: string;
  /** Versions are ordered (a later version implies the earlier ones). */
  ordered: boolean;
}

export interface MigrationTableReader {
  table: string;
  columns: string[];
  read(rows: Row[]): AppliedMigrations;
}

const text = (v: unknown) => (v === null || v === undefined ? undefined : String(v));
const defined = (v: string | undefined): v is string => v !== undefined;
const truthy = (v: unknown) => v === true || v === 1 || v === '1' || v === 't' || v === 'true';
const byNumber = (column: string) => (a: Row, b: Row) => Number(a[column]) - Number(b[column]);

/** The last entry by insertion order, for tools whose names are not versions. */
function lastBy(rows: Row[], orderColumn: string, name: (r: Row) => string | undefined) {
  return [...rows].sort(byNumber(orderColumn)).map(name).filter(defined).at(-1);
}

function plainList(table: string, column: string, ordered: boolean): MigrationTableReader {
  return {
    table,
    columns: [column],
    read: (rows) => {
      const applied = rows.map((r) => text(r[column])).filter(defined);
      return { applied, failed: [], currentVersion: highestVersion(applied), ordered };
    },
  };
}

/** Table and columns per tool: ../shared/README.md §3 and each tool's documentation. */
export const migrationReaders: Record<Exclude<MigrationTool, 'custom'>, MigrationTableReader> = {
  flyway: {
    table: 'flyway_schema_history',
    columns: ['installed_rank', 'version', 'script', 'success'],
    read: (rows) => {
      // Repeatable migrations have no version and do not move the schema version.
      const ok = rows.filter((r) => truthy(r.success));
      const applied = ok.map((r) => text(r.version)).filter(defined);
      const failed = rows.filter((r) => !truthy(r.success)).map((r) => text(r.version) ?? String(r.script));
      return { applied, failed, currentVersion: highestVersion(applied), ordered: true };
    },
  },
  liquibase: {
    table: 'databasechangelog',
    columns: ['id', 'author', 'orderexecuted', 'exectype'],
    read: (rows) => {
      const done = rows.filter((r) => ['EXECUTED', 'RERAN', 'MARK_RAN'].includes(String(r.exectype)));
      return {
        applied: done.map((r) => String(r.id)),
        failed: rows.filter((r) => r.exectype === 'FAILED').map((r) => String(r.id)),
        currentVersion: lastBy(done, 'orderexecuted', (r) => text(r.id)),
        ordered: false,
      };
    },
  },
  'golang-migrate': {
    table: 'schema_migrations',
    columns: ['version', 'dirty'],
    read: (rows) => {
      const row = rows[0];
      const version = row ? text(row.version) : undefined;
      // A dirty version failed half-way; golang-migrate refuses to run until it is forced.
      const dirty = row !== undefined && truthy(row.dirty);
      return {
        applied: version && !dirty ? [version] : [],
        failed: version && dirty ? [version] : [],
        currentVersion: version,
        ordered: true,
      };
    },
  },
  alembic: {
    table: 'alembic_version',
    columns: ['version_num'],
    read: (rows) => {
      const heads = rows.map((r) => String(r.version_num)).sort();
      return { applied: heads, failed: [], currentVersion: heads.join(',') || undefined, ordered: false };
    },
  },
  prisma: {
    table: '_prisma_migrations',
    columns: ['migration_name', 'finished_at', 'rolled_back_at'],
    read: (rows) => {
      const live = rows.filter((r) => r.rolled_back_at === null || r.rolled_back_at === undefined);
      const done = live.filter((r) => r.finished_at !== null && r.finished_at !== undefined);
      const applied = done.map((r) => String(r.migration_name)).sort();
      return {
        applied,
        failed: live.filter((r) => !done.includes(r)).map((r) => String(r.migration_name)),
        currentVersion: applied.at(-1),
        ordered: true,
      };
    },
  },
  knex: {
    table: 'knex_migrations',
    columns: ['id', 'name'],
    read: (rows) => ({
      applied: rows.map((r) => String(r.name)),
      failed: [],
      currentVersion: lastBy(rows, 'id', (r) => text(r.name)),
      ordered: false,
    }),
  },
  efcore: plainList('__EFMigrationsHistory', 'MigrationId', true),
  rails: plainList('schema_migrations', 'version', true),
  django: {
    table: 'django_migrations',
    columns: ['id', 'app', 'name'],
    read: (rows) => {
      const name = (r: Row) => `${String(r.app)}.${String(r.name)}`;
      return { applied: rows.map(name), failed: [], currentVersion: lastBy(rows, 'id', name), ordered: false };
    },
  },
  dbup: {
    table: 'SchemaVersions',
    columns: ['SchemaVersionsID', 'ScriptName'],
    read: (rows) => ({
      applied: rows.map((r) => String(r.ScriptName)),
      failed: [],
      currentVersion: lastBy(rows, 'SchemaVersionsID', (r) => text(r.ScriptName)),
      ordered: false,
    }),
  },
};

export function customReader(table: string, versionColumn: string): MigrationTableReader {
  return plainList(table, versionColumn, true);
}
