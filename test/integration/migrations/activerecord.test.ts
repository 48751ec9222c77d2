import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, test } from '@jest/globals';
import {
  dbwatchStatus,
  freshDatabase,
  hackDir,
  INSTALL_TIMEOUT_MS,
  installTool,
  pgUrl,
  run,
  scratch,
} from './real-tools.js';

/** ActiveRecord finds the class by the file name: 20240101000000_create_a.rb holds CreateA. */
const migration = (version: string, name: string, sql: string) => ({
  [`${version}_${name.replace(/([a-z])([A-Z])/g, '$1_$2').toLowerCase()}.rb`]: `class ${name} < ActiveRecord::Migration[6.1]\n  def up; execute "${sql}"; end\n  def down; end\nend\n`,
});

/**
 * ActiveRecord (Debian's ruby-activerecord) through hack/migrations/activerecord.rb, whose `status` prints what
 * `rails db:migrate:status` prints: "up|down VERSION NAME" per migration, then the current version.
 */
describe('ActiveRecord: dbwatch agrees with db:migrate:status', () => {
  const dirs: { remove(): void }[] = [];
  beforeAll(() => {
    installTool('activerecord');
  }, INSTALL_TIMEOUT_MS);
  afterAll(() => {
    for (const d of dirs) d.remove();
  });

  async function project(files: Record<string, string>) {
    const db = await freshDatabase();
    const source = scratch(files);
    dirs.push(source);
    const rails = (...args: string[]) =>
      run('ruby', [join(hackDir, 'migrations/activerecord.rb'), source.dir, ...args], {
        env: { DATABASE_URL: pgUrl(db) },
      });
    return { db, source, rails };
  }
  const statusOf = (out: string) => ({
    down: [...out.matchAll(/^down (\d+) /gm)].map((m) => m[1]),
    all: [...out.matchAll(/^(?:up|down) (\d+) /gm)].map((m) => m[1] as string),
    current: /^current (\d+)/m.exec(out)?.[1],
  });

  async function expectAgreement(db: Awaited<ReturnType<typeof freshDatabase>>, out: string) {
    const tool = statusOf(out);
    const status = await dbwatchStatus(db, { tool: 'rails', expectedMigrations: tool.all });
    expect(status).toMatchObject({
      currentVersion: tool.current,
      pendingMigrations: tool.down,
      appliedCount: tool.all.length - tool.down.length,
      failedMigrations: [],
    });
    return status;
  }

  test('an older migration added after a newer one ran is pending; migrate then runs it', async () => {
    const { db, source, rails } = await project({
      ...migration('20240101000000', 'CreateA', 'CREATE TABLE a (id int)'),
      ...migration('20240301000000', 'CreateC', 'CREATE TABLE c (id int)'),
    });
    expect(rails('migrate').code).toBe(0);
    source.write(migration('20240201000000', 'CreateB', 'CREATE TABLE b (id int)'));
    const before = rails('status').stdout;
    expect(statusOf(before).down).toEqual(['20240201000000']);
    expect(await expectAgreement(db, before)).toMatchObject({ currentVersion: '20240301000000' });
    const byVersion = await dbwatchStatus(db, { tool: 'rails', expectedVersion: '20240301000000' });
    expect(byVersion.pendingMigrations).toEqual([]);
    expect(byVersion.unknownReason).toMatch(/Rails runs every migration it has no row for/);
    expect(rails('migrate').code).toBe(0);
    expect(await expectAgreement(db, rails('status').stdout)).toMatchObject({ pendingMigrations: [] });
  });

  test('a failing migration rolls back and leaves no row: pending, as status shows it', async () => {
    const { db, rails } = await project({
      ...migration('20240101000000', 'CreateA', 'CREATE TABLE a (id int)'),
      ...migration('20240201000000', 'Broken', 'SELECT no_such_fn()'),
    });
    expect(rails('migrate').code).not.toBe(0);
    expect(await expectAgreement(db, rails('status').stdout)).toMatchObject({ pendingMigrations: ['20240201000000'] });
  });

  test('a migration run down is pending again', async () => {
    const { db, rails } = await project({
      ...migration('20240101000000', 'CreateA', 'CREATE TABLE a (id int)'),
      ...migration('20240201000000', 'CreateB', 'CREATE TABLE b (id int)'),
    });
    expect(rails('migrate').code).toBe(0);
    expect(rails('down', '20240101000000').code).toBe(0);
    expect(await expectAgreement(db, rails('status').stdout)).toMatchObject({
      currentVersion: '20240201000000',
      pendingMigrations: ['20240101000000'],
    });
  });
});
