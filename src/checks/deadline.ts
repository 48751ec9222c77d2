import { performance } from 'node:perf_hooks';

/**
 * The time left for one monitoring pass. Every step gets what remains, so timeoutSeconds bounds the
 * whole pass rather than each query; the clock is injectable for tests.
 */
export class Deadline {
  private readonly end: number;

  constructor(
    budgetMs: number,
    private readonly clock: () => number = () => performance.now(),
  ) {
    this.end = clock() + budgetMs;
  }

  remainingMs(): number {
    return Math.max(0, Math.floor(this.end - this.clock()));
  }

  get expired(): boolean {
    return this.remainingMs() <= 0;
  }
}

/** Kept back from the steps for cleanup (killing a statement that overran, closing sessions). */
export const cleanupReserveMs = (budgetMs: number) => Math.min(1000, Math.floor(budgetMs / 2));
