import { beforeAll, describe, expect, test } from '@jest/globals';
import * as k8s from '@kubernetes/client-node';
import { dump } from 'js-yaml';
import { ensureCrds, freshNamespace, kubeConfig, kubectl, userKubeconfig } from '../../support/kube.js';

const monitor = (name: string, spec: Record<string, unknown> = {}) => ({
  apiVersion: 'dbwatch.dev/v1alpha1',
  kind: 'DatabaseMonitor',
  metadata: { name },
  spec: { engine: 'postgres', connection: { secretRef: { name: 'db' } }, ...spec },
});

const objects = () => kubeConfig().makeApiClient(k8s.CustomObjectsApi);
const ref = (namespace: string, name: string) => ({
  group: 'dbwatch.dev',
  version: 'v1alpha1',
  namespace,
  plural: 'databasemonitors',
  name,
});

beforeAll(async () => {
  await ensureCrds();
});

describe('the CRDs on a real kube-apiserver', () => {
  test('apply with kubectl and are Established', async () => {
    const result = await kubectl([
      'get',
      'crd',
      'databasemonitors.dbwatch.dev',
      'databaseprerequisites.dbwatch.dev',
      '-o',
      'jsonpath={range .items[*]}{.metadata.name}={.status.conditions[?(@.type=="Established")].status} {end}',
    ]);
    expect(result.stdout.trim()).toBe('databasemonitors.dbwatch.dev=True databaseprerequisites.dbwatch.dev=True');
  });

  test('kubectl get databasemonitors prints the printer columns with status values', async () => {
    const ns = await freshNamespace('columns');
    await objects().createNamespacedCustomObject({
      group: 'dbwatch.dev',
      version: 'v1alpha1',
      namespace: ns,
      plural: 'databasemonitors',
      body: monitor('orders'),
    });
    await objects().patchNamespacedCustomObjectStatus(
      {
        ...ref(ns, 'orders'),
        body: {
          status: {
            status: 'degraded',
            lastCheckTime: new Date().toISOString(),
            health: {
              status: 'degraded',
              connection: true,
              queryTest: true,
              responseTimeMs: 12.5,
              reasons: ['x'],
              timestamp: new Date().toISOString(),
              migrationStatus: {
                tool: 'flyway',
                table: 't',
                currentVersion: '7',
                appliedCount: 7,
                pendingMigrations: ['8'],
                failedMigrations: [],
              },
            },
            pool: {
              poolSize: 2,
              checkedOut: 0,
              waiting: 0,
              utilizationPercent: 42.5,
              recommendation: 'r',
              overflowAnalysis: 'o',
            },
          },
        },
      },
      k8s.setHeaderOptions('Content-Type', k8s.PatchStrategy.MergePatch),
    );
    const result = await kubectl(['get', 'dbmon', '-n', ns]);
    expect(result.code).toBe(0);
    const [header, row] = result.stdout.trim().split('\n');
    expect(header!.split(/\s{2,}/)).toEqual([
      'NAME',
      'READY',
      'ENGINE',
      'STATUS',
      'RESPONSE',
      'UTILIZATION %',
      'MIGRATION',
      'AVAILABILITY',
      'REPORTED',
      'AGE',
    ]);
    expect(row).toMatch(/^orders\s+(<none>\s+)?postgres\s+degraded\s+12.5\s+42.5\s+7\s+(<none>\s+)?\d+s\s+\d+s$/);
    const wide = await kubectl(['get', 'dbwatch', '-n', ns, '-o', 'wide']);
    expect(wide.stdout).toMatch(/REPORTED\s+HEARTBEAT BY\s+MESSAGE\s+AGE/);
  });

  test('an invalid DatabaseMonitor is rejected with the schema messages', async () => {
    const ns = await freshNamespace('invalid');
    const bad = monitor('bad', {
      interval: 'often',
      checks: { migrations: { tool: 'custom' } },
      thresholds: { poolUtilizationPercent: 120 },
    });
    const result = await kubectl(['apply', '-n', ns, '-f', '-'], { input: dump(bad) });
    expect(result.code).not.toBe(0);
    expect(result.stderr).toMatch(/spec.interval: Invalid value: "often": spec.interval in body should match/);
    expect(result.stderr).toMatch(
      /spec.thresholds.poolUtilizationPercent: Invalid value: 120: .*less than or equal to 100/,
    );
    expect(result.stderr).toMatch(/versionColumn is required when tool is custom/);
  });

  test('defaults are applied by the server', async () => {
    const ns = await freshNamespace('defaults');
    const created = (await objects().createNamespacedCustomObject({
      group: 'dbwatch.dev',
      version: 'v1alpha1',
      namespace: ns,
      plural: 'databasemonitors',
      body: monitor('d'),
    })) as any;
    expect(created.spec).toMatchObject({
      interval: '5m',
      timeoutSeconds: 30,
      thresholds: { responseTimeMs: 2000 },
      checks: { pool: { enabled: true } },
    });
  });

  test('status sent through the main resource is ignored (status subresource)', async () => {
    const ns = await freshNamespace('subresource');
    const body = { ...monitor('orders'), status: { status: 'healthy' } };
    const created = (await objects().createNamespacedCustomObject({
      group: 'dbwatch.dev',
      version: 'v1alpha1',
      namespace: ns,
      plural: 'databasemonitors',
      body,
    })) as any;
    expect(created.status).toBeUndefined();
    const replaced = (await objects().replaceNamespacedCustomObject({
      ...ref(ns, 'orders'),
      body: { ...created, status: { status: 'unhealthy' } },
    })) as any;
    expect(replaced.status).toBeUndefined();
    expect(replaced.metadata.generation).toBe(1);
  });

  test('a user without RBAC is refused (403); the same user with a Role is allowed', async () => {
    const ns = await freshNamespace('rbac');
    const kubeconfig = userKubeconfig('carol', ['dbwatch-viewers']);
    const denied = await kubectl(['get', 'databasemonitors', '-n', ns], { kubeconfig });
    expect(denied.code).not.toBe(0);
    expect(denied.stderr).toMatch(/Forbidden.*User "carol" cannot list resource "databasemonitors"/);
    const asCarol = kubeConfig(kubeconfig).makeApiClient(k8s.CustomObjectsApi);
    const err = await asCarol
      .listNamespacedCustomObject({
        group: 'dbwatch.dev',
        version: 'v1alpha1',
        namespace: ns,
        plural: 'databasemonitors',
      })
      .catch((e: unknown) => e);
    expect((err as k8s.ApiException<unknown>).code).toBe(403);

    const rbac = kubeConfig().makeApiClient(k8s.RbacAuthorizationV1Api);
    await rbac.createNamespacedRole({
      namespace: ns,
      body: {
        metadata: { name: 'viewer' },
        rules: [{ apiGroups: ['dbwatch.dev'], resources: ['databasemonitors'], verbs: ['get', 'list', 'watch'] }],
      },
    });
    await rbac.createNamespacedRoleBinding({
      namespace: ns,
      body: {
        metadata: { name: 'viewers' },
        roleRef: { apiGroup: 'rbac.authorization.k8s.io', kind: 'Role', name: 'viewer' },
        subjects: [{ kind: 'Group', apiGroup: 'rbac.authorization.k8s.io', name: 'dbwatch-viewers' }],
      },
    });
    const allowed = await kubectl(['get', 'databasemonitors', '-n', ns], { kubeconfig });
    expect(allowed.code).toBe(0);
    expect(allowed.stderr).toMatch(/No resources found/);
  });

  test('kubectl explain prints a description for every field it lists', async () => {
    // kubectl wraps descriptions at 78 columns: compare with whitespace collapsed.
    const explain = async (path: string) => {
      const result = await kubectl(['explain', path]);
      return { ...result, text: result.stdout.replace(/\s+/g, ' ') };
    };
    // The API server publishes a changed CRD's OpenAPI a moment after the CRD is Established.
    let interval = await explain('databasemonitor.spec.interval');
    for (let i = 0; i < 30 && !interval.text.includes('Default 5m'); i++) {
      await new Promise((done) => setTimeout(done, 1000));
      interval = await explain('databasemonitor.spec.interval');
    }
    expect(interval.code).toBe(0);
    expect(interval.text).toMatch(/How often the database is checked .*Default 5m\./);

    const recursive = await kubectl(['explain', 'databasemonitor.spec', '--recursive']);
    expect(recursive.code).toBe(0);
    for (const field of ['interval', 'thresholds', 'poolUtilizationPercent', 'migrations', 'slo']) {
      expect(recursive.stdout).toMatch(new RegExp(`^\\s+${field}\\s`, 'm'));
    }
    // Each object's own explain lists its fields, each with its description or "<no description>", and its
    // own description or "<empty>". (The kinds' roots are left out: metadata may carry no description.)
    const undescribed: string[] = [];
    for (const path of [
      'databasemonitor.spec',
      'databasemonitor.spec.connection',
      'databasemonitor.spec.connection.secretRef.keys',
      'databasemonitor.spec.checks.performance',
      'databasemonitor.spec.thresholds',
      'databasemonitor.status',
      'databasemonitor.status.health',
      'databasemonitor.status.pool.server',
      'databasemonitor.status.conditions',
      'databasemonitor.status.availability',
      'databaseprerequisite.spec',
      'databaseprerequisite.spec.databases',
      'databaseprerequisite.status',
      'databaseprerequisite.status.databases',
    ]) {
      const explained = await explain(path);
      expect({ path, code: explained.code, fields: explained.text.includes('FIELDS:') }).toEqual({
        path,
        code: 0,
        fields: true,
      });
      if (/<no description>|<empty>/.test(explained.text)) undescribed.push(path);
    }
    expect(undescribed).toEqual([]);
    const utilization = await explain('databasemonitor.spec.thresholds.poolUtilizationPercent');
    expect(utilization.text).toMatch(/in percent \(0-100\) .*default 80\./);
  });
});
