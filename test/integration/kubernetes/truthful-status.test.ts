import { execFile } from 'node:child_process';
import { afterAll, beforeAll, describe, expect, test } from '@jest/globals';
import * as k8s from '@kubernetes/client-node';
import { adminKubeconfigPath, ensureCrds, freshNamespace, kubeConfig, kubectl } from '../../support/kube.js';
import { eventually, operatorUserKubeconfig, startTestOperator, type TestOperator } from '../../support/operator.js';
import { createDatabase, secretData, withAdmin } from '../../support/pg-fixtures.js';
import {
  admin,
  condition,
  createMonitor,
  createPrerequisite,
  createSecret,
  eventsFor,
  getMonitor,
  getPrerequisite,
  patchMonitor,
  replaceSecret,
} from '../../support/resources.js';

/**
 * What `kubectl get` and the metrics say is what was measured, for the current connection: on the real
 * control plane and PostgreSQL, with the operator running as a user bound to exactly its shipped roles.
 * Monitors here use a 5 min interval, so anything that happens within seconds was caused by the change.
 */
let ns: string;
let operator: TestOperator;

beforeAll(async () => {
  await ensureCrds();
  ns = await freshNamespace('truthful');
  operator = await startTestOperator(ns);
});

afterAll(async () => {
  await operator?.stop();
});

const connection = (secret: string) => ({ secretRef: { name: secret }, connectTimeoutSeconds: 2 });

async function healthy(name: string) {
  return eventually(`${name} healthy`, async () => {
    const m = await getMonitor(ns, name);
    return m.status?.status === 'healthy' ? m : undefined;
  });
}

const metricsText = () => operator.metrics.registry.metrics();

describe('a changed connection is checked at once', () => {
  test('Secret rotation (ALTER ROLE ... PASSWORD + Secret update): re-checked and Ready again within 5 s with the new password', async () => {
    const db = await createDatabase();
    await createSecret(ns, 'rotating-db', secretData(db));
    await createMonitor(ns, 'rotating', { connection: connection('rotating-db'), interval: '5m' });
    const before = await healthy('rotating');

    const newPassword = `Rotated-${Math.random().toString(36).slice(2)}!`;
    await withAdmin(async (c) => {
      await c.query(`ALTER ROLE ${db.username} PASSWORD '${newPassword}'`);
      // The old pool's sessions survive a password change; end them so only the new password can work.
      await c.query('SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE usename = $1', [db.username]);
    });
    const rotatedAt = Date.now();
    await replaceSecret(ns, 'rotating-db', secretData({ ...db, password: newPassword }));
    const after = await eventually(
      're-checked after the rotation',
      async () => {
        const s = (await getMonitor(ns, 'rotating')).status;
        return s?.lastCheckTime !== before.status?.lastCheckTime && s?.status === 'healthy' ? s : undefined;
      },
      5000,
      100,
    );
    expect(Date.now() - rotatedAt).toBeLessThan(5000);
    expect(condition(after, 'Ready')).toMatchObject({ status: 'True', reason: 'Healthy' });
    expect(condition(after, 'Connected')?.status).toBe('True');
    expect((await getMonitor(ns, 'rotating')).metadata.generation).toBe(1); // no spec change was needed
    const leaked = [operator.logs.join('\n'), JSON.stringify(after), await metricsText()].join('\n');
    expect(leaked).not.toContain(newPassword);
    expect(leaked).not.toContain(db.password);
  });

  test('a wrong password in the Secret turns a healthy monitor Unhealthy at once (not an interval later)', async () => {
    const db = await createDatabase();
    await createSecret(ns, 'wrong-db', secretData(db));
    await createMonitor(ns, 'wrong', { connection: connection('wrong-db'), interval: '5m' });
    await healthy('wrong');
    const changedAt = Date.now();
    await replaceSecret(ns, 'wrong-db', secretData({ ...db, password: 'not-the-password' }));
    const down = await eventually(
      'unhealthy',
      async () => {
        const s = (await getMonitor(ns, 'wrong')).status;
        return s?.status === 'unhealthy' ? s : undefined;
      },
      5000,
      100,
    );
    expect(Date.now() - changedAt).toBeLessThan(5000);
    expect(condition(down, 'Connected')).toMatchObject({ status: 'False', reason: 'WrongPassword' });
  });
});

