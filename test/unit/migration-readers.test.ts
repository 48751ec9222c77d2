import { describe, expect, test } from '@jest/globals';
import { databaseMonitorSpecSchema, type MigrationStatus, type MigrationsCheck } from '../../src/api/index.js';
import { assessMigrations } from '../../src/checks/migrations/assess.js';
import { customReader, migrationReaders } from '../../src/checks/migrations/tools.js';
import { nextMonitorStatus } from '../../src/controller/monitor/status.js';

type Row = Record<string, unknown>;
type Tool = keyof typeof migrationReaders;

/** dbwatch's answer for rows as the tool wrote them, against an expectation. */
const status = (tool: Tool, rows: Row[], expected: Partial<MigrationsCheck> = {}): MigrationStatus =>
  assessMigrations(tool, migrationReaders[tool].table, migrationReaders[tool].read(rows), expected);

const flyway = (rank: number, version: string | null, type: string, success = true, description = 'd') => ({
  installed_rank: rank,
  version,
  description,
  type,
  script: version ? `V${version}__${description}.sql` : `R__${description}.sql`,
  success,
});

describe('Flyway follows flyway info', () => {
  test('a failed row is the current version, failed and not pending', () => {
    const s = status('flyway', [flyway(1, '1', 'SQL'), flyway(2, '2', 'SQL', false)], { expectedVersion: '2' });
    expect(s).toMatchObject({ currentVersion: '2', appliedCount: 1, failedMigrations: ['2'], pendingMigrations: [] });
  });

  test('a version below the current one without a row is pending (IGNORED), not reached', () => {
    const rows = [flyway(1, '1', 'SQL'), flyway(2, '3', 'SQL')];
    expect(status('flyway', rows, { expectedMigrations: ['1', '2', '3'] }).pendingMigrations).toEqual(['2']);
    expect(status('flyway', rows, { expectedVersion: '2' }).pendingMigrations).toEqual(['2']);
    expect(status('flyway', rows, { expectedVersion: '3' })).toMatchObject({ pendingMigrations: [] });
  });

  test('an out-of-order row counts as applied', () => {
    const rows = [flyway(1, '1', 'SQL'), flyway(2, '3', 'SQL'), flyway(3, '2', 'SQL')];
    expect(status('flyway', rows, { expectedMigrations: ['1', '2', '3'] })).toMatchObject({
      currentVersion: '3',
      appliedCount: 3,
      pendingMigrations: [],
    });
  });

  test('a DELETE row from repair cancels the earlier row of its version', () => {
    const rows = [flyway(1, '1', 'SQL'), flyway(2, '2', 'SQL'), flyway(3, '2', 'DELETE')];
    expect(status('flyway', rows, { expectedVersion: '2' })).toMatchObject({
      currentVersion: '1',
      appliedCount: 1,
      pendingMigrations: ['2'],
    });
  });

  test('versions at or below the baseline are applied; the baseline row is no migration', () => {
    const rows = [flyway(1, '5', 'BASELINE'), flyway(2, '6', 'SQL')];
    expect(status('flyway', rows, { expectedMigrations: ['4', '5', '6', '7'] })).toMatchObject({
      currentVersion: '6',
      appliedCount: 1,
      pendingMigrations: ['7'],
    });
  });

  test('a repeatable migration counts once however often it re-ran; the schema-creation row not at all', () => {
    const rows = [flyway(1, '0', 'SCHEMA'), flyway(2, '1', 'SQL'), flyway(3, null, 'SQL'), flyway(4, null, 'SQL')];
    expect(status('flyway', rows)).toMatchObject({ currentVersion: '1', appliedCount: 2 });
  });
});

describe('tools that run any missing older migration', () => {
  test.each([
    ['rails', [{ version: '20240101000000' }, { version: '20240301000000' }], '20240301000000'],
    ['efcore', [{ migrationid: '20240101_Init' }, { migrationid: '20240301_Audit' }], '20240301_Audit'],
    [
      'knex',
      [
        { id: 1, name: '20240101_init.js' },
        { id: 2, name: '20240301_audit.js' },
      ],
      '20240301_audit.js',
    ],
  ] as [Tool, Row[], string][])('%s: a reached expectedVersion is unknown, a missing one pending', (tool, rows, v) => {
    const reached = status(tool, rows, { expectedVersion: v });
    expect(reached.pendingMigrations).toEqual([]);
    expect(reached.unknownReason).toMatch(/runs every migration it has no row for/);
    expect(status(tool, rows, { expectedVersion: '20250101000000_Later' }).pendingMigrations).toEqual([
      '20250101000000_Later',
    ]);
  });

  test('rails: an older migration without a row is pending even though a newer one ran', () => {
    const rows = [{ version: '20240101000000' }, { version: '20240301000000' }];
    const s = status('rails', rows, { expectedMigrations: ['20240101000000', '20240201000000_add_orders.rb'] });
    expect(s).toMatchObject({ currentVersion: '20240301000000', pendingMigrations: ['20240201000000_add_orders.rb'] });
    expect(s.unknownReason).toBeUndefined();
  });

  test('knex: current version is the highest name timestamp, bare, not the last row', () => {
    const rows = [
      { id: 1, name: '20240301000000_audit.js' },
      { id: 2, name: '20240101000000_init.js' },
    ];
    const s = status('knex', rows, { expectedMigrations: ['20240101000000', '20240201000000_orders.js'] });
    expect(s).toMatchObject({ currentVersion: '20240301000000', pendingMigrations: ['20240201000000_orders.js'] });
  });
});

