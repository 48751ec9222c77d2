import type { MigrationTool } from '../../api/index.js';
import { djangoHistory } from './django.js';
import { flywayHistory } from './flyway.js';
import type { MigrationHistory, Row } from './history.js';
import { defined, inOrder, namedHistory, text, truthy } from './history.js';
import { compareVersions, highestVersion } from './version-order.js';

export interface MigrationTableReader {
  table: string;
  columns: string[];
  /** The names the tool uses on SQL Server, where they differ (Liquibase upper-case, DbUp's own journal). */
  mssql?: { table: string; columns: string[] };
  /** Rows with lower-case column names, whatever the engine's spelling. */
  read(rows: Row[]): MigrationHistory;
}

/** Tools whose versions are ordered and that never run a version below the current one. */
function orderedHistory(versions: string[], dirtyVersion?: string): MigrationHistory {
  const currentVersion = dirtyVersion ?? highestVersion(versions);
  return {
    ...(currentVersion !== undefined ? { currentVersion } : {}),
    appliedCount: versions.length,
    failed: dirtyVersion ? [dirtyVersion] : [],
    stateOf: (v) => {
      if (currentVersion === undefined) return 'pending';
      const order = compareVersions(v, currentVersion);
      if (order === 0 && dirtyVersion) return 'failed';
      return order <= 0 ? 'applied' : 'pending';
    },
  };
}

/** Liquibase names a changeset `filename::id::author`; an expectation may give the id alone or `id::author`. */
const liquibaseNames = (r: Row) => {
  const [file, id, author] = [String(r.filename), String(r.id), String(r.author)];
  return [id, `${id}::${author}`, `${file}::${id}::${author}`];
};