describe('status never outlives its cause', () => {
  test('a monitor whose Secret is deleted shows no health in kubectl get dbmon, Ready False, and up 0', async () => {
    const db = await createDatabase();
    await createSecret(ns, 'gone-db', secretData(db));
    await createMonitor(ns, 'gone', { connection: connection('gone-db'), interval: '5m' });
    await healthy('gone');
    const listed = await kubectl(['get', 'dbmon', 'gone', '-n', ns]);
    expect(listed.stdout).toMatch(/^NAME\s+READY\s+ENGINE\s+STATUS\s/);
    expect(listed.stdout).toMatch(/gone\s+True\s+postgres\s+healthy\s/);

    await admin().core.deleteNamespacedSecret({ namespace: ns, name: 'gone-db' });
    const stalled = await eventually(
      'stalled',
      async () => {
        const s = (await getMonitor(ns, 'gone')).status;
        return condition(s, 'Stalled')?.status === 'True' ? s : undefined;
      },
      5000,
      100,
    );
    expect(stalled.status).toBeUndefined();
    expect(stalled.health).toBeUndefined();
    expect(condition(stalled, 'Connected')).toBeUndefined();
    const [header, row] = (await kubectl(['get', 'dbmon', 'gone', '-n', ns])).stdout.split('\n') as [string, string];
    const column = (name: string) => {
      const at = header.indexOf(name);
      const next = header.slice(at + name.length).search(/\S/);
      return row.slice(at, next < 0 ? undefined : at + name.length + next).trim();
    };
    expect(column('READY')).toBe('False');
    for (const measured of ['STATUS', 'RESPONSE', 'UTILIZATION %', 'MIGRATION', 'REPORTED']) {
      expect([measured, column(measured)]).toEqual([measured, '']);
    }
    expect(row).not.toMatch(/healthy|degraded/);
    const metrics = await metricsText();
    expect(metrics).toMatch(new RegExp(`dbwatch_database_up\\{namespace="${ns}",name="gone",engine="postgres"\\} 0`));
    expect(metrics).not.toMatch(new RegExp(`dbwatch_database_response_time_seconds\\{namespace="${ns}",name="gone"`));
    expect(metrics).toMatch(
      new RegExp(`dbwatch_database_health\\{namespace="${ns}",name="gone",engine="postgres",status="healthy"\\} 0`),
    );
  });

  test('removing checks.performance removes its results and its condition', async () => {
    const db = await createDatabase();
    await createSecret(ns, 'perf-db', secretData(db));
    await createMonitor(ns, 'perf', {
      connection: connection('perf-db'),
      interval: '5m',
      checks: { performance: { iterations: 2, targetMs: 1000 } },
    });
    const measured = await eventually('performance measured', async () => {
      const s = (await getMonitor(ns, 'perf')).status;
      return s?.performance && condition(s, 'PerformanceWithinTarget') ? s : undefined;
    });
    expect(measured.lastPerformanceTime).toBeDefined();
    await patchMonitor(ns, 'perf', { spec: { checks: { performance: null } } });
    const after = await eventually('generation 2 checked', async () => {
      const s = (await getMonitor(ns, 'perf')).status;
      return s?.observedGeneration === 2 && condition(s, 'Reconciling')?.status === 'False' ? s : undefined;
    });
    expect(after.performance).toBeUndefined();
    expect(after.lastPerformanceTime).toBeUndefined();
    expect(condition(after, 'PerformanceWithinTarget')).toBeUndefined();
    expect(after.status).toBe('healthy');
  });
});

