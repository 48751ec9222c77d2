import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, test } from '@jest/globals';
import { dump } from 'js-yaml';
import { type CliOutput, cliOutputSchema } from '../../../src/api/index.js';
import { checkCommand, summaryCommand } from '../../../src/cli/check-command.js';
import { summaryClusterCommand } from '../../../src/cli/summary-cluster-command.js';
import { adminKubeconfigPath, ensureCrds, freshNamespace, kubectl } from '../../support/kube.js';
import { eventually, startTestOperator, type TestOperator } from '../../support/operator.js';
import { asOwner, createDatabase, FLYWAY_TABLE_SQL, secretData } from '../../support/pg-fixtures.js';
import { getMonitor, getPrerequisite } from '../../support/resources.js';

/**
 * The same objects give the same answer in all three views: `dbwatch check -f`, `dbwatch summary -f` (both run the
 * checks from the files) and `dbwatch summary --cluster` (what the operator wrote after running them) — the same
 * overall status, exit code, breakdowns and alerts, in the one documented JSON envelope. The case is the one that
 * used to split them three ways: a monitor degraded by a pending migration and a prerequisite failed by it
 * (check exit 2, summary -f "degraded" exit 1 without the prerequisite, --cluster "unhealthy … 0 unhealthy").
 */

let ns: string;
let dir: string;
let operator: TestOperator;

beforeAll(async () => {
  await ensureCrds();
  ns = await freshNamespace('one-answer');
  const db = await createDatabase({ monitor: true });
  await asOwner(
    db,
    `${FLYWAY_TABLE_SQL};
    INSERT INTO flyway_schema_history VALUES (1, '1', 'init', 'SQL', 'V1__init.sql', 1, 'app', now(), 5, true);`,
  );
  const monitor = (name: string, expectedVersion: string) => ({
    apiVersion: 'dbwatch.dev/v1alpha1',
    kind: 'DatabaseMonitor',
    metadata: { name, namespace: ns },
    spec: {
      engine: 'postgres',
      connection: { secretRef: { name: 'orders-db' }, connectTimeoutSeconds: 3 },
      interval: '1h',
      checks: { migrations: { tool: 'flyway', expectedVersion } },
    },
  });
  const objects = [
    { apiVersion: 'v1', kind: 'Secret', metadata: { name: 'orders-db', namespace: ns }, stringData: secretData(db) },
    monitor('orders', '1'),
    monitor('ledger', '2'),
    {
      apiVersion: 'dbwatch.dev/v1alpha1',
      kind: 'DatabasePrerequisite',
      metadata: { name: 'ledger-ready', namespace: ns },
      spec: { databases: [{ name: 'ledger', monitorRef: { name: 'ledger' } }] },
    },
  ];
  dir = mkdtempSync(join(tmpdir(), 'dbwatch-one-answer-'));
  writeFileSync(join(dir, 'objects.yaml'), objects.map((o) => dump(o)).join('---\n'));
  const applied = await kubectl(['apply', '-f', join(dir, 'objects.yaml')]);
  if (applied.code !== 0) throw new Error(applied.stderr);
  operator = await startTestOperator(ns);
});

afterAll(async () => {
  await operator?.stop();
  if (dir) rmSync(dir, { recursive: true, force: true });
});

async function run(command: (write: (t: string) => void) => Promise<number>): Promise<{ code: number; out: string }> {
  let out = '';
  const code = await command((t) => {
    out += `${t}\n`;
  });
  return { code, out };
}

const fromFiles = (output: 'json' | 'table', which: typeof checkCommand) =>
  run((write) => which({ files: [join(dir, 'objects.yaml')], output, write, writeError: () => undefined }));

const fromCluster = (output: 'json' | 'table') =>
  run((write) =>
    summaryClusterCommand({ allNamespaces: false, namespace: ns, kubeconfig: adminKubeconfigPath() }, output, {
      write,
      writeError: () => undefined,
    }),
  );

