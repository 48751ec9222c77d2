import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, test } from '@jest/globals';
import type { MigrationStatus } from '../../../src/api/index.js';
import { dbwatchStatus, freshDatabase, INSTALL_TIMEOUT_MS, installTool, pgUrl, run, scratch } from './real-tools.js';

const ENV_PY = `import logging, os
from alembic import context
from sqlalchemy import create_engine

logging.basicConfig(level=logging.INFO)  # "Running upgrade a1 -> b2" is how the test learns what ran
with create_engine(os.environ["DB_URL"]).connect() as connection:
    context.configure(connection=connection, target_metadata=None)
    with context.begin_transaction():
        context.run_migrations()
`;
const revision = (id: string, down: string | string[] | null) => `revision = "${id}"
down_revision = ${down === null ? 'None' : Array.isArray(down) ? `(${down.map((d) => `"${d}"`).join(', ')})` : `"${down}"`}
branch_labels = None
depends_on = None
from alembic import op
def upgrade():
    op.execute("CREATE TABLE t_${id} (id int)")
def downgrade():
    op.execute("DROP TABLE t_${id}")
`;

/**
 * Alembic's own status: `alembic current` (the heads in the database) and, for pending, what `alembic upgrade
 * heads` then runs. The table holds only heads, so dbwatch must never call applied what Alembic would run, nor
 * pending what Alembic considers applied: where it cannot know, it says unknown.
 */
describe('Alembic: dbwatch agrees with the real tool', () => {
  let alembicBin: string;
  const dirs: { remove(): void }[] = [];
  beforeAll(() => {
    alembicBin = join(installTool('python').dir, 'venv/bin/alembic');
  }, INSTALL_TIMEOUT_MS);
  afterAll(() => {
    for (const d of dirs) d.remove();
  });

  async function project(revisions: Record<string, string | string[] | null>) {
    const db = await freshDatabase();
    const files: Record<string, string> = {
      'alembic.ini': '[alembic]\nscript_location = migrations\n',
      'migrations/env.py': ENV_PY,
    };
    for (const [id, down] of Object.entries(revisions)) files[`migrations/versions/${id}.py`] = revision(id, down);
    const source = scratch(files);
    dirs.push(source);
    const alembic = (...args: string[]) => {
      const r = run(alembicBin, args, {
        cwd: source.dir,
        env: { DB_URL: pgUrl(db).replace(/^postgres:/, 'postgresql+psycopg2:') },
      });
      if (r.code !== 0) throw new Error(`alembic ${args.join(' ')}: ${r.stderr}`);
      return r;
    };
    return { db, alembic, all: Object.keys(revisions) };
  }
  /** The heads `alembic current` prints, e.g. "b2 (head)". */
  const currentOf = (out: string) =>
    out
      .split('\n')
      .map((l) => l.split(' ')[0])
      .filter(Boolean)
      .sort();
  /** The revisions `alembic upgrade heads` runs, from its log. */
  const upgraded = (stderr: string) => [...stderr.matchAll(/Running upgrade .*-> (\w+)/g)].map((m) => m[1]);

  /** Compares dbwatch with `alembic current` now and with what `alembic upgrade heads` runs next. */
  async function expectAgreement(p: Awaited<ReturnType<typeof project>>): Promise<MigrationStatus> {
    const heads = currentOf(p.alembic('current').stdout);
    const status = await dbwatchStatus(p.db, { tool: 'alembic', expectedMigrations: p.all });
    expect(status.currentVersion?.split(',') ?? []).toEqual(heads);
    const pendingByTool = upgraded(p.alembic('upgrade', 'heads').stderr);
    // Never a false "pending": each one dbwatch calls pending, Alembic ran.
    for (const rev of status.pendingMigrations) expect(pendingByTool).toContain(rev);
    // Never a false "applied": the revisions dbwatch saw applied (the heads) Alembic did not run.
    for (const rev of heads) expect(pendingByTool).not.toContain(rev);
    // Everything else is unknown, with the reason, not guessed.
    const undecided = p.all.filter((r) => !heads.includes(r) && !status.pendingMigrations.includes(r));
    if (undecided.length > 0) expect(status.unknownReason).toMatch(/alembic_version holds only the heads/);
    else expect(status.unknownReason).toBeUndefined();
    return status;
  }

  test('linear history part-way: the head is applied, its ancestor and the next revision unknown', async () => {
    const p = await project({ a1: null, b2: 'a1', c3: 'b2' });
    p.alembic('upgrade', 'b2');
    const status = await expectAgreement(p);
    expect(status).toMatchObject({ currentVersion: 'b2', pendingMigrations: [] });
    expect(status.unknownReason).toMatch(/cannot tell whether a1, c3 applied/);
    expect(status.appliedCount).toBeUndefined();
  });

  test('expectedVersion equal to the head is fully known: Alembic applies a revision only after its ancestors', async () => {
    const p = await project({ a1: null, b2: 'a1' });
    p.alembic('upgrade', 'heads');
    const status = await dbwatchStatus(p.db, { tool: 'alembic', expectedVersion: 'b2' });
    expect(status).toMatchObject({ currentVersion: 'b2', pendingMigrations: [] });
    expect(status.unknownReason).toBeUndefined();
  });

  test('two branches applied: both heads are current; a merge makes one head again', async () => {
    const p = await project({ a1: null, b2: 'a1', c3: 'a1' });
    p.alembic('upgrade', 'heads');
    expect(await expectAgreement(p)).toMatchObject({ currentVersion: 'b2,c3' });
    const merged = await project({ a1: null, b2: 'a1', c3: 'a1', d4: ['b2', 'c3'] });
    merged.alembic('upgrade', 'b2');
    merged.alembic('upgrade', 'c3');
    expect((await dbwatchStatus(merged.db, { tool: 'alembic' })).currentVersion).toBe('b2,c3');
    merged.alembic('upgrade', 'heads');
    expect(await expectAgreement(merged)).toMatchObject({ currentVersion: 'd4' });
  });

  test('downgraded to base: the table is empty, so every revision is pending, as Alembic then runs them all', async () => {
    const p = await project({ a1: null, b2: 'a1' });
    p.alembic('upgrade', 'heads');
    p.alembic('downgrade', 'base');
    const status = await expectAgreement(p);
    expect(status).toMatchObject({ appliedCount: 0, pendingMigrations: ['a1', 'b2'] });
    expect(status.currentVersion).toBeUndefined();
  });
});