describe('a transition whose status write fails', () => {
  const policy = (name: string) => ({
    apiVersion: 'admissionregistration.k8s.io/v1',
    kind: 'ValidatingAdmissionPolicy',
    metadata: { name },
    spec: {
      failurePolicy: 'Fail',
      matchConstraints: {
        resourceRules: [
          {
            apiGroups: ['dbwatch.dev'],
            apiVersions: ['*'],
            operations: ['UPDATE'],
            resources: ['databasemonitors/status'],
          },
        ],
      },
      matchConditions: [{ name: 'this-monitor', expression: `object.metadata.name == "${name}"` }],
      validations: [{ expression: 'false', message: 'status writes refused by the test (an API server hiccup)' }],
    },
  });
  const binding = (name: string) => ({
    apiVersion: 'admissionregistration.k8s.io/v1',
    kind: 'ValidatingAdmissionPolicyBinding',
    metadata: { name },
    spec: { policyName: name, validationActions: ['Deny'] },
  });

  test('records its Event exactly once, after the retried write succeeds', async () => {
    const name = `flaky-${Date.now().toString(36)}`;
    const db = await createDatabase();
    await createSecret(ns, `${name}-db`, secretData(db));
    await createMonitor(ns, name, { connection: connection(`${name}-db`), interval: '5m' });
    await healthy(name);

    const objects = k8s.KubernetesObjectApi.makeApiClient(kubeConfig());
    await objects.create(policy(name) as k8s.KubernetesObject);
    await objects.create(binding(name) as k8s.KubernetesObject);
    try {
      // The policy is in force once a status write (here the admin's, a no-op patch) is refused.
      await eventually('policy in force', async () => {
        try {
          await admin().objects.patchNamespacedCustomObjectStatus(
            { group: 'dbwatch.dev', version: 'v1alpha1', namespace: ns, plural: 'databasemonitors', name, body: {} },
            k8s.setHeaderOptions('Content-Type', k8s.PatchStrategy.MergePatch),
          );
          return undefined;
        } catch {
          return true;
        }
      });
      await replaceSecret(ns, `${name}-db`, secretData({ ...db, password: 'not-the-password' }));
      // The check runs and its write is refused (and retried with backoff); no Event describes an unwritten status.
      await eventually('a refused write', async () =>
        operator.logs.some((l) => l.includes('reconcile failed') && l.includes(`"name":"${name}"`)) ? true : undefined,
      );
      await new Promise((ok) => setTimeout(ok, 2500));
      expect((await getMonitor(ns, name)).status?.status).toBe('healthy');
      expect((await eventsFor(ns, name)).map((e) => e.reason)).not.toContain('Unhealthy');
    } finally {
      await objects.delete(binding(name) as k8s.KubernetesObject);
      await objects.delete(policy(name) as k8s.KubernetesObject);
    }
    await eventually(
      'written after the retry',
      async () => ((await getMonitor(ns, name)).status?.status === 'unhealthy' ? true : undefined),
      30_000,
    );
    await new Promise((ok) => setTimeout(ok, 3000));
    const reasons = (await eventsFor(ns, name)).map((e) => e.reason);
    expect(reasons.filter((r) => r === 'Unhealthy')).toHaveLength(1);
  });
});

