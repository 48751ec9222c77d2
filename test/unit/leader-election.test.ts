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

/**
 * A Lease served with faults a real API server shows: frozen (every request hangs until its caller aborts it),
 * or a write applied while its answer never arrives. Tracks requests left running.
 */
function faultyLeaseServer() {
  let lease: { metadata: { resourceVersion: string }; spec: Record<string, unknown> } | undefined;
  let version = 0;
  const state = { frozen: false, applyThenHang: 0, open: 0, aborted: 0 };
  const requests: { at: number; what: string }[] = [];
  const hang = (signal?: AbortSignal) =>
    new Promise<never>((_, reject) => {
      state.open++;
      signal?.addEventListener('abort', () => {
        state.open--;
        state.aborted++;
        reject(Object.assign(new Error('aborted'), { name: 'AbortError' }));
      });
    });
  const answer = async <T>(what: string, signal: AbortSignal | undefined, work: () => T): Promise<T> => {
    requests.push({ at: Date.now(), what });
    if (state.frozen) return hang(signal);
    return work();
  };
  const conflict = () => Object.assign(new Error('conflict'), { code: 409 });
  const coordination = {
    readNamespacedLease: (_: unknown, call?: { signal?: AbortSignal }) =>
      answer('GET', call?.signal, () => {
        if (!lease) throw Object.assign(new Error('not found'), { code: 404 });
        return structuredClone(lease);
      }),
    createNamespacedLease: ({ body }: { body: { spec: Record<string, unknown> } }, call?: { signal?: AbortSignal }) =>
      answer('POST', call?.signal, () => {
        if (lease) throw conflict();
        lease = { metadata: { resourceVersion: String(++version) }, spec: body.spec };
        return structuredClone(lease);
      }),
    replaceNamespacedLease: async (
      { body }: { body: { metadata: { resourceVersion?: string }; spec: Record<string, unknown> } },
      call?: { signal?: AbortSignal },
    ) => {
      const applied = await answer('PUT', call?.signal, () => {
        if (body.metadata.resourceVersion !== lease?.metadata.resourceVersion) throw conflict();
        lease = { metadata: { resourceVersion: String(++version) }, spec: body.spec };
        return structuredClone(lease);
      });
      if (state.applyThenHang > 0) {
        state.applyThenHang--;
        return hang(call?.signal); // applied on the server; the answer is lost
      }
      return applied;
    },
  };
  return {
    clients: { coordination } as unknown as KubeClients,
    state,
    requests,
    holder: () => lease?.spec.holderIdentity,
    version: () => version,
    takeOver: (who: string) => {
      lease = { metadata: { resourceVersion: String(++version) }, spec: { ...lease?.spec, holderIdentity: who } };
    },
  };
}

/** Short periods in real time (the loop's timers are real); proportions as the defaults. */
const FAST = {
  leaseDurationSeconds: 1.5,
  renewDeadlineSeconds: 1,
  retryPeriodSeconds: 0.2,
  requestTimeoutSeconds: 0.3,
};

function fastElector(server: ReturnType<typeof faultyLeaseServer>) {
  const timeline: { at: number; event: string; open: number }[] = [];
  const elector = new LeaderElector(
    server.clients,
    {
      namespace: 'ns',
      name: 'lease',
      identity: 'a',
      ...FAST,
      onStartedLeading: () => timeline.push({ at: Date.now(), event: 'started', open: server.state.open }),
      onStoppedLeading: () => timeline.push({ at: Date.now(), event: 'stopped', open: server.state.open }),
    },
    pino({ level: 'silent' }),
  );
  return { elector, timeline };
}

describe('LeaderElector renewal (client-go semantics)', () => {
  test('a renewal applied by the server but never answered: the next one meets 409, finds itself the holder, keeps leading', async () => {
    const server = faultyLeaseServer();
    const { elector, timeline } = fastElector(server);
    elector.start();
    try {
      await until('a to lead', () => elector.isLeader);
      const before = server.version();
      server.state.applyThenHang = 1;
      await until('the lost answer and a renewal after it', () => server.version() >= before + 3);
      expect(server.state.aborted).toBe(1);
      expect(server.requests.slice(-4).map((r) => r.what)).toEqual(expect.arrayContaining(['PUT', 'GET']));
      await settle();
      expect(timeline.map((t) => t.event)).toEqual(['started']);
      expect([elector.isLeader, server.holder()]).toEqual([true, 'a']);
    } finally {
      await elector.stop();
    }
    expect(server.holder()).toBe(''); // released, the 409 of the release race handled
  });

  test('a frozen API server: retried every retry period, each attempt aborted, leadership given up at the renew deadline', async () => {
    const server = faultyLeaseServer();
    const { elector, timeline } = fastElector(server);
    elector.start();
    try {
      await until('a to lead', () => elector.isLeader);
      await new Promise((ok) => setTimeout(ok, 300)); // a renewal or two
      const lastRenewal = server.requests.at(-1)!.at;
      server.state.frozen = true;
      await until('leadership given up', () => !elector.isLeader, 5000);
      const stoppedAfter = timeline.at(-1)!.at - lastRenewal;
      const attempts = server.requests.filter((r) => r.at > lastRenewal);
      process.stdout.write(
        `frozen API server (renew deadline 1 s, lease 1.5 s): stopped ${stoppedAfter} ms after the last renewal began, ${attempts.length} attempts\n`,
      );
      expect(timeline.map((t) => t.event)).toEqual(['started', 'stopped']);
      expect(stoppedAfter).toBeGreaterThanOrEqual(1000 - 20);
      expect(stoppedAfter).toBeLessThan(1500); // before a standby could take the Lease
      expect(attempts.length).toBeGreaterThanOrEqual(2);
      expect(timeline.at(-1)!.open).toBe(0); // every renewal attempt aborted, none left running
    } finally {
      server.state.frozen = false;
      await elector.stop({ release: false });
    }
  });

  test('a freeze shorter than the renew deadline: renewal retried and leadership kept', async () => {
    const server = faultyLeaseServer();
    const { elector, timeline } = fastElector(server);
    elector.start();
    try {
      await until('a to lead', () => elector.isLeader);
      await new Promise((ok) => setTimeout(ok, 250));
      server.state.frozen = true;
      await new Promise((ok) => setTimeout(ok, 500));
      server.state.frozen = false;
      const thawed = server.version();
      await until('a renewal after the freeze', () => server.version() > thawed);
      expect(timeline.map((t) => t.event)).toEqual(['started']);
      expect(server.state.aborted).toBeGreaterThanOrEqual(1);
    } finally {
      await elector.stop();
    }
  });

  test('a Lease written by another holder ends leadership at once, not at the deadline', async () => {
    const server = faultyLeaseServer();
    const { elector, timeline } = fastElector(server);
    elector.start();
    try {
      await until('a to lead', () => elector.isLeader);
      const takenAt = Date.now();
      server.takeOver('b');
      await until('leadership given up', () => !elector.isLeader);
      expect(timeline.at(-1)!.at - takenAt).toBeLessThan(600); // one retry period plus a round trip
      expect(server.holder()).toBe('b');
    } finally {
      await elector.stop();
    }
    expect(server.holder()).toBe('b'); // never released: not ours
  });
});
