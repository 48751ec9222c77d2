import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, test } from '@jest/globals';
import { dbwatchStatus, freshDatabase, INSTALL_TIMEOUT_MS, installTool, pgUrl, run, scratch } from './real-tools.js';

const migration = (sql: string) =>
  `exports.up = (knex) => knex.raw(${JSON.stringify(sql)});\nexports.down = () => {};\n`;
const KNEXFILE = `module.exports = { client: 'pg', connection: process.env.DB_URL, migrations: { directory: './migrations' } };\n`;

/** knex's own status: `migrate:list` (completed and pending files) and `migrate:currentVersion`. */
describe('knex: dbwatch agrees with the real tool', () => {
  let cli: string;
  let nodeModules: string;
  const dirs: { remove(): void }[] = [];
  beforeAll(() => {
    const { dir } = installTool('knex');
    nodeModules = join(dir, 'node_modules');
    cli = join(nodeModules, 'knex/bin/cli.js');
  }, INSTALL_TIMEOUT_MS);
  afterAll(() => {
    for (const d of dirs) d.remove();
  });

  async function project(files: Record<string, string>) {
    const db = await freshDatabase();
    const source = scratch({ 'knexfile.cjs': KNEXFILE, ...files });
    dirs.push(source);
    const knex = (...args: string[]) =>
      run('node', [cli, '--knexfile', 'knexfile.cjs', ...args], {
        cwd: source.dir,
        env: { DB_URL: pgUrl(db), NODE_PATH: nodeModules },
      });
    return { db, source, knex };
  }
  /** The names `migrate:list` prints under "Pending". */
  const pendingOf = (out: string) =>
    out
      .split(/Found \d+ Pending Migration file\/files\.\n/)[1]
      ?.trim()
      .split('\n')
      .filter(Boolean) ?? [];
  const all = ['20240101000000_init.js', '20240201000000_orders.js', '20240301000000_audit.js'];

  test('an older migration added after a newer one ran is pending; current is the highest timestamp, bare', async () => {
    const { db, source, knex } = await project({
      'migrations/20240101000000_init.js': migration('CREATE TABLE a (id int)'),
      'migrations/20240301000000_audit.js': migration('CREATE TABLE c (id int)'),
    });
    expect(knex('migrate:latest').code).toBe(0);
    source.write({ 'migrations/20240201000000_orders.js': migration('CREATE TABLE b (id int)') });
    const list = knex('migrate:list').stdout;
    const current = /Current Version: (\S+)/.exec(knex('migrate:currentVersion').stdout)?.[1];
    const status = await dbwatchStatus(db, { tool: 'knex', expectedMigrations: all });
    expect(status).toMatchObject({ currentVersion: current, appliedCount: 2, failedMigrations: [] });
    expect(status.pendingMigrations).toEqual(pendingOf(list));
    expect(status.pendingMigrations).toEqual(['20240201000000_orders.js']);
    // expectedVersion alone cannot see the older gap: unknown, not "nothing pending".
    const byVersion = await dbwatchStatus(db, { tool: 'knex', expectedVersion: '20240301000000' });
    expect(byVersion.pendingMigrations).toEqual([]);
    expect(byVersion.unknownReason).toMatch(/knex runs every migration it has no row for/);
    expect(knex('migrate:latest').stdout).toMatch(/Batch 2 run: 1 migrations/);
    expect(await dbwatchStatus(db, { tool: 'knex', expectedMigrations: all })).toMatchObject({
      pendingMigrations: [],
      appliedCount: 3,
    });
  });

  test('a failing migration rolls back its whole batch and leaves no row: pending, not failed, as knex lists it', async () => {
    const { db, knex } = await project({
      'migrations/20240101000000_init.js': migration('CREATE TABLE a (id int)'),
      'migrations/20240201000000_orders.js': migration('SELECT no_such_fn()'),
    });
    expect(knex('migrate:latest').code).not.toBe(0);
    const status = await dbwatchStatus(db, { tool: 'knex', expectedMigrations: all.slice(0, 2) });
    expect(status.failedMigrations).toEqual([]);
    expect(status.pendingMigrations).toEqual(pendingOf(knex('migrate:list').stdout));
    // One transaction per batch: the migration before the failing one is rolled back with it.
    expect(status.pendingMigrations).toEqual(all.slice(0, 2));
  });

  test('a rolled-back batch is pending again', async () => {
    const { db, knex } = await project({
      'migrations/20240101000000_init.js': migration('CREATE TABLE a (id int)'),
      'migrations/20240201000000_orders.js': migration('CREATE TABLE b (id int)'),
    });
    expect(knex('migrate:up').code).toBe(0);
    expect(knex('migrate:up').code).toBe(0);
    expect(knex('migrate:rollback').code).toBe(0);
    const status = await dbwatchStatus(db, { tool: 'knex', expectedMigrations: all.slice(0, 2) });
    expect(status.pendingMigrations).toEqual(pendingOf(knex('migrate:list').stdout));
    expect(status).toMatchObject({ currentVersion: '20240101000000', appliedCount: 1 });
  });
});
