import { afterAll, beforeAll, describe, expect, test } from '@jest/globals';
import { connectKube, type KubeClients, makeClients } from '../../../src/controller/k8s/client.js';
import { StatusConflictError, type StatusTarget, writeStatus } from '../../../src/controller/k8s/status-writer.js';
import { ensureCrds, freshNamespace } from '../../support/kube.js';
import { operatorUserKubeconfig } from '../../support/operator.js';
import { admin, createMonitor, getMonitor } from '../../support/resources.js';

/**
 * Status writes guarded by the version the writer read, on the real API server, as the operator's user (so
 * the shipped ClusterRole is proven to allow them): the API server checks the precondition atomically, a stale
 * or recreated object is never overwritten.
 */
let clients: KubeClients;
let ns: string;

beforeAll(async () => {
  await ensureCrds();
  ns = await freshNamespace('status-guard');
  clients = makeClients(await connectKube({ kubeconfig: await operatorUserKubeconfig(ns) }));
});
afterAll(() => clients.api.close());

async function read(name: string): Promise<StatusTarget> {
  const m = await getMonitor(ns, name);
  return {
    plural: 'databasemonitors',
    namespace: ns,
    name,
    uid: m.metadata.uid,
    resourceVersion: m.metadata.resourceVersion,
  };
}

const rejection = async (work: Promise<unknown>) => {
  const error = await work.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(error).toBeInstanceOf(StatusConflictError);
  return error as StatusConflictError;
};

describe('status writes with a precondition', () => {
  test('the whole status is replaced, the spec untouched, and the new resourceVersion returned', async () => {
    await createMonitor(ns, 'orders', { connection: { secretRef: { name: 'db' } } });
    const first = await read('orders');
    const written = await writeStatus(clients, first, {
      observedGeneration: 1,
      status: 'unhealthy',
      consecutiveFailures: 3,
    });
    const after = await getMonitor(ns, 'orders');
    expect(written).toBe(after.metadata.resourceVersion);
    expect(written).not.toBe(first.resourceVersion);
    // A field the next status drops is gone (a merge patch would have kept it).
    await writeStatus(clients, { ...first, resourceVersion: written! }, { observedGeneration: 1, status: 'healthy' });
    const replaced = await getMonitor(ns, 'orders');
    expect(replaced.status).toEqual({ observedGeneration: 1, status: 'healthy' });
    expect(replaced.spec).toEqual(after.spec);
  });

  test('a write based on a version that has changed since is refused with a 409 and writes nothing', async () => {
    await createMonitor(ns, 'stale', { connection: { secretRef: { name: 'db' } } });
    const seen = await read('stale');
    // Someone else changes the object after we read it (a spec edit, or a deposed leader's last write).
    await writeStatus(clients, seen, { observedGeneration: 1, status: 'healthy' });
    const error = await rejection(writeStatus(clients, seen, { observedGeneration: 1, status: 'unhealthy' }));
    expect(error.code).toBe(409);
    expect(error.message).toBe(
      `status of DatabaseMonitor ${ns}/stale not written: the object changed since it was read`,
    );
    expect((await getMonitor(ns, 'stale')).status?.status).toBe('healthy');
  });

  test('an object deleted and created again under the same name is never written with the old uid', async () => {
    await createMonitor(ns, 'reborn', { connection: { secretRef: { name: 'db' } } });
    const old = await read('reborn');
    await admin().objects.deleteNamespacedCustomObject({
      group: 'dbwatch.dev',
      version: 'v1alpha1',
      plural: 'databasemonitors',
      namespace: ns,
      name: 'reborn',
    });
    await createMonitor(ns, 'reborn', { connection: { secretRef: { name: 'db' } } });
    const reborn = await read('reborn');
    expect(reborn.uid).not.toBe(old.uid);
    // Even with the new object's resourceVersion, the old uid is refused: the uid is checked too.
    const error = await rejection(writeStatus(clients, { ...reborn, uid: old.uid }, { status: 'healthy' }));
    expect(error.code).toBe(409);
    expect((await getMonitor(ns, 'reborn')).status).toBeUndefined();
  });

  test('a deleted object is a StatusConflictError with code 404', async () => {
    const error = await rejection(
      writeStatus(
        clients,
        { plural: 'databasemonitors', namespace: ns, name: 'never-was', uid: 'u', resourceVersion: '1' },
        { status: 'healthy' },
      ),
    );
    expect(error.code).toBe(404);
    expect(error.message).toMatch(/the object was deleted$/);
  });
});
