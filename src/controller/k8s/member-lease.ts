import type { Logger } from 'pino';
import { errorFields, statusCodeOf } from './api-errors.js';
import type { KubeClients, Lease } from './client.js';
import { sleep } from './retry.js';

export interface MemberLeaseOptions {
  namespace: string;
  /** The Lease's name: one per replica. */
  name: string;
  identity: string;
  /** Labels that make it a member of its group (the others find it by them). */
  labels: Record<string, string>;
  /** client-go's leader-election timings: 15 s lease, 10 s renew deadline, 2 s retry. */
  leaseDurationSeconds?: number;
  renewDeadlineSeconds?: number;
  retryPeriodSeconds?: number;
  /** Renewed within the deadline (again): this replica may work. */
  onLive: () => void;
  /** Not renewed within the deadline: this replica must stop working before anyone can take its objects. */
  onLost: () => void;
  now?: () => number;
}

const microTime = (ms: number) => new Date(ms).toISOString().replace(/Z$/, '000Z');

/**
 * A replica's membership announcement: a Lease of its own, renewed every retry period, that the other
 * replicas watch (src/controller/shard). The renewal follows leader election's rules (leader-election.ts):
 * each attempt aborted at its own timeout, a 409 re-read (the Lease is this replica's alone, so a 409 is its own
 * earlier attempt that the server applied), and `onLost` no later than renewDeadline after the start of the last
 * successful renewal — before any other replica, which waits leaseDuration without seeing a change, can count
 * this one gone. stop() deletes the Lease, so the others take its objects over at once.
 */
export class MemberLease {
  private readonly stopping = new AbortController();
  private loop: Promise<void> | undefined;
  private live = false;
  private lastRenewStart = 0;
  /**
   * When this process first renewed a Lease of its own name that already existed: a previous process of this
   * replica (same Pod, restarted container) died without deleting it — a failure the others may still be
   * catching up on. A clean stop deletes the Lease.
   */
  inheritedAtMs: number | undefined;
  /** When the renewal that made this replica live (again) began. */
  liveSinceMs: number | undefined;
  private readonly leaseS: number;
  private readonly renewDeadlineMs: number;
  /** How often it renews (client-go's retry period): how soon after one renewal the others see the next. */
  readonly retryMs: number;
  private readonly now: () => number;

  constructor(
    private readonly clients: KubeClients,
    private readonly options: MemberLeaseOptions,
    private readonly log: Logger,
  ) {
    this.leaseS = options.leaseDurationSeconds ?? 15;
    this.renewDeadlineMs = (options.renewDeadlineSeconds ?? 10) * 1000;
    this.retryMs = (options.retryPeriodSeconds ?? 2) * 1000;
    this.now = options.now ?? Date.now;
  }

  /**
   * Renewed within the deadline, judged by the clock now and not by the loop's last look: a process resumed
   * after a freeze (SIGSTOP, a stalled event loop) may run a pending write before the loop wakes up.
   */
  get isLive(): boolean {
    return this.live && this.now() - this.lastRenewStart <= this.renewDeadlineMs;
  }

  /**
   * Aborts at this replica's renew deadline: a request that waits (rate limit, retries) past it, e.g. across a
   * freeze, is not sent — by then another replica may own the object it writes.
   */
  deadlineSignal(): AbortSignal {
    if (!this.isLive) return AbortSignal.abort(new Error('shard membership lapsed'));
    return AbortSignal.timeout(Math.max(0, this.lastRenewStart + this.renewDeadlineMs - this.now()));
  }

  start(): void {
    this.loop = this.run();
  }

  private async run(): Promise<void> {
    const signal = this.stopping.signal;
    while (!signal.aborted) {
      const started = this.now();
      const renewed = await this.renewOnce(started).catch((error: unknown) => {
        if (!signal.aborted)
          this.log.warn({ lease: this.options.name, ...errorFields(error) }, 'member lease renewal failed');
        return false;
      });
      if (signal.aborted) return;
      if (renewed) {
        // Renewed, but after the deadline had passed: owns() said no meanwhile and passes dropped their work, so
        // the loss is announced first — the replica drops everything and takes its share back afresh.
        if (this.live && this.now() - this.lastRenewStart > this.renewDeadlineMs)
          this.lose('renewed after the deadline');
        this.lastRenewStart = started;
        if (!this.live) {
          this.live = true;
          this.liveSinceMs = started;
          this.options.onLive();
        }
      } else if (this.live && this.now() - this.lastRenewStart > this.renewDeadlineMs) {
        this.lose('renew deadline exceeded');
      }
      // A process frozen past the deadline (SIGSTOP, a stalled event loop) learns it here first, before working on.
      const wait = this.live
        ? Math.min(this.retryMs, this.lastRenewStart + this.renewDeadlineMs - this.now())
        : this.retryMs;
      await sleep(Math.max(10, wait), signal).catch(() => undefined);
      if (this.live && this.now() - this.lastRenewStart > this.renewDeadlineMs) this.lose('renew deadline exceeded');
    }
  }

  private lose(why: string): void {
    this.live = false;
    this.log.warn({ lease: this.options.name, why }, 'shard membership lost: stopping work until renewed');
    this.options.onLost();
  }

  /** One renewal: create the Lease, or replace it as read; bounded so that it never outlives the deadline. */
  private async renewOnce(started: number): Promise<boolean> {
    const { namespace, name, identity, labels } = this.options;
    // Live, a renewal must end before the deadline; joining (or back after a loss) it has no deadline to keep.
    const budget = this.live
      ? Math.max(100, Math.min(this.renewDeadlineMs / 2, this.lastRenewStart + this.renewDeadlineMs - started))
      : this.renewDeadlineMs / 2;
    const call = { signal: this.stopping.signal, timeoutMs: budget };
    const spec = {
      holderIdentity: identity,
      leaseDurationSeconds: this.leaseS,
      renewTime: microTime(started),
    };
    let lease: Lease;
    try {
      lease = await this.clients.coordination.readNamespacedLease({ namespace, name }, call);
      if (this.liveSinceMs === undefined && this.inheritedAtMs === undefined) this.inheritedAtMs = started;
    } catch (error) {
      if (statusCodeOf(error) !== 404) throw error;
      await this.clients.coordination.createNamespacedLease(
        {
          namespace,
          body: { metadata: { name, namespace, labels }, spec: { ...spec, acquireTime: microTime(started) } },
        },
        call,
      );
      return true;
    }
    try {
      await this.clients.coordination.replaceNamespacedLease(
        {
          namespace,
          name,
          body: {
            metadata: { name, namespace, labels, resourceVersion: lease.metadata?.resourceVersion },
            spec: { ...lease.spec, ...spec },
          },
        },
        call,
      );
      return true;
    } catch (error) {
      // Our own earlier attempt, applied after it was aborted: read again next time.
      if (statusCodeOf(error) === 409) return false;
      throw error;
    }
  }

  /** Stops renewing and deletes the Lease: the others count this replica gone at once. */
  async stop(): Promise<void> {
    this.stopping.abort();
    await this.loop;
    this.live = false;
    const { namespace, name } = this.options;
    await this.clients.coordination
      .deleteNamespacedLease({ namespace, name }, { timeoutMs: 5000 })
      .catch((error: unknown) => {
        if (statusCodeOf(error) !== 404)
          this.log.warn({ lease: name, ...errorFields(error) }, 'could not delete the member lease');
      });
  }
}
