import { describe, expect, test } from '@jest/globals';
import { CheckExecutor, type RunCheck } from '../../src/controller/runtime/check-executor.js';
import { WorkQueue } from '../../src/controller/runtime/work-queue.js';
import { keyId, type ObjectKey } from '../../src/controller/types.js';

/**
 * The issue-9 scenario in miniature, wired as operator.ts wires it: 4 queue workers, a check executor
 * (64 overall, 4 per host) and reconciles that park their worker while their check waits. 200 monitors
 * point at a host that never answers; 50 healthy ones must still all be checked and written.
 */
describe('isolation of a host that never answers', () => {
  test('200 checks stuck on one host do not delay 50 healthy monitors, and hold only 4 slots', async () => {
    const executor = new CheckExecutor({ limits: { concurrency: 64, perHost: 4 } });
    let blackHoleAnswers: () => void = () => undefined;
    const blackHole = new Promise<void>((ok) => {
      blackHoleAnswers = ok;
    });
    const written: string[] = [];
    const runCheck: RunCheck = (owner, host, dueAt, work) => queue.park(owner, executor.run(host, dueAt, work));
    const queue: WorkQueue<ObjectKey> = new WorkQueue<ObjectKey>({
      concurrency: 4,
      id: keyId,
      reconcile: async (key) => {
        const host = key.name.startsWith('dead') ? 'black-hole:5432' : `db-${key.name}:5432`;
        await runCheck(key, host, Date.now(), () => (host === 'black-hole:5432' ? blackHole : Promise.resolve()));
        written.push(key.name);
        return {};
      },
    });
    const monitor = (name: string): ObjectKey => ({ kind: 'DatabaseMonitor', namespace: 'shop', name });
    for (let i = 0; i < 200; i++) queue.add(monitor(`dead-${i}`));
    for (let i = 0; i < 50; i++) queue.add(monitor(`healthy-${i}`));
    await new Promise((ok) => setTimeout(ok, 50));
    expect(written.filter((k) => k.startsWith('healthy'))).toHaveLength(50);
    expect(executor.runningFor('black-hole:5432')).toBe(4);
    expect(executor.load).toEqual({ running: 4, waiting: 196 });
    blackHoleAnswers();
    await queue.shutdown(1000);
    expect(written).toHaveLength(250);
  });
});
