import { readFileSync, writeFileSync } from 'node:fs';
import net from 'node:net';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, test } from '@jest/globals';
import * as k8s from '@kubernetes/client-node';
import { dump, load } from 'js-yaml';
import { pino } from 'pino';
import { connectKube, type KubeClients, makeClients } from '../../../src/controller/k8s/client.js';
import { LeaderElector } from '../../../src/controller/k8s/leader-election.js';
import { freshNamespace, kubeConfig } from '../../support/kube.js';
import { type LeadershipChange, maxLeaders, recordLeadership } from '../../support/leadership.js';
import { eventually, operatorUserKubeconfig } from '../../support/operator.js';

/**
 * Lease renewal against the real API server with client-go's defaults (lease 15 s, renew deadline 10 s,
 * retry 2 s, each request aborted after 5 s): a renewal whose answer is lost after the server applied it, and
 * a kube-apiserver frozen with SIGSTOP for less and for more than the renew deadline.
 */

/** Every change of leadership and every successful Lease write, by wall clock. */
interface Replica {
  name: string;
  elector: LeaderElector;
  clients: KubeClients;
  leading: boolean;
  /** Start of each Lease write that succeeded (the renewal the guarantee counts from). */
  writes: number[];
  /** When each of those writes was answered. */
  answered: number[];
}
let timeline: LeadershipChange[] = [];
const replicas: Replica[] = [];

async function replica(namespace: string, name: string, kubeconfig?: string): Promise<Replica> {
  const clients = makeClients(
    await connectKube({ kubeconfig: kubeconfig ?? (await operatorUserKubeconfig(namespace)) }),
  );
  const r = { name, clients, leading: false, writes: [], answered: [] } as unknown as Replica;
  // Records when each successful write started: the renewal the renew deadline is counted from.
  for (const call of ['replaceNamespacedLease', 'createNamespacedLease'] as const) {
    const original = clients.coordination[call] as (...args: unknown[]) => Promise<unknown>;
    (clients.coordination as Record<string, unknown>)[call] = async (...args: unknown[]) => {
      const startedAt = Date.now();
      const result = await original(...args);
      r.writes.push(startedAt);
      r.answered.push(Date.now());
      return result;
    };
  }
  r.elector = new LeaderElector(
    clients,
    {
      namespace,
      name: 'dbwatch-operator',
      identity: name,
      ...recordLeadership(timeline, name, r),
    },
    pino({ level: 'silent' }),
  );
  replicas.push(r);
  r.elector.start();
  return r;
}

const lease = async (namespace: string) =>
  kubeConfig().makeApiClient(k8s.CoordinationV1Api).readNamespacedLease({ namespace, name: 'dbwatch-operator' });

const apiServerPid = () => Number(readFileSync(join(process.env.DBWATCH_TEST_CP_DIR!, 'kube-apiserver.pid'), 'utf8'));

/** Freezes kube-apiserver for `ms` (a stuck process or a paused VM): connections open, nothing answers. */
async function freezeApiServer(ms: number): Promise<{ frozenAt: number; thawedAt: number }> {
  const pid = apiServerPid();
  process.kill(pid, 'SIGSTOP');
  const frozenAt = Date.now();
  try {
    await new Promise((ok) => setTimeout(ok, ms));
  } finally {
    process.kill(pid, 'SIGCONT');
  }
  return { frozenAt, thawedAt: Date.now() };
}

/**
 * A TCP relay in front of kube-apiserver that can swallow the next answer on the connections open now: the
 * request reaches the server and is applied, the answer never comes back (a network that drops it).
 */
async function answerDroppingRelay(upstreamPort: number) {
  const connections = new Set<{ client: net.Socket; dropNext: boolean; dropping: boolean }>();
  const server = net.createServer((client) => {
    const upstream = net.connect(upstreamPort, '127.0.0.1');
    const conn = { client, dropNext: false, dropping: false };
    connections.add(conn);
    client.pipe(upstream);
    upstream.on('data', (chunk) => {
      if (conn.dropNext) {
        conn.dropNext = false;
        conn.dropping = true;
      }
      if (!conn.dropping) client.write(chunk);
    });
    const close = () => {
      connections.delete(conn);
      client.destroy();
      upstream.destroy();
    };
    client.on('close', close).on('error', close);
    upstream.on('close', close).on('error', close);
  });
  await new Promise<void>((ok) => server.listen(0, '127.0.0.1', ok));
  return {
    port: (server.address() as net.AddressInfo).port,
    dropNextAnswer: () => {
      for (const conn of connections) conn.dropNext = true;
      return connections.size;
    },
    close: () => {
      for (const { client } of connections) client.destroy();
      server.close();
    },
  };
}

let relay: Awaited<ReturnType<typeof answerDroppingRelay>>;
beforeAll(async () => {
  const server = new URL(kubeConfig().getCurrentCluster()!.server);
  relay = await answerDroppingRelay(Number(server.port));
});
afterAll(async () => {
  for (const r of replicas) {
    await r.elector.stop({ release: false });
    r.clients.api.close();
  }
  relay.close();
});

