/** Requests per second and the burst allowed above it (client-go's QPS and Burst). */
export interface RateLimit {
  qps: number;
  burst: number;
}

/** Above controller-runtime's 20/30: 2,000 monitors starting write twice each (Reconciling, then the result). */
export const DEFAULT_API_RATE_LIMIT: RateLimit = { qps: 50, burst: 100 };

/**
 * A token bucket that hands out reservations, like golang.org/x/time/rate's Reserve: each request takes
 * a token at once and is told how long to wait before using it, so waiting requests keep their order and
 * a burst is spread at `qps` after the first `burst` go through.
 */
export class TokenBucket {
  private tokens: number;
  private at: number;

  constructor(
    private readonly limit: RateLimit,
    private readonly now: () => number = Date.now,
  ) {
    if (!(limit.qps > 0) || !(limit.burst >= 1)) throw new Error(`invalid rate limit ${JSON.stringify(limit)}`);
    this.tokens = limit.burst;
    this.at = now();
  }

  /** Takes a token; returns how many milliseconds to wait before the request may go (0: at once). */
  reserve(): number {
    const now = this.now();
    this.tokens = Math.min(this.limit.burst, this.tokens + ((now - this.at) * this.limit.qps) / 1000);
    this.at = now;
    this.tokens -= 1;
    return this.tokens >= 0 ? 0 : Math.ceil((-this.tokens * 1000) / this.limit.qps);
  }
}
