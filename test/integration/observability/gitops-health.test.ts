import { afterAll, beforeAll, describe, expect, test } from '@jest/globals';
import * as k8s from '@kubernetes/client-node';
import type { DatabasePrerequisiteStatus } from '../../../src/api/index.js';
import { nextPrerequisiteStatus } from '../../../src/controller/prerequisite/status.js';
import { startBlackHole } from '../../support/black-hole.js';
import { freePort } from '../../support/free-port.js';
import { gitopsHealth, statusOf } from '../../support/gitops-health.js';
import { ensureCrds, freshNamespace } from '../../support/kube.js';
import { eventually, startTestOperator, type TestOperator } from '../../support/operator.js';
import { createDatabase, secretData } from '../../support/pg-fixtures.js';
import {
  admin,
  condition,
  createMonitor,
  createPrerequisite,
  createSecret,
  patchMonitor,
} from '../../support/resources.js';

/*
 * GitOps tools judge dbwatch objects with their own code, so prove it with that code: the Argo CD health
 * scripts of docs/gitops.md run on gopher-lua (the Lua engine Argo CD embeds, set up as Argo CD sets up a
 * configured script) and kstatus (Flux, kpt) computes its status — both in hack/gitops-health, a small Go
 * program — on live objects read back from the API server after the real operator wrote their status.
 */

type Live = Record<string, unknown> & { metadata: { generation: number }; status?: Record<string, unknown> };

let judge: ReturnType<typeof gitopsHealth>;
let ns: string;
let operator: TestOperator | undefined;
let blackHole: Awaited<ReturnType<typeof startBlackHole>>;

const group = { group: 'dbwatch.dev', version: 'v1alpha1' };
const live = async (plural: 'databasemonitors' | 'databaseprerequisites', name: string, namespace = ns) =>
  (await admin().objects.getNamespacedCustomObject({ ...group, namespace, plural, name })) as Live;

beforeAll(async () => {
  // Cached outside the repo by a hash of its sources; the first build on a machine takes a minute or two.
  judge = gitopsHealth();
  await ensureCrds();
  ns = await freshNamespace('gitops');
  blackHole = await startBlackHole();
  const db = await createDatabase({ monitor: true });
  await createSecret(ns, 'shop-db', secretData(db));
  await createSecret(ns, 'refused-db', { ...secretData(db), host: '127.0.0.1', port: String(await freePort()) });
  await createSecret(ns, 'silent-db', { ...secretData(db), host: '127.0.0.1', port: String(blackHole.port) });
  operator = await startTestOperator(ns);
}, 660_000);

afterAll(async () => {
  await operator?.stop();
  await blackHole?.stop();
});

const monitor = (secret: string, extra: Record<string, unknown> = {}) => ({
  connection: { secretRef: { name: secret }, connectTimeoutSeconds: 30 },
  interval: '1m',
  timeoutSeconds: 60,
  ...extra,
});

async function until(name: string, kind: 'databasemonitors' | 'databaseprerequisites', ok: (s: Live) => boolean) {
  return eventually(
    `${name} to reach the state`,
    async () => {
      const object = await live(kind, name);
      return ok(object) ? object : undefined;
    },
    30_000,
  );
}
const cond = (o: Live, type: string) => condition(o.status as never, type);

describe('GitOps health of live DatabaseMonitors (Argo CD Lua on gopher-lua, kstatus)', () => {
  test('a healthy monitor: Argo CD Healthy, kstatus Current', async () => {
    await createMonitor(ns, 'healthy', monitor('shop-db'));
    const object = await until('healthy', 'databasemonitors', (o) => cond(o, 'Ready')?.status === 'True');
    expect(statusOf(judge('DatabaseMonitor', object))).toEqual({ argocd: 'Healthy', kstatus: 'Current' });
  });

  test('a new generation still being checked: Argo CD Progressing, kstatus InProgress', async () => {
    await createMonitor(ns, 'changing', monitor('shop-db'));
    await until('changing', 'databasemonitors', (o) => cond(o, 'Ready')?.status === 'True');
    // The new connection never answers: the check of generation 2 runs for connectTimeoutSeconds (30 s).
    await patchMonitor(ns, 'changing', { spec: { connection: { secretRef: { name: 'silent-db' } } } });
    // One write per pass: nothing is written until generation 2's check ends; observedGeneration says it all.
    const object = await until('changing', 'databasemonitors', (o) => o.metadata.generation === 2);
    expect(object.metadata.generation).toBe(2);
    expect(object.status?.observedGeneration).toBe(1);
    const verdicts = judge('DatabaseMonitor', object);
    expect(statusOf(verdicts)).toEqual({ argocd: 'Progressing', kstatus: 'InProgress' });
    expect(verdicts.kstatus.message).toBe('DatabaseMonitor generation is 2, but latest observed generation is 1');
  });

  test('an unreachable database: Argo CD Degraded; kstatus InProgress (Ready=False, a retry may help)', async () => {
    await createMonitor(ns, 'refused', monitor('refused-db'));
    const object = await until('refused', 'databasemonitors', (o) => o.status?.status === 'unhealthy');
    expect(cond(object, 'Ready')).toMatchObject({ status: 'False', reason: 'Unhealthy' });
    expect(statusOf(judge('DatabaseMonitor', object))).toEqual({ argocd: 'Degraded', kstatus: 'InProgress' });
  });

  test('a stalled monitor (its Secret is missing): Argo CD Degraded, kstatus Failed', async () => {
    await createMonitor(ns, 'stalled', monitor('no-such-secret'));
    const object = await until('stalled', 'databasemonitors', (o) => cond(o, 'Stalled')?.status === 'True');
    const verdicts = judge('DatabaseMonitor', object);
    expect(statusOf(verdicts)).toEqual({ argocd: 'Degraded', kstatus: 'Failed' });
    expect(verdicts.argocd.message).toBe(cond(object, 'Stalled')?.message);
  });

  test('a suspended monitor: Argo CD Suspended; kstatus InProgress (Ready=Unknown)', async () => {
    await createMonitor(ns, 'paused', monitor('shop-db', { suspend: true }));
    const object = await until('paused', 'databasemonitors', (o) => cond(o, 'Ready')?.reason === 'Suspended');
    expect(statusOf(judge('DatabaseMonitor', object))).toEqual({ argocd: 'Suspended', kstatus: 'InProgress' });
  });

  test('not yet seen by any operator (no status): Argo CD Progressing; kstatus Current (its known limit)', async () => {
    const elsewhere = await freshNamespace('gitops-unwatched');
    await createMonitor(elsewhere, 'unseen', monitor('shop-db'));
    const object = await live('databasemonitors', 'unseen', elsewhere);
    expect(object.status).toBeUndefined();
    expect(statusOf(judge('DatabaseMonitor', object))).toEqual({ argocd: 'Progressing', kstatus: 'Current' });
  });
});

