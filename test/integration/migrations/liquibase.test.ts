import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, jest, test } from '@jest/globals';
import { dbwatchStatus, freshDatabase, INSTALL_TIMEOUT_MS, installTool, pgParams, run, scratch } from './real-tools.js';

const changelog = (changeSets: string) => `<databaseChangeLog xmlns="http://www.liquibase.org/xml/ns/dbchangelog"
  xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance"
  xsi:schemaLocation="http://www.liquibase.org/xml/ns/dbchangelog http://www.liquibase.org/xml/ns/dbchangelog/dbchangelog-latest.xsd">
${changeSets}
</databaseChangeLog>
`;
const sqlSet = (id: string, sql: string, attrs = '') =>
  `  <changeSet id="${id}" author="ann"${attrs}><sql>${sql}</sql></changeSet>`;
const key = (id: string) => `changelog.xml::${id}::ann`;

// Each tool command starts a JVM (1-7 s on 2 shared cores); a test runs several.
jest.setTimeout(240_000);

/** Liquibase's own status: `status --verbose` lists every changeset it would run, as filename::id::author. */
describe('Liquibase: dbwatch agrees with liquibase status', () => {
  let lib: string;
  const dirs: { remove(): void }[] = [];
  beforeAll(() => {
    lib = join(installTool('liquibase').dir, 'lib');
  }, INSTALL_TIMEOUT_MS);
  afterAll(() => {
    for (const d of dirs) d.remove();
  });

  async function project(sets: string[]) {
    const db = await freshDatabase();
    const source = scratch({ 'changelog.xml': changelog(sets.join('\n')) });
    dirs.push(source);
    const p = pgParams(db);
    const liquibase = (...args: string[]) =>
      run('java', [
        '-cp',
        `${lib}/*`,
        'liquibase.integration.commandline.LiquibaseCommandLine',
        `--url=jdbc:postgresql://${p.host}:${p.port}/${p.database}`,
        `--username=${p.user}`,
        `--password=${p.password}`,
        '--changelog-file=changelog.xml',
        `--search-path=${source.dir}`,
        '--show-banner=false',
        ...args,
      ]);
    const rewrite = (more: string[]) => source.write({ 'changelog.xml': changelog(more.join('\n')) });
    return { db, liquibase, rewrite };
  }
  /** The changesets `status --verbose` says have not been applied. */
  const notApplied = (out: string) => [...out.matchAll(/^\s+(\S+::\S+::\S+)\s*$/gm)].map((m) => m[1]).sort();

  async function expectAgreement(db: Awaited<ReturnType<typeof freshDatabase>>, status: string, ids: string[]) {
    const answer = await dbwatchStatus(db, { tool: 'liquibase', expectedMigrations: ids.map(key) });
    expect([...answer.pendingMigrations].sort()).toEqual(notApplied(status));
    return answer;
  }

  test('a changeset that failed with failOnError=false leaves no row: pending, as status lists it', async () => {
    const sets = [
      sqlSet('users', 'CREATE TABLE users (id int)'),
      sqlSet('broken', 'SELECT no_such_fn()', ' failOnError="false"'),
      sqlSet('seed', 'CREATE TABLE seed (id int)'),
    ];
    const { db, liquibase } = await project(sets);
    expect(liquibase('update').code).toBe(0);
    const status = liquibase('status', '--verbose').stdout;
    expect(notApplied(status)).toEqual([key('broken')]);
    const answer = await expectAgreement(db, status, ['users', 'broken', 'seed']);
    expect(answer).toMatchObject({ currentVersion: 'seed', appliedCount: 2, failedMigrations: [] });
  });

  test('MARK_RAN by a precondition and RERAN by runOnChange count as applied, once each', async () => {
    const marked = `  <changeSet id="marked" author="ann"><preConditions onFail="MARK_RAN"><tableExists tableName="nope"/></preConditions><sql>SELECT 1</sql></changeSet>`;
    const { db, liquibase, rewrite } = await project([
      sqlSet('view', 'CREATE OR REPLACE VIEW v AS SELECT 1 AS x', ' runOnChange="true"'),
      marked,
    ]);
    expect(liquibase('update').code).toBe(0);
    rewrite([sqlSet('view', 'CREATE OR REPLACE VIEW v AS SELECT 1 AS x, 2 AS y', ' runOnChange="true"'), marked]);
    expect(liquibase('update').code).toBe(0);
    const answer = await expectAgreement(db, liquibase('status', '--verbose').stdout, ['view', 'marked']);
    expect(answer).toMatchObject({ appliedCount: 2, pendingMigrations: [] });
  });

  test('a changeset inserted before applied ones is pending; expectedVersion alone is unknown', async () => {
    const first = sqlSet('users', 'CREATE TABLE users (id int)');
    const last = sqlSet('seed', 'CREATE TABLE seed (id int)');
    const { db, liquibase, rewrite } = await project([first, last]);
    expect(liquibase('update').code).toBe(0);
    rewrite([first, sqlSet('orders', 'CREATE TABLE orders (id int)'), last]);
    const status = liquibase('status', '--verbose').stdout;
    expect(notApplied(status)).toEqual([key('orders')]);
    await expectAgreement(db, status, ['users', 'orders', 'seed']);
    const byVersion = await dbwatchStatus(db, { tool: 'liquibase', expectedVersion: 'seed' });
    expect(byVersion.pendingMigrations).toEqual([]);
    expect(byVersion.unknownReason).toMatch(/Liquibase runs every migration it has no row for/);
  });

  test('a failing update stops and records nothing for the failed changeset; rollback makes one pending again', async () => {
    const { db, liquibase, rewrite } = await project([
      sqlSet('users', 'CREATE TABLE users (id int)'),
      `  <changeSet id="orders" author="ann"><sql>CREATE TABLE orders (id int)</sql><rollback>DROP TABLE orders</rollback></changeSet>`,
      sqlSet('broken', 'SELECT no_such_fn()'),
    ]);
    expect(liquibase('update').code).not.toBe(0);
    await expectAgreement(db, liquibase('status', '--verbose').stdout, ['users', 'orders', 'broken']);
    rewrite([
      sqlSet('users', 'CREATE TABLE users (id int)'),
      `  <changeSet id="orders" author="ann"><sql>CREATE TABLE orders (id int)</sql><rollback>DROP TABLE orders</rollback></changeSet>`,
    ]);
    expect(liquibase('rollback-count', '--count=1').code).toBe(0);
    const answer = await expectAgreement(db, liquibase('status', '--verbose').stdout, ['users', 'orders']);
    expect(answer).toMatchObject({ currentVersion: 'users', pendingMigrations: [key('orders')] });
  });
});
