import { rmSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, jest, test } from '@jest/globals';
import type { MigrationStatus } from '../../../src/api/index.js';
import {
  type Database,
  dbwatchStatus,
  freshDatabase,
  hackDir,
  INSTALL_TIMEOUT_MS,
  installTool,
  pgParams,
  run,
  scratch,
} from './real-tools.js';

interface FlywayInfo {
  current: string | null;
  error: string | null;
  migrations: { version: string | null; description: string; type: string; state: string }[];
}

/** `flyway info` states, mapped to what dbwatch reports (Flyway's MigrationState). */
const APPLIED = ['SUCCESS', 'OUT_OF_ORDER', 'MISSING_SUCCESS', 'FUTURE_SUCCESS'];
const COVERED = [...APPLIED, 'BASELINE', 'BELOW_BASELINE', 'BASELINE_IGNORED', 'SUPERSEDED', 'OUTDATED'];
const FAILED = ['FAILED', 'MISSING_FAILED', 'FUTURE_FAILED', 'OUT_OF_ORDER_FAILED'];

/** What `flyway info` says, in dbwatch's terms, for every versioned migration it knows of. */
function toolView(info: FlywayInfo) {
  const versioned = info.migrations.filter((m) => m.version !== null);
  // The schema-creation row is Flyway's bookkeeping, not a migration (it shows as SUCCESS).
  const appliedKeys = new Set(
    info.migrations
      .filter((m) => APPLIED.includes(m.state) && m.type !== 'SCHEMA')
      .map((m) => m.version ?? `R:${m.description}`),
  );
  return {
    currentVersion: info.current ?? undefined,
    appliedCount: appliedKeys.size,
    failedMigrations: versioned.filter((m) => FAILED.includes(m.state)).map((m) => m.version),
    pendingMigrations: versioned
      .filter((m) => !COVERED.includes(m.state) && !FAILED.includes(m.state) && m.state !== 'DELETED')
      .map((m) => m.version),
    // A DELETED version has no file any more: nobody expects it.
    expected: [...new Set(versioned.filter((m) => m.state !== 'DELETED').map((m) => m.version as string))],
  };
}

// Each tool command starts a JVM (1-7 s on 2 shared cores); a test runs several.
jest.setTimeout(240_000);