describe('one summary model: check, summary -f and summary --cluster agree', () => {
  test('same overall status, exit code, breakdowns and alerts; one versioned JSON envelope', async () => {
    // The operator has checked both monitors and evaluated the prerequisite against the ledger's written status.
    await eventually(
      'the operator has written every status',
      async () => {
        const [orders, ledger, ready] = await Promise.all([
          getMonitor(ns, 'orders'),
          getMonitor(ns, 'ledger'),
          getPrerequisite(ns, 'ledger-ready'),
        ]);
        const done =
          orders.status?.status === 'healthy' &&
          ledger.status?.status === 'degraded' &&
          ready.status?.overallStatus === 'failed' &&
          /pending migrations: 2/.test(JSON.stringify(ready.status?.databases));
        return done ? true : undefined;
      },
      30_000,
    );

    const views = {
      check: await fromFiles('json', checkCommand),
      'summary -f': await fromFiles('json', summaryCommand),
      'summary --cluster': await fromCluster('json'),
    };
    const parsed = Object.fromEntries(
      Object.entries(views).map(([name, v]) => [name, cliOutputSchema.parse(JSON.parse(v.out)) as CliOutput]),
    );
    const verdict = (name: keyof typeof views) => {
      const { summary } = parsed[name]!;
      return {
        code: views[name].code,
        overallStatus: summary.overallStatus,
        exitCode: summary.exitCode,
        statusBreakdown: summary.statusBreakdown,
        prerequisiteBreakdown: summary.prerequisiteBreakdown,
        alerts: [...summary.alerts].sort(),
        databases: parsed[name]!.databases.map((d) => [d.namespace, d.name, d.status, d.reason]),
        prerequisites: parsed[name]!.prerequisites.map((p) => [p.namespace, p.name, p.status]),
      };
    };
    const expected = {
      code: 2,
      overallStatus: 'unhealthy',
      exitCode: 2,
      statusBreakdown: { healthy: 1, degraded: 1, unhealthy: 0, unknown: 0 },
      prerequisiteBreakdown: { passed: 0, warning: 0, failed: 1, unknown: 0 },
      alerts: [
        `${ns}/ledger-ready: prerequisite failed: ledger: pending migrations: 2`,
        `${ns}/ledger: degraded: 1 pending migration(s): 2`,
      ].sort(),
      databases: [
        [ns, 'ledger', 'degraded', 'MigrationsPending'],
        [ns, 'orders', 'healthy', 'Healthy'],
      ],
      prerequisites: [[ns, 'ledger-ready', 'failed']],
    };
    for (const name of Object.keys(views) as (keyof typeof views)[]) {
      expect({ view: name, ...verdict(name) }).toEqual({ view: name, ...expected });
    }
    expect(parsed.check!.kind).toBe('CheckReport');
    expect(parsed['summary -f']!.kind).toBe('HealthSummary');
    expect(parsed['summary --cluster']).toMatchObject({ kind: 'HealthSummary', source: 'cluster', namespace: ns });
    // Durations are whole milliseconds with at most two decimals, never seconds with float noise.
    const durations = parsed.check!.databases.flatMap((d) => Object.values(d.result?.durationsMs ?? {}));
    expect(durations.length).toBeGreaterThan(0);
    for (const ms of durations) expect(Math.round(ms * 100) / 100).toBe(ms);
  });

  test('the tables say the same: one headline with every count the verdict rests on', async () => {
    const headline = `Overall: unhealthy  %s: 2 databases: 1 healthy, 1 degraded, 0 unhealthy; 1 prerequisite: 0 passed, 0 warning, 1 failed`;
    const check = await fromFiles('table', checkCommand);
    const summary = await fromFiles('table', summaryCommand);
    const cluster = await fromCluster('table');
    expect(check.out.trimEnd().split('\n').at(-1)).toBe(headline.replace('%s', 'files'));
    expect(summary.out.split('\n')[0]).toBe(headline.replace('%s', 'files'));
    expect(cluster.out.split('\n')[0]).toBe(headline.replace('%s', `namespace ${ns}`));
    expect([check.code, summary.code, cluster.code]).toEqual([2, 2, 2]);
    // No empty heading: a Recommendations section only when there is one to give.
    for (const out of [summary.out, cluster.out]) expect(out).not.toMatch(/Recommendations:\n*$/);
  });
});
