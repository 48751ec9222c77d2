import { type ChildProcess, spawn } from 'node:child_process';
import { afterAll, beforeAll, describe, expect, test } from '@jest/globals';
import * as k8s from '@kubernetes/client-node';
import { freePort } from '../../support/free-port.js';
import { ensureCrds, freshNamespace, kubeConfig } from '../../support/kube.js';
import { eventually, operatorUserKubeconfig } from '../../support/operator.js';
import { createDatabase, secretData } from '../../support/pg-fixtures.js';
import { createMonitor, createSecret, getMonitor } from '../../support/resources.js';

interface OperatorProcess {
  name: string;
  port: number;
  child: ChildProcess;
}

const children: OperatorProcess[] = [];

async function spawnOperator(name: string, namespace: string): Promise<OperatorProcess> {
  const port = await freePort();
  const child = spawn(process.execPath, ['--import', 'tsx', 'src/cli/main.ts', 'operator'], {
    env: {
      ...process.env,
      KUBECONFIG: await operatorUserKubeconfig(namespace),
      WATCH_NAMESPACES: namespace,
      LEADER_ELECTION_NAMESPACE: namespace,
      POD_NAME: name,
      METRICS_PORT: String(port),
      LOG_LEVEL: 'warn',
    },
    stdio: ['ignore', 'ignore', 'inherit'],
    detached: true,
  });
  const proc = { name, port, child };
  children.push(proc);
  await eventually(
    `${name} ready`,
    async () => ((await fetch(`http://127.0.0.1:${port}/readyz`)).ok ? true : undefined),
    30_000,
  );
  return proc;
}

async function metric(proc: OperatorProcess, name: string): Promise<number> {
  const text = await (await fetch(`http://127.0.0.1:${proc.port}/metrics`)).text();
  const total = text
    .split('\n')
    .filter((l) => l.startsWith(name))
    .reduce((sum, l) => sum + Number(l.split(' ').at(-1)), 0);
  return total;
}

const holder = async (namespace: string) =>
  (await kubeConfig().makeApiClient(k8s.CoordinationV1Api).readNamespacedLease({ namespace, name: 'dbwatch-operator' }))
    .spec?.holderIdentity;

afterAll(() => {
  for (const { child } of children) {
    try {
      process.kill(-child.pid!, 'SIGKILL');
    } catch {}
  }
});

describe('leader election between two operator processes', () => {
  let ns: string;
  beforeAll(async () => {
    await ensureCrds();
    ns = await freshNamespace('leader');
    const db = await createDatabase();
    await createSecret(ns, 'db', secretData(db));
  });

  test('only the leader runs checks; killing it hands over within 20 s', async () => {
    const a = await spawnOperator('operator-a', ns);
    await eventually('a leads', async () => ((await holder(ns)) === 'operator-a' ? true : undefined), 10_000);
    const b = await spawnOperator('operator-b', ns);
    await createMonitor(ns, 'orders', { connection: { secretRef: { name: 'db' } }, interval: '1s' });
    await eventually('checked', async () =>
      (await getMonitor(ns, 'orders')).status?.status === 'healthy' ? true : undefined,
    );
    await new Promise((ok) => setTimeout(ok, 3000));
    expect(await metric(a, 'dbwatch_leader')).toBe(1);
    expect(await metric(b, 'dbwatch_leader')).toBe(0);
    expect(await metric(a, 'dbwatch_reconcile_total{kind="DatabaseMonitor"')).toBeGreaterThanOrEqual(3);
    expect(await metric(b, 'dbwatch_reconcile_total')).toBe(0);

    process.kill(-a.child.pid!, 'SIGKILL');
    const killedAt = Date.now();
    await eventually('b leads', async () => ((await holder(ns)) === 'operator-b' ? true : undefined), 25_000, 250);
    await eventually(
      'b checks',
      async () => ((await metric(b, 'dbwatch_reconcile_total{kind="DatabaseMonitor"')) > 0 ? true : undefined),
      5000,
    );
    const handover = Date.now() - killedAt;
    process.stdout.write(`leader handover after SIGKILL: ${handover} ms\n`);
    expect(handover).toBeLessThan(20_000);
    expect(await metric(b, 'dbwatch_leader')).toBe(1);
  });

  test('SIGTERM releases the Lease so a standby takes over at once', async () => {
    const survivor = children.find((c) => c.name === 'operator-b')!;
    const c = await spawnOperator('operator-c', ns);
    expect(await holder(ns)).toBe('operator-b');
    process.kill(survivor.child.pid!, 'SIGTERM');
    const stoppedAt = Date.now();
    await eventually('c leads', async () => ((await holder(ns)) === 'operator-c' ? true : undefined), 10_000, 200);
    expect(Date.now() - stoppedAt).toBeLessThan(6000);
    expect(await metric(c, 'dbwatch_leader')).toBe(1);
  });
});
