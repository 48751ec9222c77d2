import { describe, expect, test } from '@jest/globals';
import { TokenBucket } from '../../src/controller/k8s/rate-limiter.js';

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
});
