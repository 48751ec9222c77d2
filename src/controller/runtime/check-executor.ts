import type { ObjectKey } from '../types.js';

/** How much database I/O runs at once: in total, and against any one host:port. */
export interface CheckLimits {
  concurrency: number;
  perHost: number;
}

export const DEFAULT_CHECK_LIMITS: CheckLimits = { concurrency: 64, perHost: 4 };

/** Reported when a check gets its slot: how late it starts and how long it waited for the slot. */
export interface CheckStart {
  host: string;
  /** Start minus the time the check was due (never negative). */
  lagMs: number;
  /** Start minus the time it was submitted. */
  waitedMs: number;
  /** Its own host was at its limit when it was submitted: its lag is that host's backlog, not the operator's. */
  hostLimited: boolean;
}

export interface CheckExecutorOptions {
  limits: CheckLimits;
  now?: () => number;
  onStart?: (start: CheckStart) => void;
  /** After every start and finish: checks running and waiting, for gauges. */
  onLoad?: (running: number, waiting: number) => void;
}

interface Job {
  host: string;
  dueAt: number;
  submittedAt: number;
  hostLimited: boolean;
  start: () => void;
}

/**
 * Runs database checks with their own concurrency, sized for waiting on the network, and a per-host
 * limit so that one host that accepts connections and never answers holds at most `perHost` slots while
 * checks of every other host keep running. Hosts with waiting checks are served in turn (round robin),
 * checks of one host in submission order.
 */
export class CheckExecutor {
  private readonly waiting = new Map<string, Job[]>();
  private readonly runningByHost = new Map<string, number>();
  private running = 0;
  private waitingCount = 0;
  private readonly now: () => number;

  constructor(private readonly options: CheckExecutorOptions) {
    if (options.limits.concurrency < 1 || options.limits.perHost < 1) {
      throw new Error(`check limits must be at least 1 (got ${JSON.stringify(options.limits)})`);
    }
    this.now = options.now ?? Date.now;
  }

  /** Runs `work` once a slot for `host` is free; resolves or rejects with its outcome. */
  run<T>(host: string, dueAt: number, work: () => Promise<T>): Promise<T> {
    return new Promise<T>((resolve, reject) => {
      const job: Job = {
        host,
        dueAt,
        submittedAt: this.now(),
        hostLimited: this.runningFor(host) >= this.options.limits.perHost || this.waiting.has(host),
        start: () => {
          Promise.resolve()
            .then(work)
            .then(resolve, reject)
            .finally(() => this.finish(host));
        },
      };
      const queue = this.waiting.get(host);
      if (queue) queue.push(job);
      else this.waiting.set(host, [job]);
      this.waitingCount++;
      this.pump();
    });
  }

  get load(): { running: number; waiting: number } {
    return { running: this.running, waiting: this.waitingCount };
  }

  runningFor(host: string): number {
    return this.runningByHost.get(host) ?? 0;
  }

  private finish(host: string): void {
    this.running--;
    const left = (this.runningByHost.get(host) ?? 1) - 1;
    if (left > 0) this.runningByHost.set(host, left);
    else this.runningByHost.delete(host);
    this.pump();
  }

  private pump(): void {
    const { concurrency, perHost } = this.options.limits;
    let startedAny = true;
    // One check per host per round, so hosts share free slots in turn.
    while (startedAny && this.running < concurrency && this.waitingCount > 0) {
      startedAny = false;
      for (const [host, queue] of [...this.waiting]) {
        if (this.running >= concurrency) break;
        if (this.runningFor(host) >= perHost) continue;
        const job = queue.shift()!;
        // Re-inserting moves the host to the back of the round robin.
        this.waiting.delete(host);
        if (queue.length > 0) this.waiting.set(host, queue);
        this.start(job);
        startedAny = true;
      }
    }
    this.options.onLoad?.(this.running, this.waitingCount);
  }

  private start(job: Job): void {
    this.waitingCount--;
    this.running++;
    this.runningByHost.set(job.host, this.runningFor(job.host) + 1);
    const now = this.now();
    this.options.onStart?.({
      host: job.host,
      lagMs: Math.max(0, now - job.dueAt),
      waitedMs: Math.max(0, now - job.submittedAt),
      hostLimited: job.hostLimited,
    });
    job.start();
  }
}

/**
 * How reconcilers run a check: `owner` is the reconcile's queue key (its worker is released while the
 * check waits), `host` is host:port, `dueAt` when the check should have started (for the lag metric).
 */
/** Runs a check of `owner` against `host`, due at `dueAt`; the operator's limits and worker parking apply. */
export type RunCheck = <T>(owner: ObjectKey, host: string, dueAt: number, work: () => Promise<T>) => Promise<T>;

/** No limits and no parking: for reconcilers driven directly (unit tests, one-off runs). */
export const runInline: RunCheck = (_owner, _host, _dueAt, work) => work();