describe('golang-migrate', () => {
  test('dirty: the version failed, every version before it completed', () => {
    const s = status('golang-migrate', [{ version: 3, dirty: true }], { expectedMigrations: ['1', '2', '3', '4'] });
    expect(s).toMatchObject({ currentVersion: '3', failedMigrations: ['3'], pendingMigrations: ['4'] });
  });

  test('one row cannot count the migrations that led to it', () => {
    expect(status('golang-migrate', [{ version: 3, dirty: false }]).appliedCount).toBeUndefined();
    expect(status('golang-migrate', []).appliedCount).toBe(0);
  });
});

describe('Alembic', () => {
  test('a head is applied; anything else is unknown with the reason, not pending', () => {
    const rows = [{ version_num: 'b2' }, { version_num: 'c3' }];
    const s = status('alembic', rows, { expectedMigrations: ['a1', 'b2', 'c3'] });
    expect(s).toMatchObject({ currentVersion: 'b2,c3', pendingMigrations: [] });
    expect(s.unknownReason).toMatch(/cannot tell whether a1 applied: alembic_version holds only the heads \(b2, c3\)/);
    expect(s.appliedCount).toBeUndefined();
  });

  test('the reason names a few undecided revisions and counts the rest', () => {
    const many = Array.from({ length: 12 }, (_, i) => `r${i}`);
    const s = status('alembic', [{ version_num: 'head' }], { expectedMigrations: many });
    expect(s.unknownReason).toMatch(/^cannot tell whether r0, r1, r2, r3, r4 and 7 more applied: /);
  });

  test('an empty table has applied nothing: every expected revision is pending', () => {
    expect(status('alembic', [], { expectedVersion: 'a1' })).toMatchObject({
      appliedCount: 0,
      pendingMigrations: ['a1'],
    });
  });
});

describe('Django', () => {
  const rows = [
    { id: 1, app: 'shop', name: '0001_initial' },
    { id: 2, app: 'shop', name: '0002_orders' },
    { id: 3, app: 'shop', name: '0001_squashed_0002_orders' },
    { id: 4, app: 'shop', name: '0003_audit' },
  ];

  test('a squashed migration and those it replaces count once', () => {
    expect(status('django', rows)).toMatchObject({ appliedCount: 2, currentVersion: 'shop.0003_audit' });
  });

  test('a squashed migration is applied when all it replaces are, even without its own row', () => {
    const old = rows.filter((r) => r.id !== 3);
    expect(
      status('django', old, { expectedMigrations: ['shop.0001_squashed_0002_orders', 'shop.0004_x'] })
        .pendingMigrations,
    ).toEqual(['shop.0004_x']);
    expect(
      status('django', old.slice(0, 1), { expectedMigrations: ['shop.0001_squashed_0002_orders'] }).pendingMigrations,
    ).toEqual(['shop.0001_squashed_0002_orders']);
  });
});

describe('Liquibase, Prisma, custom', () => {
  test('Liquibase: a FAILED changeset runs again, so it is failed and pending; ids match in any of its forms', () => {
    const rows = [
      { id: 'users', author: 'ann', filename: 'db.xml', orderexecuted: 1, exectype: 'EXECUTED' },
      { id: 'index', author: 'bob', filename: 'db.xml', orderexecuted: 2, exectype: 'FAILED' },
    ];
    const s = status('liquibase', rows, { expectedMigrations: ['db.xml::users::ann', 'index::bob'] });
    expect(s).toMatchObject({ currentVersion: 'users', appliedCount: 1, failedMigrations: ['index'] });
    expect(s.pendingMigrations).toEqual(['index::bob']);
  });

  test('Prisma: a rolled-back migration is neither applied nor failed', () => {
    const rows = [
      { migration_name: '1_init', finished_at: new Date(), rolled_back_at: null },
      { migration_name: '2_orders', finished_at: null, rolled_back_at: new Date() },
    ];
    expect(status('prisma', rows, { expectedMigrations: ['1_init', '2_orders'] })).toMatchObject({
      failedMigrations: [],
      pendingMigrations: ['2_orders'],
    });
  });

  test('custom: ordered versions, the highest reached counts for the ones below', () => {
    const reader = customReader('v', 'release');
    const s = assessMigrations('custom', 'v', reader.read([{ release: '2.9' }, { release: '2.10' }]), {
      expectedMigrations: ['2.1', '2.10', '3.0'],
    });
    expect(s).toMatchObject({ currentVersion: '2.10', pendingMigrations: ['3.0'] });
  });
});

describe('MigrationsApplied', () => {
  const conditionFor = (migrationStatus: MigrationStatus) =>
    nextMonitorStatus({
      previous: undefined,
      observation: {
        kind: 'Checked',
        at: new Date('2026-01-01T00:00:00Z'),
        unwrittenChecks: 0,
        report: {
          health: {
            status: 'healthy',
            connection: true,
            queryTest: true,
            reasons: [],
            timestamp: '2026-01-01T00:00:00Z',
            migrationStatus,
          },
          alerts: [],
          durations: {},
        },
        spec: databaseMonitorSpecSchema.parse({ engine: 'postgres', connection: { secretRef: { name: 'db' } } }),
      },
      generation: 1,
      now: new Date('2026-01-01T00:00:00Z'),
    }).status.conditions?.find((c) => c.type === 'MigrationsApplied');

  test('is Unknown, not False, when the table cannot decide', () => {
    const s = status('alembic', [{ version_num: 'b2' }], { expectedVersion: 'a1' });
    expect(conditionFor(s)).toMatchObject({ status: 'Unknown', reason: 'MigrationStateUnknown' });
  });

  test('is False for a known pending migration even when another is unknown', () => {
    const s = status('rails', [{ version: '1' }], { expectedMigrations: ['1', '2'] });
    expect(conditionFor({ ...s, unknownReason: 'x' })).toMatchObject({ status: 'False', reason: 'MigrationsPending' });
  });
});
