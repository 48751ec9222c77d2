import { beforeAll, describe, expect, test } from '@jest/globals';
import * as k8s from '@kubernetes/client-node';
import { pino } from 'pino';
import { connectKube, makeClients } from '../../../src/controller/k8s/client.js';
import { LeaderElector } from '../../../src/controller/k8s/leader-election.js';
import { freshNamespace, kubeConfig } from '../../support/kube.js';
import { type LeadershipChange, maxLeaders, recordLeadership } from '../../support/leadership.js';
import { eventually, operatorUserKubeconfig } from '../../support/operator.js';

/**
 * Two replicas electing on the real API server, as the operator's user (Leases through its Role), one of
 * them with a clock that is minutes off. Expiry is judged by when a replica last saw the Lease change on
 * its own clock, so the skew must change nothing: one leader throughout, and a normal handover.
 */
const MINUTES = 60_000;

interface Replica {
  name: string;
  elector: LeaderElector;
  leading: boolean;
}

/** Every change of leadership, to prove there were never two leaders at once. */
let timeline: LeadershipChange[] = [];

async function replica(namespace: string, name: string, skewMs: number): Promise<Replica> {
  const clients = makeClients(await connectKube({ kubeconfig: await operatorUserKubeconfig(namespace) }));
  const r: Replica = { name, leading: false } as Replica;
  r.elector = new LeaderElector(
    clients,
    {
      namespace,
      name: 'dbwatch-operator',
      identity: name,
      now: () => Date.now() + skewMs,
      ...recordLeadership(timeline, name, r),
    },
    pino({ level: 'silent' }),
  );
  r.elector.start();
  return r;
}

const holder = async (namespace: string) =>
  (await kubeConfig().makeApiClient(k8s.CoordinationV1Api).readNamespacedLease({ namespace, name: 'dbwatch-operator' }))
    .spec?.holderIdentity;

async function scenario(leaderSkewMs: number, standbySkewMs: number) {
  timeline = [];
  const ns = await freshNamespace('skew');
  const leader = await replica(ns, 'replica-a', leaderSkewMs);
  await eventually('a leads', async () => (leader.leading ? true : undefined), 10_000, 100);
  const standby = await replica(ns, 'replica-b', standbySkewMs);
  try {
    return await observeHandover(ns, leader, standby);
  } finally {
    // Whatever failed, no elector keeps renewing into the rest of the run.
    await leader.elector.stop({ release: false });
    await standby.elector.stop();
  }
}

async function observeHandover(
  ns: string,
  leader: Awaited<ReturnType<typeof replica>>,
  standby: Awaited<ReturnType<typeof replica>>,
): Promise<number> {
  // Longer than the lease (15 s) would matter if renewTime were compared across clocks: it would at once.
  const watchUntil = Date.now() + 8000;
  while (Date.now() < watchUntil) {
    expect([leader.leading, standby.leading]).toEqual([true, false]);
    expect(await holder(ns)).toBe('replica-a');
    await new Promise((ok) => setTimeout(ok, 250));
  }
  // The leader dies without handing the Lease back (a dead process calls no callback: record it here).
  await leader.elector.stop({ release: false });
  const diedAt = Date.now();
  timeline.push({ at: diedAt, who: 'replica-a', leading: false });
  await eventually('b leads', async () => (standby.leading ? true : undefined), 25_000, 100);
  const handoverMs = Date.now() - diedAt;
  process.stdout.write(`${JSON.stringify(timeline.map((t) => ({ ...t, at: t.at - diedAt })))}\n`);
  expect(await holder(ns)).toBe('replica-b');
  await standby.elector.stop();
  expect(maxLeaders(timeline)).toBe(1);
  return handoverMs;
}

describe('leader election with a clock skewed by minutes', () => {
  beforeAll(async () => {
    await operatorUserKubeconfig();
  });

  test('a standby whose clock runs 10 minutes ahead does not take over a live leader; handover < 20 s', async () => {
    const handoverMs = await scenario(0, +10 * MINUTES);
    process.stdout.write(`handover with the standby 10 min ahead: ${handoverMs} ms\n`);
    expect(handoverMs).toBeLessThan(20_000);
  });

  test('a leader whose clock runs 10 minutes behind keeps the Lease against a correct standby; handover < 20 s', async () => {
    const handoverMs = await scenario(-10 * MINUTES, 0);
    process.stdout.write(`handover with the leader 10 min behind: ${handoverMs} ms\n`);
    expect(handoverMs).toBeLessThan(20_000);
  });
});