describe('inline prerequisites', () => {
  test('an inline-only prerequisite against a healthy database passes with defaults, and dbwatch wait returns 0', async () => {
    const db = await createDatabase();
    await createSecret(ns, 'inline-db', secretData(db));
    await createPrerequisite(ns, 'inline-ready', {
      databases: [{ name: 'orders', engine: 'postgres', connection: connection('inline-db') }],
    });
    const passed = await eventually('passed', async () => {
      const s = (await getPrerequisite(ns, 'inline-ready')).status;
      return s?.overallStatus ? s : undefined;
    });
    expect(passed.overallStatus).toBe('passed');
    expect(passed.databases?.[0]).toMatchObject({ name: 'orders', status: 'passed', issues: [] });
    expect(condition(passed, 'Ready')).toMatchObject({ status: 'True', reason: 'Passed' });
    const wait = await new Promise<{ code: number; stdout: string }>((ok) =>
      execFile(
        process.execPath,
        ['--import', 'tsx', 'src/cli/main.ts', 'wait', 'inline-ready', '-n', ns, '--timeout', '20s'].concat([
          '--kubeconfig',
          adminKubeconfigPath(),
        ]),
        (error, stdout) => ok({ code: error ? ((error as { code?: number }).code ?? 1) : 0, stdout }),
      ),
    );
    expect(wait.code).toBe(0);
  });

  test('inline checks.migrations are judged, and a rotated inline Secret is re-checked at once', async () => {
    const db = await createDatabase();
    await createSecret(ns, 'inline-mig-db', secretData(db));
    await createPrerequisite(ns, 'inline-migrations', {
      interval: '5m',
      databases: [
        {
          name: 'orders',
          engine: 'postgres',
          connection: connection('inline-mig-db'),
          checks: { migrations: { tool: 'flyway' } },
        },
      ],
    });
    const warned = await eventually('evaluated', async () => {
      const s = (await getPrerequisite(ns, 'inline-migrations')).status;
      return s?.overallStatus ? s : undefined;
    });
    // Configured, and the table is not there: a warning that names it (not "not configured").
    expect(warned.overallStatus).toBe('warning');
    expect(warned.databases?.[0]?.issues.join()).toMatch(/migration status unknown: .*flyway_schema_history/);

    const changedAt = Date.now();
    await replaceSecret(ns, 'inline-mig-db', secretData({ ...db, password: 'not-the-password' }));
    const failed = await eventually(
      'failed at once',
      async () => {
        const s = (await getPrerequisite(ns, 'inline-migrations')).status;
        return s?.overallStatus === 'failed' ? s : undefined;
      },
      5000,
      100,
    );
    expect(Date.now() - changedAt).toBeLessThan(5000);
    expect(failed.databases?.[0]?.issues.join()).toMatch(/cannot connect/);
  });
});

describe('least privilege', () => {
  test("the operator's user cannot update a Lease in another namespace nor read a Secret outside watched namespaces", async () => {
    const other = await freshNamespace('elsewhere');
    await createSecret(other, 'not-yours', { password: 'elsewhere' });
    const coordination = kubeConfig().makeApiClient(k8s.CoordinationV1Api);
    await coordination.createNamespacedLease({
      namespace: other,
      body: { metadata: { name: 'someone-elses' }, spec: { holderIdentity: 'them', leaseDurationSeconds: 15 } },
    });
    const asOperator = { kubeconfig: await operatorUserKubeconfig() };
    const lease = await coordination.readNamespacedLease({ namespace: other, name: 'someone-elses' });
    const takeover = { ...lease, apiVersion: 'coordination.k8s.io/v1', kind: 'Lease' };
    takeover.spec = { ...lease.spec, holderIdentity: 'dbwatch-operator' };
    const leaseUpdate = await kubectl(['replace', '-f', '-'], { ...asOperator, input: JSON.stringify(takeover) });
    expect(leaseUpdate.code).not.toBe(0);
    expect(leaseUpdate.stderr).toMatch(/Forbidden.*cannot update resource "leases".*namespace "elsewhere/);
    const secretRead = await kubectl(['get', 'secret', 'not-yours', '-n', other], asOperator);
    expect(secretRead.stderr).toMatch(/Forbidden.*cannot get resource "secrets".*namespace "elsewhere/);
    const secretList = await kubectl(['get', 'secrets', '-A'], asOperator);
    expect(secretList.stderr).toMatch(/Forbidden.*cannot list resource "secrets".*at the cluster scope/);
    // ...while in its watched namespace it reads Secrets and holds its Lease.
    expect((await kubectl(['get', 'secret', 'inline-db', '-n', ns], asOperator)).code).toBe(0);
    const own = await kubectl(['auth', 'can-i', 'update', 'leases', '-n', ns], asOperator);
    expect(own.stdout.trim()).toBe('yes');
  });
});
