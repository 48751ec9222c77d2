import { describe, expect, test } from '@jest/globals';
import { apiRateLimitFromEnv, TokenBucket } from '../../src/controller/k8s/rate-limiter.js';

describe('API rate limit (token bucket)', () => {
  test('a burst goes through at once; what follows is spread at qps, in order', () => {
    const now = 0;
    const bucket = new TokenBucket({ qps: 10, burst: 3 }, () => now);
    const waits = Array.from({ length: 6 }, () => bucket.reserve());
    expect(waits).toEqual([0, 0, 0, 100, 200, 300]);
  });

  test('tokens refill at qps up to the burst, never beyond', () => {
    let now = 0;
    const bucket = new TokenBucket({ qps: 10, burst: 3 }, () => now);
    for (let i = 0; i < 3; i++) bucket.reserve();
    now = 250; // 2.5 tokens back
    expect([bucket.reserve(), bucket.reserve(), bucket.reserve()]).toEqual([0, 0, 50]);
    now = 60_000; // a quiet minute refills to the burst only
    expect(Array.from({ length: 4 }, () => bucket.reserve())).toEqual([0, 0, 0, 100]);
  });

  test('QPS and burst come from KUBE_API_QPS and KUBE_API_BURST; nonsense is refused', () => {
    expect(apiRateLimitFromEnv({})).toEqual({ qps: 50, burst: 100 });
    expect(apiRateLimitFromEnv({ KUBE_API_QPS: '5', KUBE_API_BURST: '10' })).toEqual({ qps: 5, burst: 10 });
    expect(() => apiRateLimitFromEnv({ KUBE_API_QPS: '0' })).toThrow(/KUBE_API_QPS must be a number > 0/);
  });
});