describe('Lease renewal with client-go semantics on the real API server', () => {
  test('a renewal applied by the server whose answer was lost: the next one meets 409, finds itself the holder, keeps leading', async () => {
    timeline = [];
    const ns = await freshNamespace('renew-lost');
    const kubeconfig = await operatorUserKubeconfig(ns);
    const viaRelay = join(process.env.DBWATCH_TEST_CP_DIR!, `kubeconfig-relay-${Date.now()}`);
    const config = load(readFileSync(kubeconfig, 'utf8')) as { clusters: { cluster: { server: string } }[] };
    config.clusters[0]!.cluster.server = `https://127.0.0.1:${relay.port}`;
    writeFileSync(viaRelay, dump(config), { mode: 0o600 });

    const a = await replica(ns, 'replica-a', viaRelay);
    await eventually('a leads', async () => (a.leading ? true : undefined), 10_000, 100);
    // Right after a renewal, so the next request on the kept-alive connection is the next renewal.
    const renewals = a.writes.length;
    await eventually('a renewal', async () => (a.writes.length > renewals ? true : undefined), 5000, 20);
    const before = await lease(ns);
    expect(relay.dropNextAnswer()).toBe(1);
    const droppedAt = Date.now();
    // The server applies the renewal (the Lease changes) while the replica never hears of it…
    await eventually(
      'the Lease renewed by the lost write',
      async () => ((await lease(ns)).metadata?.resourceVersion !== before.metadata?.resourceVersion ? true : undefined),
      5000,
      50,
    );
    const afterLost = a.writes.length;
    // …aborts it at its 5 s timeout, meets 409 with the next write, reads the Lease, and renews on.
    await eventually(
      'a renews after the lost answer',
      async () => (a.writes.length > afterLost ? true : undefined),
      15_000,
      50,
    );
    const recoveredMs = a.writes.at(-1)! - droppedAt;
    process.stdout.write(`lost renewal answer: renewed again ${recoveredMs} ms after the answer was dropped\n`);
    const after = await lease(ns);
    expect(after.spec?.holderIdentity).toBe('replica-a');
    expect(after.spec?.leaseTransitions).toBe(before.spec?.leaseTransitions);
    expect(timeline).toEqual([expect.objectContaining({ who: 'replica-a', leading: true })]);
    expect(a.leading).toBe(true);
    expect(recoveredMs).toBeLessThan(10_000);
    await a.elector.stop();
  }, 60_000);

  test('kube-apiserver frozen for 6 s (less than the renew deadline): leadership kept', async () => {
    timeline = [];
    const ns = await freshNamespace('renew-freeze');
    const a = await replica(ns, 'replica-a');
    await eventually('a leads', async () => (a.leading ? true : undefined), 10_000, 100);
    const b = await replica(ns, 'replica-b');
    await new Promise((ok) => setTimeout(ok, 3000));
    const { thawedAt } = await freezeApiServer(6000);
    const writes = a.writes.length;
    await eventually(
      'a renews after the freeze',
      async () => (a.writes.length > writes ? true : undefined),
      10_000,
      50,
    );
    process.stdout.write(`6 s freeze: renewed ${a.answered.at(-1)! - thawedAt} ms after kube-apiserver resumed\n`);
    await new Promise((ok) => setTimeout(ok, 3000));
    expect([a.leading, b.leading]).toEqual([true, false]);
    expect(timeline.map((t) => `${t.who}:${t.leading}`)).toEqual(['replica-a:true']);
    expect((await lease(ns)).spec?.holderIdentity).toBe('replica-a');
    await a.elector.stop();
    await b.elector.stop();
  }, 60_000);

  test('kube-apiserver frozen for 14 s: the leader stops at its renew deadline, before the Lease can be taken; one leader after', async () => {
    timeline = [];
    const ns = await freshNamespace('renew-deadline');
    const a = await replica(ns, 'replica-a');
    await eventually('a leads', async () => (a.leading ? true : undefined), 10_000, 100);
    const b = await replica(ns, 'replica-b');
    await new Promise((ok) => setTimeout(ok, 3000));
    const { frozenAt, thawedAt } = await freezeApiServer(14_000);
    const lastRenewal = a.writes.filter((at) => at < frozenAt).at(-1)!;
    const stopped = timeline.find((t) => t.who === 'replica-a' && !t.leading);
    expect(stopped).toBeDefined();
    const stoppedAfter = stopped!.at - lastRenewal;
    process.stdout.write(
      `14 s freeze: leadership given up ${stoppedAfter} ms after the start of the last successful renewal ` +
        `(${stopped!.at - frozenAt} ms into the freeze); the Lease could not be taken before ${15_000} ms\n`,
    );
    expect(stoppedAfter).toBeGreaterThanOrEqual(10_000 - 50);
    expect(stoppedAfter).toBeLessThan(11_000);
    // Exactly one leader once the API server answers again (either replica may win: a's identity still holds
    // the Lease, so a may take it back at once; b only after the lease duration).
    await eventually('one leader', async () => (a.leading !== b.leading ? true : undefined), 25_000, 100);
    const leader = a.leading ? 'replica-a' : 'replica-b';
    process.stdout.write(`after the freeze: ${leader} leads ${timeline.at(-1)!.at - thawedAt} ms after resume\n`);
    expect((await lease(ns)).spec?.holderIdentity).toBe(leader);
    expect(maxLeaders(timeline)).toBe(1);
    await a.elector.stop();
    await b.elector.stop();
  }, 90_000);
});
