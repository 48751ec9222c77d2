import { ExponentialBackoff } from './backoff.js';

export interface ReconcileResult {
  requeueAfterMs?: number;
}

export type Reconcile<K> = (key: K) => Promise<ReconcileResult>;

export interface WorkQueueOptions<K> {
  concurrency: number;
  reconcile: Reconcile<K>;
  /** A key's identity (keys are typed values; two equal ones must give the same id). Default String(key). */
  id?: (key: K) => string;
  backoff?: ExponentialBackoff;
  onError?: (key: K, error: unknown, retryInMs: number) => void;
  onDepth?: (depth: number) => void;
  /** When a worker picks a key up: how long it waited in the queue. */
  onWait?: (waitedMs: number) => void;
  now?: () => number;
}

/**
 * A deduplicating per-key queue in the manner of client-go's workqueue: a key is queued at most once,
 * never processed by two workers at once (a key added while processing runs again afterwards),
 * delayed adds keep the earliest deadline, and failures back off per key.
 *
 * A reconcile that waits on something slow (a database check) can `park` that wait: it gives its worker
 * back while waiting, and gets one again, ahead of new keys, to finish. `concurrency` therefore bounds
 * the reconciles that compute and write, not the checks that wait on the network.
 */
export class WorkQueue<K = string> {
  /** id → the typed key it stands for. */
  private readonly keys = new Map<string, K>();
  private readonly queued: string[] = [];
  /** Key → when it was queued. */
  private readonly queuedAt = new Map<string, number>();
  private readonly processing = new Set<string>();
  private readonly dirty = new Set<string>();
  private readonly timers = new Map<string, { at: number; timer: NodeJS.Timeout }>();
  private readonly idleWaiters: (() => void)[] = [];
  /** Key → overlapping parks of its reconcile. */
  private readonly parked = new Map<string, number>();
  /** Parked reconciles whose wait is over, waiting for a worker to finish on. */
  private readonly resuming: (() => void)[] = [];
  private readonly backoff: ExponentialBackoff;
  private readonly now: () => number;
  /** Reconciles holding a worker (processing minus parked). */
  private active = 0;
  private stopped = false;

  private readonly id: (key: K) => string;

  constructor(private readonly options: WorkQueueOptions<K>) {
    this.backoff = options.backoff ?? new ExponentialBackoff();
    this.now = options.now ?? Date.now;
    this.id = options.id ?? String;
  }

  private idOf(key: K): string {
    const id = this.id(key);
    this.keys.set(id, key);
    return id;
  }

  /**
   * Releases the worker of the reconcile of `key` while `wait` is pending, then takes one back for it to
   * continue. Parks of one key may overlap (a prerequisite checks several databases at once): the first
   * releases the worker, the last takes it back.
   */
  async park<T>(typed: K, wait: Promise<T>): Promise<T> {
    const key = this.idOf(typed);
    const parks = this.parked.get(key) ?? 0;
    this.parked.set(key, parks + 1);
    if (parks === 0) {
      this.active--;
      this.pump();
    }
    try {
      return await wait;
    } finally {
      const left = this.parked.get(key)! - 1;
      if (left > 0) this.parked.set(key, left);
      else {
        this.parked.delete(key);
        await new Promise<void>((ok) => {
          this.resuming.push(ok);
          this.pump();
        });
      }
    }
  }

  add(typed: K): void {
    if (this.stopped) return;
    this.addId(this.idOf(typed));
  }

  private addId(key: string): void {
    this.clearTimer(key);
    if (this.processing.has(key)) {
      this.dirty.add(key);
      return;
    }
    if (!this.queuedAt.has(key)) {
      this.queuedAt.set(key, this.now());
      this.queued.push(key);
      this.report();
    }
    this.pump();
  }

  addAfter(typed: K, delayMs: number): void {
    this.addIdAfter(this.idOf(typed), delayMs);
  }

  private addIdAfter(key: string, delayMs: number): void {
    if (this.stopped) return;
    if (delayMs <= 0) {
      this.addId(key);
      return;
    }
    const at = this.now() + delayMs;
    const existing = this.timers.get(key);
    if (existing && existing.at <= at) return;
    if (existing) clearTimeout(existing.timer);
    const timer = setTimeout(() => {
      this.timers.delete(key);
      this.addId(key);
    }, delayMs);
    timer.unref();
    this.timers.set(key, { at, timer });
  }

  /** Drops pending work for a key (object deleted). */
  remove(typed: K): void {
    const key = this.id(typed);
    this.clearTimer(key);
    this.backoff.forget(key);
    if (this.queuedAt.delete(key)) this.queued.splice(this.queued.indexOf(key), 1);
    if (!this.processing.has(key) && !this.timers.has(key)) this.keys.delete(key);
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
    this.queuedAt.clear();
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
    // Parked reconciles finish first (even after shutdown began: they are in flight), then new keys.
    while (this.active < this.options.concurrency && this.resuming.length > 0) {
      this.active++;
      this.resuming.shift()!();
    }
    while (!this.stopped && this.active < this.options.concurrency && this.queued.length > 0) {
      const key = this.queued.shift()!;
      const queuedAt = this.queuedAt.get(key)!;
      this.queuedAt.delete(key);
      this.processing.add(key);
      this.active++;
      this.report();
      this.options.onWait?.(Math.max(0, this.now() - queuedAt));
      void this.run(key);
    }
  }

  private async run(key: string): Promise<void> {
    const typed = this.keys.get(key)!;
    try {
      const result = await this.options.reconcile(typed);
      this.backoff.forget(key);
      if (result.requeueAfterMs !== undefined) this.addIdAfter(key, result.requeueAfterMs);
    } catch (error) {
      const retryInMs = this.backoff.next(key);
      this.options.onError?.(typed, error, retryInMs);
      this.addIdAfter(key, retryInMs);
    } finally {
      this.active--;
      this.processing.delete(key);
      if (this.dirty.delete(key)) this.addId(key);
      else if (!this.timers.has(key) && !this.queuedAt.has(key)) this.keys.delete(key);
      if (this.processing.size === 0) for (const wake of this.idleWaiters.splice(0)) wake();
      this.pump();
    }
  }
}
