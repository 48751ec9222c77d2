import { describe, expect, test } from '@jest/globals';
import { pino } from 'pino';
import type { KubeClients } from '../../src/controller/k8s/client.js';
import { LeaderElector } from '../../src/controller/k8s/leader-election.js';

/** An in-memory Lease with the API server's optimistic concurrency (409 on a stale resourceVersion). */
function leaseServer() {
  let lease: { metadata: { resourceVersion: string }; spec: Record<string, unknown> } | undefined;
  let version = 0;
  const conflict = () => Object.assign(new Error('conflict'), { code: 409 });
  const coordination = {
    readNamespacedLease: async () => {
      if (!lease) throw Object.assign(new Error('not found'), { code: 404 });
      return structuredClone(lease);
    },
    createNamespacedLease: async ({ body }: { body: { spec: Record<string, unknown> } }) => {
      if (lease) throw conflict();
      lease = { metadata: { resourceVersion: String(++version) }, spec: body.spec };
      return structuredClone(lease);
    },
    replaceNamespacedLease: async ({
      body,
    }: {
      body: { metadata: { resourceVersion?: string }; spec: Record<string, unknown> };
    }) => {
      if (body.metadata.resourceVersion !== lease?.metadata.resourceVersion) throw conflict();
      lease = { metadata: { resourceVersion: String(++version) }, spec: body.spec };
      return structuredClone(lease);
    },
  };
  return { clients: { coordination } as unknown as KubeClients, holder: () => lease?.spec.holderIdentity };
}

/** Real time only for the 10 ms retry loop; lease expiry is judged on the injected clocks. */
const settle = () => new Promise((ok) => setTimeout(ok, 100));

function replica(server: ReturnType<typeof leaseServer>, identity: string, clock: { now: number }) {
  const state = { leading: false };
  const elector = new LeaderElector(
    server.clients,
    {
      namespace: 'ns',
      name: 'lease',
      identity,
      retryPeriodSeconds: 0.01,
      now: () => clock.now,
      onStartedLeading: () => {
        state.leading = true;
      },
      onStoppedLeading: () => {
        state.leading = false;
      },
    },
    pino({ level: 'silent' }),
  );
  return { elector, state };
}

describe('LeaderElector with skewed clocks (expiry by local observation, as client-go)', () => {
  test('a standby 10 minutes ahead waits a full lease duration of its own clock after the last change', async () => {
    const server = leaseServer();
    const t0 = Date.parse('2026-01-01T00:00:00Z');
    const a = { now: t0 };
    const b = { now: t0 + 10 * 60_000 };
    const leader = replica(server, 'a', a);
    leader.elector.start();
    await settle();
    const standby = replica(server, 'b', b);
    standby.elector.start();
    await settle();
    expect([leader.state.leading, standby.state.leading, server.holder()]).toEqual([true, false, 'a']);

    await leader.elector.stop({ release: false }); // dies; the Lease stops changing
    await settle();
    b.now += 14_000;
    await settle();
    expect([standby.state.leading, server.holder()]).toEqual([false, 'a']);
    b.now += 2000;
    await settle();
    expect([standby.state.leading, server.holder()]).toEqual([true, 'b']);
    await standby.elector.stop();
  });

  test('a live leader whose clock is 10 minutes behind keeps the Lease, however old its renewTime looks', async () => {
    const server = leaseServer();
    const t0 = Date.parse('2026-01-01T00:00:00Z');
    const a = { now: t0 - 10 * 60_000 };
    const b = { now: t0 };
    const leader = replica(server, 'a', a);
    leader.elector.start();
    await settle();
    const standby = replica(server, 'b', b);
    standby.elector.start();
    for (let i = 0; i < 8; i++) {
      // 40 s pass in steps shorter than the lease; the leader renews in between, so the record keeps changing.
      a.now += 5000;
      b.now += 5000;
      await settle();
      expect([leader.state.leading, standby.state.leading, server.holder()]).toEqual([true, false, 'a']);
    }
    await leader.elector.stop();
    await settle();
    expect([standby.state.leading, server.holder()]).toEqual([true, 'b']); // a released Lease is taken at once
    await standby.elector.stop();
  });
});