/** Flyway through its Java API (hack/migrations/java/FlywayDriver.java), which prints `flyway info` as JSON. */
describe('Flyway: dbwatch agrees with flyway info', () => {
  let lib: string;
  const dirs: { remove(): void }[] = [];
  beforeAll(() => {
    lib = join(installTool('flyway').dir, 'lib');
  }, INSTALL_TIMEOUT_MS);
  afterAll(() => {
    for (const d of dirs) d.remove();
  });

  async function project(files: Record<string, string>, settings: string[] = []) {
    const db = await freshDatabase();
    const source = scratch(files);
    dirs.push(source);
    const p = pgParams(db);
    const flyway = (command: string, ...more: string[]) => {
      const r = run('java', [
        '-cp',
        `${lib}/*`,
        join(hackDir, 'migrations/java/FlywayDriver.java'),
        command,
        `url=jdbc:postgresql://${p.host}:${p.port}/${p.database}`,
        `user=${p.user}`,
        `password=${p.password}`,
        `locations=filesystem:${source.dir}`,
        // Session-level advisory lock: otherwise a failed non-transactional migration's row is rolled back too.
        'sessionLock=true',
        ...settings,
        ...more,
      ]);
      const info = JSON.parse(r.stdout.trim().split('\n').at(-1) ?? '{}') as FlywayInfo;
      return { ...info, code: r.code };
    };
    return { db, source, flyway };
  }

  /** dbwatch's answer, expecting every version Flyway knows of, against flyway info's own. */
  async function expectAgreement(db: Database, info: FlywayInfo, schema?: string): Promise<MigrationStatus> {
    const view = toolView(info);
    const status = await dbwatchStatus(db, {
      tool: 'flyway',
      ...(schema ? { schema } : {}),
      expectedMigrations: view.expected,
    });
    const { expected: _, ...told } = view;
    expect({ ...status, pendingMigrations: [...status.pendingMigrations].sort() }).toMatchObject({
      ...told,
      pendingMigrations: [...told.pendingMigrations].sort(),
    });
    if (told.currentVersion === undefined) expect(status.currentVersion).toBeUndefined();
    expect(status.unknownReason).toBeUndefined();
    return status;
  }

  test('a version added below the current one is IGNORED, so pending; out of order it becomes applied', async () => {
    const { db, source, flyway } = await project({
      'V1__a.sql': 'CREATE TABLE a (id int);',
      'V3__c.sql': 'CREATE TABLE c (id int);',
    });
    expect(flyway('migrate').code).toBe(0);
    source.write({ 'V2__b.sql': 'CREATE TABLE b (id int);', 'V4__d.sql': 'CREATE TABLE d (id int);' });
    const ignored = flyway('info');
    expect(ignored.migrations.map((m) => m.state)).toEqual(['SUCCESS', 'SUCCESS', 'IGNORED', 'PENDING']);
    expect(await expectAgreement(db, ignored)).toMatchObject({ currentVersion: '3', pendingMigrations: ['2', '4'] });
    // By version alone dbwatch also sees the ignored one: it is below current and has no row.
    expect((await dbwatchStatus(db, { tool: 'flyway', expectedVersion: '2' })).pendingMigrations).toEqual(['2']);
    expect(flyway('migrate').error).toMatch(/Detected resolved migration not applied to database: 2/);
    const outOfOrder = flyway('migrate', 'outOfOrder=true');
    expect(outOfOrder.code).toBe(0);
    expect(outOfOrder.migrations.find((m) => m.version === '2')?.state).toBe('OUT_OF_ORDER');
    expect(await expectAgreement(db, outOfOrder)).toMatchObject({ currentVersion: '4', pendingMigrations: [] });
  });

  test('a failed migration is the current version and failed; repair removes it and it is pending again', async () => {
    const { db, flyway } = await project({
      'V1__a.sql': 'CREATE TABLE a (id int);',
      // CONCURRENTLY runs outside a transaction, so PostgreSQL cannot roll the failure back and Flyway records it.
      'V2__idx.sql': 'CREATE INDEX CONCURRENTLY a_missing_idx ON no_such_table (id);',
    });
    const failed = flyway('migrate');
    expect(failed.code).toBe(1);
    expect(failed.migrations.find((m) => m.version === '2')?.state).toBe('FAILED');
    expect(await expectAgreement(db, failed)).toMatchObject({ currentVersion: '2', failedMigrations: ['2'] });
    const repaired = flyway('repair');
    expect(repaired.code).toBe(0);
    expect(await expectAgreement(db, repaired)).toMatchObject({
      currentVersion: '1',
      failedMigrations: [],
      pendingMigrations: ['2'],
    });
  });

  test('repair of a migration whose file is gone writes a DELETE row that cancels it', async () => {
    const { db, source, flyway } = await project({
      'V1__a.sql': 'CREATE TABLE a (id int);',
      'V2__b.sql': 'CREATE TABLE b (id int);',
      'V3__c.sql': 'CREATE TABLE c (id int);',
    });
    expect(flyway('migrate').code).toBe(0);
    // Missing below a resolved version (the highest one missing would be FUTURE_SUCCESS, which repair keeps).
    rmSync(join(source.dir, 'V2__b.sql'));
    expect(flyway('info').migrations.find((m) => m.version === '2')?.state).toBe('MISSING_SUCCESS');
    const repaired = flyway('repair');
    expect(repaired.migrations.find((m) => m.version === '2')?.state).toBe('DELETED');
    expect(await expectAgreement(db, repaired)).toMatchObject({ currentVersion: '3', appliedCount: 2 });
    // The file back: below the current version without a live row, so IGNORED, which is pending.
    source.write({ 'V2__b.sql': 'CREATE TABLE b2 (id int);' });
    const back = flyway('info');
    expect(back.migrations.find((m) => m.version === '2' && m.state !== 'DELETED')?.state).toBe('IGNORED');
    expect(await expectAgreement(db, back)).toMatchObject({ pendingMigrations: ['2'] });
  });

  test('baseline: versions at or below it are not pending, and the baseline row is no migration', async () => {
    const { db, flyway } = await project(
      {
        'V4__old.sql': 'CREATE TABLE old (id int);',
        'V5__base.sql': 'CREATE TABLE base (id int);',
        'V6__new.sql': 'CREATE TABLE new (id int);',
      },
      ['baselineVersion=5'],
    );
    const baselined = flyway('baseline');
    expect(baselined.code).toBe(0);
    expect(baselined.migrations.map((m) => m.state)).toEqual([
      'BELOW_BASELINE',
      'BASELINE_IGNORED',
      'BASELINE',
      'PENDING',
    ]);
    expect(await expectAgreement(db, baselined)).toMatchObject({
      currentVersion: '5',
      appliedCount: 0,
      pendingMigrations: ['6'],
    });
    expect(await expectAgreement(db, flyway('migrate'))).toMatchObject({ currentVersion: '6', appliedCount: 1 });
  });

  test('a repeatable migration re-run counts once; the schema-creation row is no migration', async () => {
    const { db, source, flyway } = await project(
      { 'V1__a.sql': 'CREATE TABLE a (id int);', 'R__view.sql': 'CREATE OR REPLACE VIEW v AS SELECT 1 AS x;' },
      ['schemas=app'],
    );
    expect(flyway('migrate').code).toBe(0);
    source.write({ 'R__view.sql': 'CREATE OR REPLACE VIEW v AS SELECT 1 AS x, 2 AS y;' });
    const rerun = flyway('migrate');
    expect(rerun.code).toBe(0);
    expect(await expectAgreement(db, rerun, 'app')).toMatchObject({ currentVersion: '1', appliedCount: 2 });
  });
});
