import { describe, expect, test } from '@jest/globals';
import { pino } from 'pino';
import type { KubeClients } from '../../src/controller/k8s/client.js';
import { LeaderElector } from '../../src/controller/k8s/leader-election.js';

/** An in-memory Lease with the API server's optimistic concurrency (409 on a stale resourceVersion). */
function leaseServer() {
  let lease: { metadata: { resourceVersion: string }; spec: Record<string, unknown> } | undefined;
  let version = 0;
  const conflict = () => Object.assign(new Error('conflict'), { code: 409 });
  /** The record version each replica last read, so tests wait for observations instead of sleeping. */
  const seen = new Map<string, number>();
  const coordinationFor = (identity: string) => ({
    ...coordination,
    readNamespacedLease: async () => {
      seen.set(identity, version);
      return coordination.readNamespacedLease();
    },
  });
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
  return {
    clientsFor: (identity: string) => ({ coordination: coordinationFor(identity) }) as unknown as KubeClients,
    holder: () => lease?.spec.holderIdentity,
    version: () => version,
    seenBy: (identity: string) => seen.get(identity) ?? -1,
  };
}

/** Polls real time (the 10 ms retry loop) until the condition holds: robust on a busy machine. */
async function until(what: string, check: () => boolean, timeoutMs = 10_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!check()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((ok) => setTimeout(ok, 5));
  }
}

/** Real time only for the 10 ms retry loop; lease expiry is judged on the injected clocks. */
const settle = () => new Promise((ok) => setTimeout(ok, 100));
/** The standby has read the record as it is now, or newer (the leader may keep renewing meanwhile). */
const standbySaw = (server: ReturnType<typeof leaseServer>) => {
  const now = server.version();
  return until('the standby to read the record', () => server.seenBy('b') >= now);
};

function replica(server: ReturnType<typeof leaseServer>, identity: string, clock: { now: number }) {
  const state = { leading: false };
  const elector = new LeaderElector(
    server.clientsFor(identity),
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
    await until('a to lead', () => leader.state.leading);
    const standby = replica(server, 'b', b);
    standby.elector.start();
    try {
      await standbySaw(server);
      expect([leader.state.leading, standby.state.leading, server.holder()]).toEqual([true, false, 'a']);

      await leader.elector.stop({ release: false }); // dies; the Lease stops changing
      await until('b to see the last record', () => server.seenBy('b') >= server.version());
      b.now += 14_000;
      await settle();
      expect([standby.state.leading, server.holder()]).toEqual([false, 'a']);
      b.now += 2000;
      await until('b to take over', () => standby.state.leading && server.holder() === 'b');
    } finally {
      await leader.elector.stop({ release: false });
      await standby.elector.stop();
    }
  });

  test('a live leader whose clock is 10 minutes behind keeps the Lease, however old its renewTime looks', async () => {
    const server = leaseServer();
    const t0 = Date.parse('2026-01-01T00:00:00Z');
    const a = { now: t0 - 10 * 60_000 };
    const b = { now: t0 };
    const leader = replica(server, 'a', a);
    leader.elector.start();
    await until('a to lead', () => leader.state.leading);
    const standby = replica(server, 'b', b);
    standby.elector.start();
    try {
      for (let i = 0; i < 8; i++) {
        // 40 s pass in steps shorter than the lease; the leader renews in between, so the record keeps changing.
        const before = server.version();
        a.now += 5000;
        b.now += 5000;
        await until('a renewal', () => server.version() > before);
        await standbySaw(server);
        expect([leader.state.leading, standby.state.leading, server.holder()]).toEqual([true, false, 'a']);
      }
      await leader.elector.stop();
      // A released Lease is taken at once.
      await until('b to take the released Lease', () => standby.state.leading && server.holder() === 'b');
    } finally {
      await leader.elector.stop();
      await standby.elector.stop();
    }
  });
});
