import { ExponentialBackoff } from './backoff.js';

export interface ReconcileResult {
  requeueAfterMs?: number;
}

export type Reconcile = (key: string) => Promise<ReconcileResult>;

export interface WorkQueueOptions {
  concurrency: number;
  reconcile: Reconcile;
  backoff?: ExponentialBackoff;
  onError?: (key: string, error: unknown, retryInMs: number) => void;
  onDepth?: (depth: number) => void;
}

/**
 * A deduplicating per-key queue in the manner of client-go's workqueue: a key is queued at most once,
 * never processed by two workers at once (a key added while processing runs again afterwards),
 * delayed adds keep the earliest deadline, and failures back off per key.
 */
export class WorkQueue {
  private readonly queued: string[] = [];
  private readonly queuedSet = new Set<string>();
  private readonly processing = new Set<string>();
  private readonly dirty = new Set<string>();
  private readonly timers = new Map<string, { at: number; timer: NodeJS.Timeout }>();
  private readonly idleWaiters: (() => void)[] = [];
  private readonly backoff: ExponentialBackoff;
  private stopped = false;

  constructor(private readonly options: WorkQueueOptions) {
    this.backoff = options.backoff ?? new ExponentialBackoff();
  }

  add(key: string): void {
    if (this.stopped) return;
    this.clearTimer(key);
    if (this.processing.has(key)) {
      this.dirty.add(key);
      return;
    }
    if (!this.queuedSet.has(key)) {
      this.queuedSet.add(key);
      this.queued.push(key);
      this.report();
    }
    this.pump();
  }

  addAfter(key: string, delayMs: number): void {
    if (this.stopped) return;
    if (delayMs <= 0) {
      this.add(key);
      return;
    }
    const at = Date.now() + delayMs;
    const existing = this.timers.get(key);
    if (existing && existing.at <= at) return;
    if (existing) clearTimeout(existing.timer);
    const timer = setTimeout(() => {
      this.timers.delete(key);
      this.add(key);
    }, delayMs);
    timer.unref();
    this.timers.set(key, { at, timer });
  }

  /** Drops pending work for a key (object deleted). */
  remove(key: string): void {
    this.clearTimer(key);
    this.backoff.forget(key);
    if (this.queuedSet.delete(key)) this.queued.splice(this.queued.indexOf(key), 1);
  }

  get depth(): number {
    return this.queued.length;
  }

  /** Stops taking work and waits up to `graceMs` for in-flight reconciles. Resolves true if they finished. */
  async shutdown(graceMs: number): Promise<boolean> {
    this.stopped = true;
    for (const { timer } of this.timers.values()) clearTimeout(timer);
    this.timers.clear();
    this.queued.length = 0;
    this.queuedSet.clear();
    if (this.processing.size === 0) return true;
    let timer: NodeJS.Timeout | undefined;
    const finished = await Promise.race([
      new Promise<boolean>((ok) => this.idleWaiters.push(() => ok(true))),
      new Promise<boolean>((ok) => {
        timer = setTimeout(() => ok(false), graceMs);
      }),
    ]);
    clearTimeout(timer);
    return finished;
  }

  private clearTimer(key: string): void {
    const existing = this.timers.get(key);
    if (existing) {
      clearTimeout(existing.timer);
      this.timers.delete(key);
    }
  }

  private report(): void {
    this.options.onDepth?.(this.queued.length);
  }

  private pump(): void {
    while (!this.stopped && this.processing.size < this.options.concurrency && this.queued.length > 0) {
      const key = this.queued.shift()!;
      this.queuedSet.delete(key);
      this.processing.add(key);
      this.report();
      void this.run(key);
    }
  }

  private async run(key: string): Promise<void> {
    try {
      const result = await this.options.reconcile(key);
      this.backoff.forget(key);
      if (result.requeueAfterMs !== undefined) this.addAfter(key, result.requeueAfterMs);
    } catch (error) {
      const retryInMs = this.backoff.next(key);
      this.options.onError?.(key, error, retryInMs);
      this.addAfter(key, retryInMs);
    } finally {
      this.processing.delete(key);
      if (this.dirty.delete(key)) this.add(key);
      if (this.processing.size === 0) for (const wake of this.idleWaiters.splice(0)) wake();
      this.pump();
    }
  }
}
