import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, test } from '@jest/globals';
import { dbwatchStatus, freshDatabase, INSTALL_TIMEOUT_MS, installTool, pgUrl, run, scratch } from './real-tools.js';

/** golang-migrate's own status is `migrate version` ("3" or "3 (dirty)"); `migrate up` then runs what is pending. */
describe('golang-migrate: dbwatch agrees with the real tool', () => {
  let migrate: string;
  const dirs: { remove(): void }[] = [];
  beforeAll(() => {
    migrate = join(installTool('golang-migrate').dir, 'migrate');
  }, INSTALL_TIMEOUT_MS);
  afterAll(() => {
    for (const d of dirs) d.remove();
  });

  const files = (versions: number[], failing?: number) =>
    Object.fromEntries(
      versions.flatMap((v) => [
        [
          `${v}_t${v}.up.sql`,
          v === failing ? `CREATE TABLE t${v}(id int); SELECT no_such_fn();` : `CREATE TABLE t${v}(id int);`,
        ],
        [`${v}_t${v}.down.sql`, `DROP TABLE t${v};`],
      ]),
    );

  async function history(versions: number[], failing?: number) {
    const db = await freshDatabase();
    const source = scratch(files(versions, failing));
    dirs.push(source);
    const tool = (...args: string[]) =>
      run(migrate, ['-path', source.dir, '-database', pgUrl(db, '?sslmode=disable'), ...args]);
    return { db, source, tool };
  }
  const versionOf = (r: { stdout: string; stderr: string }) => `${r.stdout}${r.stderr}`.trim().split('\n').at(-1);
  /** The migrations `migrate up` runs now, in its own words ("3/u t3 (5ms)"). */
  const upRuns = (r: { stdout: string; stderr: string }) =>
    [...`${r.stdout}${r.stderr}`.matchAll(/^(\d+)\/u /gm)].map((m) => m[1]);

  test('applied and pending: version 2 of 3; up then runs exactly the pending one', async () => {
    const { db, tool } = await history([1, 2, 3]);
    expect(tool('up', '2').code).toBe(0);
    expect(versionOf(tool('version'))).toBe('2');
    const status = await dbwatchStatus(db, { tool: 'golang-migrate', expectedMigrations: ['1', '2', '3'] });
    expect(status).toMatchObject({ currentVersion: '2', pendingMigrations: ['3'], failedMigrations: [] });
    expect(status.appliedCount).toBeUndefined();
    expect(upRuns(tool('up'))).toEqual(status.pendingMigrations);
  });

  test('dirty: the failed version is current and failed, the ones before it applied, nothing pending', async () => {
    const { db, tool } = await history([1, 2, 3], 3);
    expect(tool('up').code).not.toBe(0);
    expect(versionOf(tool('version'))).toBe('3 (dirty)');
    const status = await dbwatchStatus(db, { tool: 'golang-migrate', expectedMigrations: ['1', '2', '3'] });
    expect(status).toMatchObject({ currentVersion: '3', failedMigrations: ['3'], pendingMigrations: [] });
    // The tool agrees nothing can run: it refuses until forced.
    expect(versionOf(tool('up'))).toMatch(/Dirty database version 3/);
  });

  test('forced back to 2 after a dirty 3: clean, 3 pending again', async () => {
    const { db, tool, source } = await history([1, 2, 3], 3);
    tool('up');
    expect(tool('force', '2').code).toBe(0);
    expect(versionOf(tool('version'))).toBe('2');
    const status = await dbwatchStatus(db, { tool: 'golang-migrate', expectedVersion: '3' });
    expect(status).toMatchObject({ currentVersion: '2', failedMigrations: [], pendingMigrations: ['3'] });
    source.write(files([3]));
    expect(upRuns(tool('up'))).toEqual(['3']);
  });

  test('out of order: a file below the current version is never run, so it is not pending', async () => {
    const { db, tool, source } = await history([1, 3]);
    expect(tool('up').code).toBe(0);
    source.write(files([2]));
    const status = await dbwatchStatus(db, { tool: 'golang-migrate', expectedMigrations: ['1', '2', '3'] });
    expect(status).toMatchObject({ currentVersion: '3', pendingMigrations: [] });
    const up = tool('up');
    expect(upRuns(up)).toEqual([]);
    expect(versionOf(up)).toBe('no change');
  });

  test('nothing applied: every expected version pending, zero applied', async () => {
    const { db, tool } = await history([1]);
    expect(tool('up', '1').code).toBe(0);
    expect(tool('down', '-all').code).toBe(0);
    expect(versionOf(tool('version'))).toMatch(/no migration/);
    const status = await dbwatchStatus(db, { tool: 'golang-migrate', expectedVersion: '1' });
    expect(status).toMatchObject({ appliedCount: 0, pendingMigrations: ['1'], failedMigrations: [] });
    expect(status.currentVersion).toBeUndefined();
  });
});
