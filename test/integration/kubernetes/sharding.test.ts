import { afterAll, beforeAll, describe, expect, test } from '@jest/globals';
import { ownerOf } from '../../../src/controller/shard/ownership.js';
import { ensureCrds, freshNamespace, kubectl } from '../../support/kube.js';
import { eventually } from '../../support/operator.js';
import { type OperatorProcess, startOperatorProcess } from '../../support/operator-process.js';
import { createDatabase, secretData } from '../../support/pg-fixtures.js';
import { createMonitor, createSecret } from '../../support/resources.js';

/*
 * Active-active sharding on the real control plane: three operator processes (each as the operator's user,
 * with the shipped roles), 30 monitors on 1 s intervals. Each monitor is owned by one live replica (its
 * status.shard), a replica killed or frozen has its monitors taken over, one added takes its share, and a
 * replica that comes back from a freeze stops working before it owns anything again.
 */

const MONITORS = 30;
const GROUP = 'shards';
let ns: string;
const replicas = new Map<string, OperatorProcess>();

interface Listed {
  metadata: { name: string };
  status?: { shard?: string; lastCheckTime?: string; status?: string };
}

const monitors = async (): Promise<Listed[]> => {
  const got = await kubectl(['get', 'databasemonitors', '-n', ns, '-o', 'json']);
  return (JSON.parse(got.stdout) as { items: Listed[] }).items;
};
const shardsOf = async () => {
  const counts = new Map<string, number>();
  for (const m of await monitors()) counts.set(m.status?.shard ?? '-', (counts.get(m.status?.shard ?? '-') ?? 0) + 1);
  return counts;
};
/** Per-monitor series a replica exports: only for the monitors it owns (a handover removes the old owner's). */
const seriesOwned = async (replica: OperatorProcess) => {
  const text = await (await fetch(`http://127.0.0.1:${replica.metricsPort}/metrics`)).text();
  return text.split('\n').filter((l) => l.startsWith('dbwatch_database_last_check_timestamp_seconds{')).length;
};
const metric = async (replica: OperatorProcess, name: string) => {
  const text = await (await fetch(`http://127.0.0.1:${replica.metricsPort}/metrics`)).text();
  const line = text.split('\n').find((l) => l.startsWith(`${name} `));
  return line === undefined ? undefined : Number(line.split(' ')[1]);
};

/** Waits until every monitor's status names the owner rendezvous hashing gives it among `members`. */
const settled = (members: string[]) =>
  eventually(
    `every monitor owned as hashed over ${members.join(', ')}`,
    async () => {
      const listed = await monitors();
      return listed.every((m) => m.status?.shard === ownerOf(`${ns}/${m.metadata.name}`, members)) || undefined;
    },
    40_000,
  );

async function start(name: string) {
  const replica = await startOperatorProcess(ns, {
    env: { SHARDING: 'true', SHARD_GROUP: GROUP, POD_NAME: name, POD_NAMESPACE: ns },
  });
  replicas.set(name, replica);
  return replica;
}

beforeAll(async () => {
  await ensureCrds();
  ns = await freshNamespace('shard');
  const db = await createDatabase({ monitor: true });
  await createSecret(ns, 'db', secretData(db));
  for (let i = 0; i < MONITORS; i++) {
    await createMonitor(ns, `db-${i}`, { connection: { secretRef: { name: 'db' } }, interval: '1s', checks: {} });
  }
}, 120_000);

afterAll(async () => {
  for (const r of replicas.values()) {
    r.child.kill('SIGCONT');
    await r.stop();
  }
});

describe('sharded operators (SHARDING=true)', () => {
  test('three replicas share the monitors; killed, added and frozen replicas hand them over', async () => {
    for (const name of ['replica-a', 'replica-b', 'replica-c']) await start(name);
    // Every monitor's status written by the owner the hash names among the three (what each replica computes).
    await settled(['replica-a', 'replica-b', 'replica-c']);
    const shared = await shardsOf();
    console.log('owners at start', Object.fromEntries(shared));
    // The namespace's name is random, so is the split of 30 (13/15/2 happened): each member must own some.
    for (const n of shared.values()) expect(n).toBeGreaterThan(0);
    // Each replica's own count (metric) is the number of monitors whose status names it.
    for (const [name, replica] of replicas) {
      expect(await metric(replica, 'dbwatch_shard_objects')).toBe(shared.get(name));
      expect(await metric(replica, 'dbwatch_shard_members')).toBe(3);
    }

    // Killed (SIGKILL, no Lease deleted): its monitors are checked by the others once its Lease expires (15 s).
    const killed = Date.now();
    await replicas.get('replica-c')!.kill();
    await settled(['replica-a', 'replica-b']);
    const takeoverS = (Date.now() - killed) / 1000;
    console.log(`killed replica's monitors checked by the others after ${takeoverS.toFixed(1)} s`);
    expect(takeoverS).toBeLessThan(15 + 1 + 5);

    // Added: it takes its share after the join grace; nothing moves between the other two.
    const before = new Map((await monitors()).map((m) => [m.metadata.name, m.status?.shard]));
    const added = Date.now();
    await start('replica-d');
    await settled(['replica-a', 'replica-b', 'replica-d']);
    console.log(`added replica owning its share after ${((Date.now() - added) / 1000).toFixed(1)} s`);
    for (const m of await monitors()) {
      if (m.status?.shard !== 'replica-d') expect(m.status?.shard).toBe(before.get(m.metadata.name));
    }

    // Frozen past its Lease: the others take its monitors; resumed, it stops work (its renewal missed the
    // deadline) and owns nothing before it has renewed and waited the join grace like a new member.
    const frozen = replicas.get('replica-a')!;
    frozen.child.kill('SIGSTOP');
    await settled(['replica-b', 'replica-d']);
    const resumed = Date.now();
    frozen.child.kill('SIGCONT');
    while (Date.now() - resumed < 3500) {
      expect((await shardsOf()).has('replica-a')).toBe(false);
      await new Promise((ok) => setTimeout(ok, 200));
    }
    expect(frozen.output()).toMatch(/shard membership lost: stopping work until renewed/);
    await settled(['replica-a', 'replica-b', 'replica-d']);
    console.log(`frozen replica owning its share again ${((Date.now() - resumed) / 1000).toFixed(1)} s after resuming`);
    expect([...(await shardsOf()).values()].reduce((a, b) => a + b, 0)).toBe(MONITORS);
    // After three handovers each live replica holds series, and says it owns, exactly its share.
    const counts = await shardsOf();
    for (const name of ['replica-a', 'replica-b', 'replica-d']) {
      const replica = replicas.get(name)!;
      await eventually(
        `${name}'s series and gauge match its share`,
        async () =>
          (await seriesOwned(replica)) === counts.get(name) &&
          (await metric(replica, 'dbwatch_shard_objects')) === counts.get(name)
            ? true
            : undefined,
        10_000,
      );
    }
    for (const r of replicas.values()) expect(r.output()).not.toMatch(/Unhandled|uncaught|\n\s+at /);
  }, 240_000);
});
