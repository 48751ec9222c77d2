import { rmSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, test } from '@jest/globals';
import { dbwatchStatus, freshDatabase, INSTALL_TIMEOUT_MS, installTool, pgParams, run, scratch } from './real-tools.js';

const SETTINGS = `import os
SECRET_KEY = "test"
INSTALLED_APPS = ["shop"]
USE_TZ = True
DATABASES = {"default": {"ENGINE": "django.db.backends.postgresql", "NAME": os.environ["DB_NAME"],
    "USER": os.environ["DB_USER"], "PASSWORD": os.environ["DB_PASSWORD"], "HOST": os.environ["DB_HOST"],
    "PORT": os.environ["DB_PORT"]}}
`;
const migration = (
  sql: string,
  dependencies: string[] = [],
  replaces: string[] = [],
) => `from django.db import migrations
class Migration(migrations.Migration):
    dependencies = [${dependencies.map((d) => `("shop", "${d}")`).join(', ')}]
    replaces = [${replaces.map((r) => `("shop", "${r}")`).join(', ')}]
    operations = [migrations.RunSQL(${JSON.stringify(sql)})]
`;
const INITIAL = migration('CREATE TABLE a (id int)');
const ORDERS = migration('CREATE TABLE b (id int)', ['0001_initial']);
const SQUASHED = migration('CREATE TABLE a (id int); CREATE TABLE b (id int)', [], ['0001_initial', '0002_orders']);
const SQUASH = 'shop/migrations/0001_squashed_0002_orders.py';

/** Django's own status: `showmigrations shop` ([X] applied, [ ] not; a squash shown once when it stands in). */
describe('Django: dbwatch agrees with showmigrations', () => {
  let python: string;
  const dirs: { remove(): void }[] = [];
  beforeAll(() => {
    python = join(installTool('python').dir, 'venv/bin/python');
  }, INSTALL_TIMEOUT_MS);
  afterAll(() => {
    for (const d of dirs) d.remove();
  });

  async function project(files: Record<string, string>) {
    const db = await freshDatabase();
    const source = scratch({
      'settings.py': SETTINGS,
      'shop/__init__.py': '',
      'shop/migrations/__init__.py': '',
      ...files,
    });
    dirs.push(source);
    const p = pgParams(db);
    const env = {
      DJANGO_SETTINGS_MODULE: 'settings',
      PYTHONPATH: source.dir,
      DB_NAME: p.database,
      DB_USER: p.user,
      DB_PASSWORD: p.password,
      DB_HOST: p.host,
      DB_PORT: String(p.port),
    };
    const django = (...args: string[]) => run(python, ['-m', 'django', ...args], { cwd: source.dir, env });
    return { db, source, django };
  }
  /** showmigrations' lines: name and whether it is applied. */
  const shown = (out: string) =>
    [...out.matchAll(/^ \[([X ])\] (\S+)/gm)].map((m) => ({ name: `shop.${m[2]}`, applied: m[1] === 'X' }));

  async function expectAgreement(db: Awaited<ReturnType<typeof freshDatabase>>, showmigrations: string) {
    const list = shown(showmigrations);
    const status = await dbwatchStatus(db, { tool: 'django', expectedMigrations: list.map((m) => m.name) });
    expect(status.pendingMigrations).toEqual(list.filter((m) => !m.applied).map((m) => m.name));
    expect(status.appliedCount).toBe(list.filter((m) => m.applied).length);
    return status;
  }

  test('partly applied, then a squash replaces both: showmigrations shows the replaced ones until all are applied', async () => {
    const { db, source, django } = await project({
      'shop/migrations/0001_initial.py': INITIAL,
      'shop/migrations/0002_orders.py': ORDERS,
    });
    expect(django('migrate', 'shop', '0001').code).toBe(0);
    source.write({ [SQUASH]: SQUASHED });
    const partly = django('showmigrations', 'shop').stdout;
    expect(shown(partly).map((m) => m.name)).toEqual(['shop.0001_initial', 'shop.0002_orders']);
    expect(await expectAgreement(db, partly)).toMatchObject({ pendingMigrations: ['shop.0002_orders'] });
    // By its squashed name it is not applied either: one of the migrations it replaces is missing.
    const bySquash = await dbwatchStatus(db, {
      tool: 'django',
      expectedMigrations: ['shop.0001_squashed_0002_orders'],
    });
    expect(bySquash.pendingMigrations).toEqual(['shop.0001_squashed_0002_orders']);
    expect(django('migrate').code).toBe(0);
    const done = django('showmigrations', 'shop').stdout;
    expect(shown(done)).toEqual([{ name: 'shop.0001_squashed_0002_orders', applied: true }]);
    expect(await expectAgreement(db, done)).toMatchObject({ appliedCount: 1, pendingMigrations: [] });
  });

  test('a fresh database migrated through the squash: three rows, one migration', async () => {
    const { db, source, django } = await project({
      'shop/migrations/0001_initial.py': INITIAL,
      'shop/migrations/0002_orders.py': ORDERS,
      [SQUASH]: SQUASHED,
    });
    expect(django('migrate').code).toBe(0);
    await expectAgreement(db, django('showmigrations', 'shop').stdout);
    // The squash made final: the replaced files are gone; Django still counts one migration.
    rmSync(join(source.dir, 'shop/migrations/0001_initial.py'));
    rmSync(join(source.dir, 'shop/migrations/0002_orders.py'));
    source.write({
      [SQUASH]: migration('CREATE TABLE a (id int); CREATE TABLE b (id int)'),
      'shop/migrations/0003_audit.py': migration('CREATE TABLE c (id int)', ['0001_squashed_0002_orders']),
    });
    const final = django('showmigrations', 'shop').stdout;
    expect(await expectAgreement(db, final)).toMatchObject({ appliedCount: 1, pendingMigrations: ['shop.0003_audit'] });
  });
});