/** Table and columns per tool: ../shared/README.md §3; semantics per tool: docs/checks.md, "Migrations". */
export const migrationReaders: Record<Exclude<MigrationTool, 'custom'>, MigrationTableReader> = {
  flyway: {
    table: 'flyway_schema_history',
    columns: ['installed_rank', 'version', 'description', 'type', 'script', 'success'],
    read: flywayHistory,
  },
  liquibase: {
    table: 'databasechangelog',
    columns: ['id', 'author', 'filename', 'orderexecuted', 'exectype'],
    mssql: { table: 'DATABASECHANGELOG', columns: ['ID', 'AUTHOR', 'FILENAME', 'ORDEREXECUTED', 'EXECTYPE'] },
    read: (rows) => {
      const ordered = inOrder(rows, 'orderexecuted');
      const done = ordered.filter((r) => ['EXECUTED', 'RERAN', 'MARK_RAN'].includes(String(r.exectype)));
      const failed = ordered.filter((r) => r.exectype === 'FAILED');
      const key = (r: Row) => `${String(r.filename)}::${String(r.id)}::${String(r.author)}`;
      const last = done.at(-1);
      const named = namedHistory('Liquibase', done.map(key), {
        ...(last ? { currentVersion: String(last.id) } : {}),
        failed: failed.map((r) => String(r.id)),
      });
      // A FAILED changeset has not run in Liquibase's eyes: the next update runs it again.
      return { ...named, stateOf: (m) => (done.some((r) => liquibaseNames(r).includes(m)) ? 'applied' : 'pending') };
    },
  },
  'golang-migrate': {
    table: 'schema_migrations',
    columns: ['version', 'dirty'],
    read: (rows) => {
      const row = rows[0];
      const version = row ? text(row.version) : undefined;
      // -1 is golang-migrate's "no version" (kept only when dirty during the very first migration).
      if (version === undefined || version === '-1') return { ...orderedHistory([]), appliedCount: 0 };
      // Dirty: this version failed half-way, every version before it completed.
      const history = truthy(row?.dirty) ? orderedHistory([], version) : orderedHistory([version]);
      // One row holds only the version reached: how many migrations led there is in the files.
      const { appliedCount: _, ...withoutCount } = history;
      return withoutCount;
    },
  },
  alembic: {
    table: 'alembic_version',
    columns: ['version_num'],
    read: (rows) => {
      const heads = rows.map((r) => String(r.version_num)).sort();
      if (heads.length === 0) return { appliedCount: 0, failed: [], stateOf: () => 'pending' };
      const ancestry = `alembic_version holds only the heads (${heads.join(', ')}); whether a revision is one of their ancestors is in the migration scripts, not in the database`;
      return {
        currentVersion: heads.join(','),
        failed: [],
        stateOf: (rev) => (heads.includes(rev) ? 'applied' : { unknown: ancestry }),
      };
    },
  },
  prisma: {
    table: '_prisma_migrations',
    columns: ['migration_name', 'finished_at', 'rolled_back_at'],
    read: (rows) => {
      const live = rows.filter((r) => r.rolled_back_at === null || r.rolled_back_at === undefined);
      const done = live.filter((r) => r.finished_at !== null && r.finished_at !== undefined);
      const applied = done.map((r) => String(r.migration_name)).sort();
      const failed = live.filter((r) => !done.includes(r)).map((r) => String(r.migration_name));
      const currentVersion = applied.at(-1);
      return namedHistory('Prisma', applied, { failed, ...(currentVersion ? { currentVersion } : {}) });
    },
  },
  knex: {
    table: 'knex_migrations',
    columns: ['id', 'name'],
    read: (rows) => {
      const names = rows.map((r) => String(r.name));
      // knex's current version is the highest timestamp prefix of any applied name, printed bare.
      const stamps = names.map((n) => n.split('_')[0]).filter(defined);
      const currentVersion = stamps.sort().at(-1);
      return namedHistory('knex', names, {
        ...(currentVersion ? { currentVersion } : {}),
        matches: (expected, name) => expected === name || (/^\d+$/.test(expected) && name.split('_')[0] === expected),
      });
    },
  },
  efcore: {
    table: '__EFMigrationsHistory',
    columns: ['MigrationId'],
    read: (rows) => {
      // EF Core orders migration ids ordinally; the timestamp prefix makes that chronological.
      const ids = rows.map((r) => String(r.migrationid)).sort();
      const currentVersion = ids.at(-1);
      return namedHistory('EF Core', ids, currentVersion ? { currentVersion } : {});
    },
  },
  rails: {
    table: 'schema_migrations',
    columns: ['version'],
    read: (rows) => {
      const versions = rows.map((r) => String(r.version));
      const currentVersion = highestVersion(versions);
      // An expectation may name the file (20240101000000_create_users.rb) or the version.
      return namedHistory('Rails', versions, {
        ...(currentVersion ? { currentVersion } : {}),
        matches: (expected, version) => expected.split('_')[0] === version,
      });
    },
  },
  django: { table: 'django_migrations', columns: ['id', 'app', 'name'], read: djangoHistory },
  // DbUp's journal: PostgresqlTableJournal and SqlTableJournal create different names.
  dbup: {
    table: 'schemaversions',
    columns: ['schemaversionsid', 'scriptname'],
    mssql: { table: 'SchemaVersions', columns: ['Id', 'ScriptName'] },
    read: (rows) => {
      const byId = inOrder(rows, rows[0] && 'id' in rows[0] ? 'id' : 'schemaversionsid');
      const scripts = byId.map((r) => String(r.scriptname));
      const currentVersion = scripts.at(-1);
      return namedHistory('DbUp', scripts, currentVersion ? { currentVersion } : {});
    },
  },
};

/** A table with one version column: versions are ordered, the highest is current. */
export function customReader(table: string, versionColumn: string): MigrationTableReader {
  return {
    table,
    columns: [versionColumn],
    read: (rows) => orderedHistory(rows.map((r) => text(r[versionColumn.toLowerCase()])).filter(defined)),
  };
}