describe('GitOps health of live DatabasePrerequisites', () => {
  test('passed: Argo CD Healthy, kstatus Current', async () => {
    await createPrerequisite(ns, 'ready', { databases: [{ name: 'shop', monitorRef: { name: 'healthy' } }] });
    const object = await until('ready', 'databaseprerequisites', (o) => cond(o, 'Ready')?.status === 'True');
    expect(statusOf(judge('DatabasePrerequisite', object))).toEqual({ argocd: 'Healthy', kstatus: 'Current' });
  });

  test('failed (its database is down): Argo CD Degraded; kstatus InProgress', async () => {
    await createPrerequisite(ns, 'blocked', { databases: [{ name: 'shop', monitorRef: { name: 'refused' } }] });
    const object = await until('blocked', 'databaseprerequisites', (o) => cond(o, 'Ready')?.status === 'False');
    expect(cond(object, 'Ready')?.reason).toBe('Failed');
    expect(statusOf(judge('DatabasePrerequisite', object))).toEqual({ argocd: 'Degraded', kstatus: 'InProgress' });
  });

  test('a new generation not evaluated yet (operator stopped): Argo CD Progressing, kstatus InProgress', async () => {
    await createPrerequisite(ns, 'edited', { databases: [{ name: 'shop', monitorRef: { name: 'healthy' } }] });
    await until('edited', 'databaseprerequisites', (o) => cond(o, 'Ready')?.status === 'True');
    await operator?.stop();
    operator = undefined;
    await admin().objects.patchNamespacedCustomObject(
      {
        ...group,
        namespace: ns,
        plural: 'databaseprerequisites',
        name: 'edited',
        body: { spec: { allowWarnings: true } },
      },
      k8s.setHeaderOptions('Content-Type', k8s.PatchStrategy.MergePatch),
    );
    const object = await live('databaseprerequisites', 'edited');
    expect([object.metadata.generation, object.status?.observedGeneration]).toEqual([2, 1]);
    expect(statusOf(judge('DatabasePrerequisite', object))).toEqual({ argocd: 'Progressing', kstatus: 'InProgress' });
  });

  test('stalled (a spec the operator refuses): Argo CD Degraded, kstatus Failed', async () => {
    // The CRD's own validation keeps invalid specs out, so the operator's InvalidSpec status (built by its own
    // pure function) is written through the status subresource onto a live object in an unwatched namespace.
    const elsewhere = await freshNamespace('gitops-unwatched');
    await createPrerequisite(elsewhere, 'refused', { databases: [{ name: 'shop', monitorRef: { name: 'x' } }] });
    const created = await live('databaseprerequisites', 'refused', elsewhere);
    const { status } = nextPrerequisiteStatus({
      observation: { kind: 'InvalidSpec', message: 'spec.databases: too many' },
      previous: undefined,
      generation: 1,
      now: new Date(),
    });
    await admin().objects.replaceNamespacedCustomObjectStatus({
      ...group,
      namespace: elsewhere,
      plural: 'databaseprerequisites',
      name: 'refused',
      body: { ...created, status: status satisfies DatabasePrerequisiteStatus },
    });
    const object = await live('databaseprerequisites', 'refused', elsewhere);
    const verdicts = judge('DatabasePrerequisite', object);
    expect(statusOf(verdicts)).toEqual({ argocd: 'Degraded', kstatus: 'Failed' });
    expect(verdicts.kstatus.message).toBe('spec.databases: too many');
  });
});
