import { execFile } from 'node:child_process';
import { beforeAll, describe, expect, test } from '@jest/globals';
import * as k8s from '@kubernetes/client-node';
import { waitForPrerequisite } from '../../../src/controller/prerequisite/wait.js';
import { adminKubeconfigPath, ensureCrds, freshNamespace, kubectl } from '../../support/kube.js';
import { admin, createPrerequisite } from '../../support/resources.js';

let ns: string;
beforeAll(async () => {
  await ensureCrds();
  ns = await freshNamespace('gate');
});

async function markReady(name: string, ready: boolean): Promise<void> {
  await admin().objects.patchNamespacedCustomObjectStatus(
    {
      group: 'dbwatch.dev',
      version: 'v1alpha1',
      namespace: ns,
      plural: 'databaseprerequisites',
      name,
      body: {
        status: {
          observedGeneration: 1,
          overallStatus: ready ? 'passed' : 'failed',
          conditions: [
            {
              type: 'Ready',
              status: ready ? 'True' : 'False',
              reason: ready ? 'Passed' : 'Failed',
              message: ready ? 'all 1 database(s) passed' : 'orders: pending migrations: 2',
              lastTransitionTime: new Date().toISOString(),
              observedGeneration: 1,
            },
          ],
        },
      },
    },
    k8s.setHeaderOptions('Content-Type', k8s.PatchStrategy.MergePatch),
  );
}

const spec = { databases: [{ name: 'orders', monitorRef: { name: 'orders' } }] };

describe('dbwatch wait (init-container gate) on the real API server', () => {
  test('waits through "not found" and opens when Ready=True for the current generation', async () => {
    const progress: string[] = [];
    const waiting = waitForPrerequisite({
      name: 'late',
      namespace: ns,
      timeoutMs: 20_000,
      pollMs: 200,
      kubeconfig: adminKubeconfigPath(),
      onProgress: (m) => progress.push(m),
    });
    await new Promise((ok) => setTimeout(ok, 600));
    await createPrerequisite(ns, 'late', spec);
    await new Promise((ok) => setTimeout(ok, 600));
    await markReady('late', true);
    const result = await waiting;
    expect(result).toEqual({ ready: true, message: 'all 1 database(s) passed' });
    expect(progress[0]).toBe('DatabasePrerequisite late does not exist (yet)');
    expect(progress).toContain('DatabasePrerequisite late generation 1 has not been evaluated yet');
  });

  test('the CLI exits 1 on timeout with the last reason, 0 once ready', async () => {
    await createPrerequisite(ns, 'blocked', spec);
    await markReady('blocked', false);
    const run = () =>
      new Promise<{ code: number; stdout: string }>((ok) =>
        execFile(
          process.execPath,
          [
            '--import',
            'tsx',
            'src/cli/main.ts',
            'wait',
            'blocked',
            '-n',
            ns,
            '--timeout',
            '2s',
            '--kubeconfig',
            adminKubeconfigPath(),
          ],
          (error, stdout) => ok({ code: error ? ((error as { code?: number }).code ?? 1) : 0, stdout }),
        ),
      );
    const blocked = await run();
    expect(blocked.code).toBe(1);
    expect(blocked.stdout).toMatch(/not ready: .*\/blocked: Failed: orders: pending migrations: 2/);
    await markReady('blocked', true);
    expect((await run()).code).toBe(0);
  });

  test('the GitOps example is accepted by the API server', async () => {
    await kubectl(['create', 'namespace', 'shop']);
    const result = await kubectl(['apply', '--dry-run=server', '-k', 'examples/gitops']);
    expect(result.stderr).toBe('');
    expect(result.stdout).toMatch(/databasemonitor.dbwatch.dev\/orders created \(server dry run\)/);
    expect(result.stdout).toMatch(/deployment.apps\/shop-api created \(server dry run\)/);
  });
});
