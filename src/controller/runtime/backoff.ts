/** Per-key exponential backoff: base doubling to max, reset by `forget` after a success. */
export class ExponentialBackoff {
  private readonly failures = new Map<string, number>();

  constructor(
    private readonly baseMs = 1000,
    private readonly maxMs = 5 * 60_000,
  ) {}

  next(key: string): number {
    const n = this.failures.get(key) ?? 0;
    this.failures.set(key, n + 1);
    return Math.min(this.maxMs, this.baseMs * 2 ** n);
  }

  forget(key: string): void {
    this.failures.delete(key);
  }
}

/** ±10 %, so that retries started together do not stay together. */
export const withJitter = (ms: number, random = Math.random) => Math.round(ms * (0.9 + 0.2 * random()));
