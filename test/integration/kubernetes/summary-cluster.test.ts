import { execFile } from 'node:child_process';
import { mkdtempSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { afterAll, beforeAll, describe, expect, test } from '@jest/globals';
import * as k8s from '@kubernetes/client-node';
import type { CliOutput } from '../../../src/api/index.js';
import { databasePrerequisiteSpecSchema } from '../../../src/api/index.js';
import { summaryClusterCommand } from '../../../src/cli/summary-cluster-command.js';
import { nextPrerequisiteStatus } from '../../../src/controller/prerequisite/status.js';
import { adminKubeconfigPath, ensureCrds, freshNamespace, kubectl, userKubeconfig } from '../../support/kube.js';
import { admin } from '../../support/resources.js';
import { type MonitorState, monitorSpec, monitorStatus } from '../../support/summary-states.js';

/**
 * `dbwatch summary --cluster` and `kubectl dbwatch` on the real API server. No operator runs: each monitor's
 * status is written through the status subresource exactly as the operator's status functions build it, so
 * the states (healthy, degraded, unhealthy, stalled, stale) are deterministic. No database exists at all.
 */

const group = 'dbwatch.dev';
const version = 'v1alpha1';
const run = `run-${process.pid}-${Date.now().toString(36)}`;
const minutesAgo = (m: number) => new Date(Date.now() - m * 60_000);

let shop: string;
let payments: string;
let archive: string;
let pluginDir: string;

async function create(plural: string, kind: string, namespace: string, name: string, spec: object, status: object) {
  const objects = admin().objects;
  const metadata = { name, labels: { 'summary-test': run } };
  await objects.createNamespacedCustomObject({
    group,
    version,
    namespace,
    plural,
    body: { apiVersion: `${group}/${version}`, kind, metadata, spec },
  });
  await objects.patchNamespacedCustomObjectStatus(
    { group, version, namespace, plural, name, body: { status } },
    k8s.setHeaderOptions('Content-Type', k8s.PatchStrategy.MergePatch),
  );
}

const monitor = (namespace: string, name: string, state: MonitorState, checkedAt = new Date()) =>
  create(
    'databasemonitors',
    'DatabaseMonitor',
    namespace,
    name,
    monitorSpec('30s'),
    monitorStatus(state, checkedAt, '30s', minutesAgo(42)),
  );

beforeAll(async () => {
  await ensureCrds();
  shop = await freshNamespace('shop');
  payments = await freshNamespace('payments');
  archive = await freshNamespace('archive');
  await Promise.all([
    monitor(shop, 'orders', 'healthy'),
    monitor(shop, 'ledger', 'degraded'),
    monitor(payments, 'payments', 'unhealthy'),
    monitor(payments, 'billing', 'stalled'),
    // Last written 25 min ago with a 30 s interval: older than 2 × max(interval, 5 min heartbeat).
    monitor(archive, 'archive', 'healthy', minutesAgo(25)),
  ]);
  const now = new Date();
  const warning = nextPrerequisiteStatus({
    observation: {
      kind: 'Evaluated',
      spec: databasePrerequisiteSpecSchema.parse({ databases: [{ name: 'ledger', monitorRef: { name: 'ledger' } }] }),
      result: {
        overallStatus: 'warning',
        databases: [{ name: 'ledger', status: 'warning', issues: ['1 pending migration(s): 2'] }],
        summary: { passed: 0, warning: 1, failed: 0, total: 1 },
      },
      at: now,
    },
    previous: undefined,
    generation: 1,
    now,
  }).status;
  await create(
    'databaseprerequisites',
    'DatabasePrerequisite',
    shop,
    'checkout-ready',
    { databases: [{ name: 'ledger', monitorRef: { name: 'ledger' } }] },
    warning,
  );
  // kubectl finds plugins as kubectl-<name> on PATH: the checkout's wrapper, as a user would put it there.
  pluginDir = mkdtempSync(join(tmpdir(), 'dbwatch-plugin-'));
  symlinkSync(resolve('hack/bin/kubectl-dbwatch'), join(pluginDir, 'kubectl-dbwatch'));
});

afterAll(() => {
  if (pluginDir) rmSync(pluginDir, { recursive: true, force: true });
});

interface Run {
  code: number;
  stdout: string;
  stderr: string;
}

/** `kubectl dbwatch …` through the real kubectl, which passes KUBECONFIG on to the plugin. */
function kubectlDbwatch(args: string[], kubeconfig = adminKubeconfigPath()): Promise<Run> {
  const binDir = process.env.DBWATCH_TEST_BIN_DIR!;
  return new Promise((ok) =>
    execFile(
      join(binDir, 'kubectl'),
      ['dbwatch', ...args],
      {
        timeout: 60_000,
        cwd: tmpdir(),
        env: { ...process.env, PATH: `${pluginDir}:${binDir}:${process.env.PATH}`, KUBECONFIG: kubeconfig },
      },
      (error, stdout, stderr) => ok({ code: error ? ((error as { code?: number }).code ?? 1) : 0, stdout, stderr }),
    ),
  );
}

/** `dbwatch …` from the checkout. */
const dbwatch = (args: string[]): Promise<Run> =>
  new Promise((ok) =>
    execFile(process.execPath, ['--import', 'tsx', 'src/cli/main.ts', ...args], { timeout: 60_000 }, (e, out, err) =>
      ok({ code: e ? ((e as { code?: number }).code ?? 1) : 0, stdout: out, stderr: err }),
    ),
  );

/** Keeps the output shown in the issue's closing note when DBWATCH_TEST_CAPTURE_DIR is set. */
function capture(name: string, command: string, result: Run): void {
  const dir = process.env.DBWATCH_TEST_CAPTURE_DIR;
  if (dir) writeFileSync(join(dir, name), `$ ${command}\n${result.stdout}${result.stderr}(exit ${result.code})\n`);
}

async function summaryJson(args: {
  namespace?: string;
  all?: boolean;
}): Promise<{ code: number; summary: CliOutput['summary'] & Pick<CliOutput, 'databases' | 'prerequisites'> }> {
  let out = '';
  const code = await summaryClusterCommand(
    {
      allNamespaces: args.all === true,
      ...(args.namespace ? { namespace: args.namespace } : {}),
      selector: `summary-test=${run}`,
      kubeconfig: adminKubeconfigPath(),
    },
    'json',
    { write: (t) => (out += t), writeError: () => {} },
  );
  const output = JSON.parse(out) as CliOutput;
  return { code, summary: { ...output.summary, databases: output.databases, prerequisites: output.prerequisites } };
}

describe('dbwatch summary --cluster on the real API server', () => {
  test('across namespaces: worst case, breakdown, problems first, stale and stalled called out; exit 2', async () => {
    const { code, summary } = await summaryJson({ all: true });
    expect(code).toBe(2);
    expect(summary.overallStatus).toBe('unhealthy');
    expect(summary.statusBreakdown).toEqual({ healthy: 1, degraded: 1, unhealthy: 1, unknown: 2 });
    expect(summary.unknownBreakdown).toEqual({ stale: 1, stalled: 1 });
    expect(summary.databases.map((d) => [d.namespace, d.name, d.status, d.checkState, d.reason])).toEqual([
      [payments, 'payments', 'unhealthy', 'current', 'WrongPassword'],
      [shop, 'ledger', 'degraded', 'current', 'MigrationsPending'],
      ...[
        [archive, 'archive', 'unknown', 'stale', 'Stale'],
        [payments, 'billing', 'unknown', 'stalled', 'SecretNotFound'],
      ].sort((a, b) => `${a[0]}/${a[1]}`.localeCompare(`${b[0]}/${b[1]}`)),
      [shop, 'orders', 'healthy', 'current', 'Healthy'],
    ]);
    expect(summary.prerequisites).toMatchObject([{ namespace: shop, name: 'checkout-ready', status: 'warning' }]);
    expect(summary.alerts).toContain(
      `${archive}/archive: stale: no check written for 25m (expected within 10m); last status healthy`,
    );
    expect(summary.alerts).toContain(
      `${payments}/billing: stalled (SecretNotFound): cannot be checked: Secret db not found in this namespace`,
    );
    expect(summary.alerts).toContain(`${shop}/checkout-ready: prerequisite warning: ledger: 1 pending migration(s): 2`);
  });

  test('one namespace with -n: only its objects; degraded and a warning prerequisite exit 1', async () => {
    const { code, summary } = await summaryJson({ namespace: shop });
    expect(code).toBe(1);
    expect(summary.databases.map((d) => d.name)).toEqual(['ledger', 'orders']);
    expect(summary.overallStatus).toBe('degraded');
  });

  test('-f with --cluster is a bad flag: exit 3, nothing read', async () => {
    const result = await dbwatch(['summary', '--cluster', '-f', 'examples/']);
    expect(result.code).toBe(3);
    expect(result.stderr).toBe(
      'error: -f and --cluster cannot be used together: -f runs checks from files, --cluster reads the cluster\n',
    );
  });

  test('a namespace without dbwatch objects says so and exits 1 (nothing to vouch for)', async () => {
    const empty = await freshNamespace('empty');
    const result = await dbwatch(['summary', '--cluster', '-n', empty, '--kubeconfig', adminKubeconfigPath()]);
    expect(result.code).toBe(1);
    expect(result.stderr).toBe(`No DatabaseMonitors or DatabasePrerequisites found in namespace ${empty}.\n`);
    expect(result.stdout).toMatch(/^Overall: unknown {2}namespace /);
  });
});

describe('kubectl dbwatch (the plugin through the real kubectl)', () => {
  test('kubectl dbwatch summary -A prints the summary table and exits 2', async () => {
    const result = await kubectlDbwatch(['summary', '-A']);
    capture('summary-all.txt', 'kubectl dbwatch summary -A', result);
    expect(result.stderr).toBe('');
    expect(result.code).toBe(2);
    const lines = result.stdout.split('\n');
    expect(lines[0]).toMatch(/^Overall: unhealthy {2}all namespaces: \d+ databases?: /);
    // -A lists every namespace of the shared API server: another test's sharded operator adds the SHARD column.
    expect(lines[2]).toMatch(
      /^NAMESPACE\s+DATABASE\s+STATUS\s+REASON\s+RESPONSE\s+AGE\s+REPORTED\s+(SHARD\s+)?MESSAGE$/,
    );
    const row = (ns: string, name: string) => lines.find((l) => l.startsWith(`${ns} `) && l.includes(` ${name} `));
    expect(row(payments, 'payments')).toMatch(/\sunhealthy\s+WrongPassword\s+-\s+42m\s+\d+s\s+(-\s+)?cannot connect/);
    expect(row(shop, 'ledger')).toMatch(/\sdegraded\s+MigrationsPending\s+4ms\s+42m\s/);
    expect(row(archive, 'archive')).toMatch(/\sstale\s+Stale\s+-\s+42m\s+25m\s+(-\s+)?no check written for 25m/);
    expect(row(payments, 'billing')).toMatch(/\sstalled\s+SecretNotFound\s+/);
    expect(row(shop, 'orders')).toMatch(/\shealthy\s+Healthy\s+4ms\s+42m\s/);
    expect(lines.indexOf(row(payments, 'payments')!)).toBeLessThan(lines.indexOf(row(shop, 'orders')!));
    expect(result.stdout).toMatch(/\nAlerts:\n/);
    expect(result.stdout).toMatch(/\nRecommendations:\n/);
    expect(result.stdout).toMatch(/\n {2}- Stale: check that the dbwatch operator is running/);
  });

  test('--help in kubectl style', async () => {
    const result = await kubectlDbwatch(['summary', '--help']);
    capture('summary-help.txt', 'kubectl dbwatch summary --help', result);
    expect(result.code).toBe(0);
    expect(result.stdout).toMatch(
      /\nExamples:\n {2}# Health summary of the databases in every namespace\n {2}kubectl dbwatch summary -A\n/,
    );
    expect(result.stdout).toMatch(/\nOptions:\n/);
    expect(result.stdout).toMatch(/\n {4}-A, --all-namespaces=false:\n\t/);
    expect(result.stdout).toMatch(/\nUsage:\n {2}kubectl dbwatch summary \[-n NAMESPACE \| -A\]/);
  });

  describe('a user who may list dbwatch objects in one namespace only', () => {
    let viewer: string;
    beforeAll(async () => {
      const user = `summary-viewer-${process.pid}`;
      const rbac = `
apiVersion: rbac.authorization.k8s.io/v1
kind: Role
metadata: { name: dbwatch-summary, namespace: ${shop} }
rules:
  - apiGroups: [dbwatch.dev]
    resources: [databasemonitors, databaseprerequisites]
    verbs: [list]
---
apiVersion: rbac.authorization.k8s.io/v1
kind: RoleBinding
metadata: { name: dbwatch-summary, namespace: ${shop} }
roleRef: { apiGroup: rbac.authorization.k8s.io, kind: Role, name: dbwatch-summary }
subjects: [{ apiGroup: rbac.authorization.k8s.io, kind: User, name: ${user} }]
`;
      const applied = await kubectl(['apply', '-f', '-'], { input: rbac });
      expect(applied.stderr).toBe('');
      viewer = userKubeconfig(user);
    });

    test('gets its namespace summary with -n (list is all it needs: no Secret, no database)', async () => {
      const result = await kubectlDbwatch(['summary', '-n', shop], viewer);
      capture('summary-rbac-namespace.txt', `kubectl dbwatch summary -n ${shop}   # as the one-namespace user`, result);
      expect(result.stderr).toBe('');
      expect(result.code).toBe(1);
      expect(result.stdout.split('\n')[0]).toBe(
        `Overall: degraded  namespace ${shop}: 2 databases: 1 healthy, 1 degraded, 0 unhealthy; 1 prerequisite: 0 passed, 1 warning, 0 failed`,
      );
      expect(result.stdout).toMatch(/\ncheckout-ready\s+warning\s+Warning\s/);
    });

    test('with -A gets a plain permission message naming each resource and the scope; exit 3', async () => {
      const result = await kubectlDbwatch(['summary', '-A'], viewer);
      capture('summary-rbac-all.txt', 'kubectl dbwatch summary -A   # as the one-namespace user', result);
      expect(result.code).toBe(3);
      expect(result.stdout).toBe('');
      expect(result.stderr.split('\n')[0]).toBe(
        'error: forbidden: cannot list databasemonitors.dbwatch.dev and databaseprerequisites.dbwatch.dev in all namespaces.',
      );
      expect(result.stderr).toContain(
        'cluster-wide (a ClusterRole) for -A; or use -n NAMESPACE for a namespace you can read',
      );
      expect(result.stderr).toMatch(
        /cannot list resource "databasemonitors" in API group "dbwatch.dev" at the cluster scope/,
      );
    });

    test('in a namespace it may not read: the same message for that namespace', async () => {
      const result = await kubectlDbwatch(['summary', '-n', payments], viewer);
      expect(result.code).toBe(3);
      expect(result.stderr).toContain(
        `forbidden: cannot list databasemonitors.dbwatch.dev and databaseprerequisites.dbwatch.dev in namespace ${payments}.`,
      );
      expect(result.stderr).toContain(`(API group dbwatch.dev) in ${payments} (a Role there).`);
    });
  });
});
