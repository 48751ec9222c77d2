import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, test } from '@jest/globals';
import type { ApiRetry, KubeApi } from '../../../src/controller/k8s/api-client.js';
import { ApiAbortedError, KubeApiError } from '../../../src/controller/k8s/api-errors.js';
import { connectKube } from '../../../src/controller/k8s/client.js';
import { type ApfThrottle, apfThrottle } from '../../support/apf.js';
import { type ControlPlane, removeControlPlane, startControlPlane } from '../../support/control-plane.js';
import { writeKubeconfig } from '../../support/kubeconfig.js';
import { eventually } from '../../support/operator.js';
import { issueClientCert } from '../../support/pki.js';

/**
 * 429s from a real kube-apiserver: API Priority and Fairness (on in this control plane of its own) puts the
 * user `throttled` in a priority level with one seat and no queue (test/support/apf.ts), so while a seat holder's
 * request runs every request of the user is rejected with 429 and Retry-After. The seat holder — a large list
 * whose answer the test does not read — makes the throttling last exactly as long as the test wants.
 */
let cp: ControlPlane;
let throttledKubeconfig: string;
let apf: ApfThrottle;

const holdTheSeat = () => apf.hold();

/** A call the throttled user may always make (every authenticated user may review itself). */
const whoAmI = (api: KubeApi, options: { signal?: AbortSignal; timeoutMs?: number } = {}) =>
  api.request<{ status: { userInfo: { username: string } } }>(
    'POST',
    '/apis/authentication.k8s.io/v1/selfsubjectreviews',
    { body: { apiVersion: 'authentication.k8s.io/v1', kind: 'SelfSubjectReview' }, ...options },
  );

async function throttledClient(options: { maxRetries?: number } = {}) {
  const retries: ApiRetry[] = [];
  const api = await connectKube({ kubeconfig: throttledKubeconfig, onRetry: (r) => retries.push(r), ...options });
  return { api, retries };
}

beforeAll(async () => {
  cp = await startControlPlane({ dir: mkdtempSync(join(tmpdir(), 'dbwatch-apf-')), priorityAndFairness: true });
  const throttledCert = issueClientCert(cp.dir, 'throttled', []);
  throttledKubeconfig = join(cp.dir, 'kubeconfig-throttled');
  writeKubeconfig(throttledKubeconfig, cp.server, join(cp.dir, 'ca.crt'), 'throttled', throttledCert);
  apf = await apfThrottle(cp, ['throttled']);
  await apf.configure();
  // The API server takes the new configuration within moments: wait until a held seat really throttles.
  const { api } = await throttledClient({ maxRetries: 0 });
  const seat = await holdTheSeat();
  try {
    await eventually(
      'APF throttling the user',
      async () => ((await whoAmI(api).catch((e: unknown) => e)) instanceof KubeApiError ? true : undefined),
      20_000,
      200,
    );
  } finally {
    seat.release();
    api.close();
  }
}, 180_000);
afterAll(async () => {
  if (cp) await removeControlPlane(cp);
});

describe('429 with Retry-After from API Priority and Fairness', () => {
  test('retried after the wait the server asks for, until the request is admitted', async () => {
    const { api, retries } = await throttledClient();
    const seat = await holdTheSeat();
    setTimeout(() => seat.release(), 2500);
    const started = Date.now();
    const review = await whoAmI(api);
    const tookMs = Date.now() - started;
    api.close();
    process.stdout.write(
      `throttled for 2.5 s: ${retries.length} retries (${retries.map((r) => `${r.code} wait ${r.waitMs} ms`).join(', ')}), answered after ${tookMs} ms\n`,
    );
    expect(review.status.userInfo.username).toBe('throttled');
    expect(retries.length).toBeGreaterThanOrEqual(2);
    for (const r of retries) {
      expect(r).toMatchObject({
        method: 'POST',
        path: '/apis/authentication.k8s.io/v1/selfsubjectreviews',
        code: '429',
      });
      expect(r.waitMs).toBeGreaterThanOrEqual(1000); // APF's Retry-After is whole seconds
    }
    expect(tookMs).toBeGreaterThanOrEqual(2500);
  });

  test('a request still throttled at its own deadline ends there with the 429, however many retries were left', async () => {
    const { api, retries } = await throttledClient();
    const seat = await holdTheSeat();
    const started = Date.now();
    try {
      const error = await whoAmI(api, { timeoutMs: 2500 }).catch((e: unknown) => e);
      const tookMs = Date.now() - started;
      process.stdout.write(
        `throttled past a 2.5 s deadline: failed after ${tookMs} ms and ${retries.length} retries\n`,
      );
      expect(error).toBeInstanceOf(KubeApiError);
      expect((error as KubeApiError).code).toBe(429);
      expect((error as Error).message).toMatch(/^POST \/apis\/authentication.k8s.io\/v1\/selfsubjectreviews: HTTP 429/);
      // Waits of 1 s: the retry that would wait past the deadline is not made.
      expect(tookMs).toBeLessThan(2500);
      expect(retries.length).toBe(2);
    } finally {
      seat.release();
      api.close();
    }
  });

  test('retries are bounded (maxRetries), and a caller who gives up cancels the wait at once', async () => {
    const bounded = await throttledClient({ maxRetries: 1 });
    const seat = await holdTheSeat();
    try {
      const error = await whoAmI(bounded.api).catch((e: unknown) => e);
      expect((error as KubeApiError).code).toBe(429);
      expect(bounded.retries).toHaveLength(1);

      const cancellable = await throttledClient();
      const controller = new AbortController();
      setTimeout(() => controller.abort(), 300);
      const started = Date.now();
      const aborted = await whoAmI(cancellable.api, { signal: controller.signal }).catch((e: unknown) => e);
      expect(aborted).toBeInstanceOf(ApiAbortedError);
      expect((aborted as Error).message).toBe('POST /apis/authentication.k8s.io/v1/selfsubjectreviews: cancelled');
      expect(Date.now() - started).toBeLessThan(800);
      cancellable.api.close();
    } finally {
      seat.release();
      bounded.api.close();
    }
  });
});
