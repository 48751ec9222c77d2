import type { Logger } from 'pino';
import { errorFields, statusCodeOf } from './api-errors.js';
import type { CallOptions, KubeClients, Lease, LeaseSpec } from './client.js';
import { sleep } from './retry.js';

export interface LeaderElectionOptions {
  namespace: string;
  name: string;
  identity: string;
  /** client-go / controller-runtime defaults: 15 s lease, 10 s renew deadline, 2 s retry. */
  leaseDurationSeconds?: number;
  renewDeadlineSeconds?: number;
  retryPeriodSeconds?: number;
  /** Each Lease request is aborted after this long (default: half the renew deadline), and never outlives the deadline. */
  requestTimeoutSeconds?: number;
  onStartedLeading: () => void;
  onStoppedLeading: () => void;
  /** This replica's clock (ms since the epoch); injected so that tests can skew it. */
  now?: () => number;
}

/** A MicroTime: RFC 3339 with exactly six fractional digits (a Date's three would be refused). */
const microTime = (ms: number) => new Date(ms).toISOString().replace(/Z$/, '000Z');

/** The Lease as this replica last saw it change, and when — by this replica's own clock. */
interface Observation {
  resourceVersion: string;
  holder: string;
  leaseDurationSeconds: number;
  spec: LeaseSpec;
  at: number;
}

/** One try: the Lease is ours now; not this time (retry); or another replica holds it. */
type Attempt = 'held' | 'failed' | 'taken';

class Stopped extends Error {}

/**
 * Leader election on a coordination.k8s.io/v1 Lease with client-go's semantics.
 *
 * - Expiry by local observation: another holder's Lease has expired when this replica has not seen the record
 *   change for leaseDurationSeconds of its OWN clock. The renewTime a holder writes is never compared with the
 *   local clock, so clock skew between nodes can give neither two leaders nor none.
 * - Renewal: every retry period; a failed attempt is retried every retry period until the renew deadline,
 *   each attempt aborted at its own timeout (never left running). A 409 means the Lease changed since this
 *   replica read it — possibly by its own earlier attempt, aborted after the server applied it — so the Lease
 *   is read again: still ours, the renewal goes on; another holder's, leadership ends at once.
 * - The guarantee: a leader calls onStoppedLeading no later than renewDeadline after the START of its last
 *   successful renewal. A standby can take over only with a write based on that renewal's record (or a later
 *   one), which it observed no earlier than it was written, so no earlier than leaseDuration after that start.
 *   With the defaults the leader stops ≥ 5 s (15 − 10) before anyone else can lead, assuming clocks that run
 *   at the same rate (their offsets do not matter) and an event loop not blocked for seconds.
 * - stop() aborts what is in flight and hands the Lease back (release on cancel), so a standby takes over at once.
 */
export class LeaderElector {
  private leading = false;
  private observed: Observation | undefined;
  private readonly stopping = new AbortController();
  private loop: Promise<void> | undefined;
  private readonly leaseS: number;
  private readonly renewDeadlineMs: number;
  private readonly retryMs: number;
  private readonly requestTimeoutMs: number;
  private readonly now: () => number;

  constructor(
    private readonly clients: KubeClients,
    private readonly options: LeaderElectionOptions,
    private readonly log: Logger,
  ) {
    this.leaseS = options.leaseDurationSeconds ?? 15;
    this.renewDeadlineMs = (options.renewDeadlineSeconds ?? 10) * 1000;
    this.retryMs = (options.retryPeriodSeconds ?? 2) * 1000;
    this.requestTimeoutMs = (options.requestTimeoutSeconds ?? this.renewDeadlineMs / 2000) * 1000;
    this.now = options.now ?? Date.now;
    if (this.renewDeadlineMs >= this.leaseS * 1000) {
      throw new Error('leader election: the renew deadline must be shorter than the lease duration');
    }
  }

  start(): void {
    this.loop ??= this.run().catch((error) => {
      if (!(error instanceof Stopped)) this.log.error({ err: error }, 'leader election stopped unexpectedly');
    });
  }

  get isLeader(): boolean {
    return this.leading;
  }

  private async run(): Promise<void> {
    for (;;) {
      const acquiredAt = await this.acquire();
      this.leading = true;
      this.log.info({ lease: this.options.name, identity: this.options.identity }, 'became leader');
      this.options.onStartedLeading();
      const why = await this.renew(acquiredAt);
      this.leading = false;
      this.log.warn({ lease: this.options.name, why }, 'stopped leading');
      this.options.onStoppedLeading();
    }
  }

  /** Tries every retry period, or right when the holder's Lease expires if that is sooner; resolves with the winning attempt's start. */
  private async acquire(): Promise<number> {
    for (;;) {
      const startedAt = this.now();
      if ((await this.attempt(this.requestTimeoutMs)) === 'held') return startedAt;
      // A standby tries again when the holder's Lease (as this replica saw it change, by its own clock)
      // expires, if that is sooner than the retry period: a handover then takes at most one observation lag
      // plus the lease duration, not another retry period on top.
      const seen = this.observed;
      const untilExpiry =
        seen && seen.holder !== '' && seen.holder !== this.options.identity
          ? seen.at + seen.leaseDurationSeconds * 1000 - this.now() + 50
          : this.retryMs;
      await this.pause(Math.max(10, Math.min(this.retryMs, untilExpiry)));
    }
  }

  /** Renews until it cannot; resolves with why leadership ended. */
  private async renew(lastRenewStart: number): Promise<string> {
    for (;;) {
      await this.pause(this.retryMs);
      const deadline = lastRenewStart + this.renewDeadlineMs;
      for (;;) {
        const startedAt = this.now();
        const remaining = deadline - startedAt;
        if (remaining <= 0) return `renew deadline of ${this.renewDeadlineMs / 1000} s exceeded`;
        const outcome = await this.attempt(Math.min(this.requestTimeoutMs, remaining));
        if (outcome === 'taken') return `lease taken by ${this.observed?.holder}`;
        if (outcome === 'held') {
          lastRenewStart = startedAt;
          break;
        }
        await this.pause(Math.min(this.retryMs - (this.now() - startedAt), deadline - this.now()));
      }
    }
  }

  private async pause(ms: number): Promise<void> {
    try {
      await sleep(Math.max(0, ms), this.stopping.signal);
    } catch {
      throw new Stopped();
    }
  }

  /** One acquire-or-renew, every request of it aborted by `timeoutMs` or stop(). */
  private async attempt(timeoutMs: number): Promise<Attempt> {
    if (this.stopping.signal.aborted) throw new Stopped();
    const signal = AbortSignal.any([this.stopping.signal, AbortSignal.timeout(timeoutMs)]);
    const call: CallOptions = { signal, timeoutMs };
    try {
      return await this.tryAcquireOrRenew(call);
    } catch (error) {
      if (this.stopping.signal.aborted) throw new Stopped();
      this.log.warn({ ...errorFields(error), leading: this.leading }, 'leader election: lease request failed');
      return 'failed';
    }
  }

  /** Remembers the record and the local time, but only when the record changed since the last look. */
  private observe(lease: Lease): Observation {
    const resourceVersion = lease.metadata?.resourceVersion ?? '';
    if (this.observed?.resourceVersion !== resourceVersion) {
      this.observed = {
        resourceVersion,
        holder: lease.spec?.holderIdentity ?? '',
        leaseDurationSeconds: lease.spec?.leaseDurationSeconds ?? this.leaseS,
        spec: lease.spec ?? {},
        at: this.now(),
      };
    }
    return this.observed;
  }

  private async tryAcquireOrRenew(call: CallOptions): Promise<Attempt> {
    const { identity } = this.options;
    // Fast path (client-go's): the leader writes over the record it last saw, without reading it first.
    const mine = this.observed;
    if (this.leading && mine?.holder === identity) {
      try {
        this.observe(await this.replaceLease(mine.resourceVersion, this.renewal(mine.spec), call));
        return 'held';
      } catch (error) {
        // A 409: the Lease changed since — read it, below. Our own aborted write may be what changed it.
        if (statusCodeOf(error) !== 409) throw error;
      }
    }
    const lease = await this.read(call);
    if (!lease) return (await this.create(call)) ? 'held' : 'failed';
    const seen = this.observe(lease);
    const other = seen.holder !== '' && seen.holder !== identity;
    if (other && this.leading) return 'taken';
    if (other && this.now() < seen.at + seen.leaseDurationSeconds * 1000) return 'failed';
    try {
      this.observe(await this.replaceLease(seen.resourceVersion, this.renewal(seen.spec), call));
      return 'held';
    } catch (error) {
      // Someone wrote between our read and write: the next attempt reads again.
      if (statusCodeOf(error) === 409) return 'failed';
      throw error;
    }
  }

  /** The record this replica writes over `spec`: a renewal if it holds the Lease, else a takeover. */
  private renewal(spec: LeaseSpec): LeaseSpec {
    const now = microTime(this.now());
    const takingOver = spec.holderIdentity !== this.options.identity;
    return {
      holderIdentity: this.options.identity,
      leaseDurationSeconds: this.leaseS,
      acquireTime: takingOver || !spec.acquireTime ? now : spec.acquireTime,
      renewTime: now,
      leaseTransitions: (spec.leaseTransitions ?? 0) + (takingOver ? 1 : 0),
    };
  }

  private async read(call: CallOptions): Promise<Lease | undefined> {
    const { namespace, name } = this.options;
    try {
      return await this.clients.coordination.readNamespacedLease({ namespace, name }, call);
    } catch (error) {
      if (statusCodeOf(error) === 404) return undefined;
      throw error;
    }
  }

  private async create(call: CallOptions): Promise<boolean> {
    const { namespace, name } = this.options;
    try {
      const spec = this.renewal({});
      this.observe(
        await this.clients.coordination.createNamespacedLease(
          { namespace, body: { metadata: { name, namespace }, spec: { ...spec, leaseTransitions: 0 } } },
          call,
        ),
      );
      return true;
    } catch (error) {
      if (statusCodeOf(error) === 409) return false;
      throw error;
    }
  }

  /** Replaces the Lease at `resourceVersion`: a 409 means it changed since. */
  private replaceLease(resourceVersion: string, spec: LeaseSpec, call: CallOptions): Promise<Lease> {
    const { namespace, name } = this.options;
    return this.clients.coordination.replaceNamespacedLease(
      { namespace, name, body: { metadata: { name, namespace, resourceVersion }, spec } },
      call,
    );
  }

  /**
   * Stops the loop (aborting a request in flight) and, if leading and `release` (the default), hands the Lease
   * back so a standby takes over at once. Without release the Lease simply expires, as when the process dies.
   * onStoppedLeading is not called: the caller is the one stopping.
   */
  async stop({ release = true }: { release?: boolean } = {}): Promise<void> {
    this.stopping.abort();
    await this.loop;
    if (!this.leading) return;
    this.leading = false;
    if (release) await this.release();
  }

  /** An aborted renewal may still have been applied: a 409 reads the Lease again (client-go retries the same way). */
  private async release(): Promise<void> {
    const { name, identity } = this.options;
    const signal = AbortSignal.timeout(this.renewDeadlineMs);
    for (let attempt = 1; ; attempt++) {
      try {
        const lease = await this.read({ signal });
        if (lease?.spec?.holderIdentity !== identity) return;
        const now = microTime(this.now());
        await this.replaceLease(
          lease.metadata?.resourceVersion ?? '',
          {
            holderIdentity: '',
            leaseDurationSeconds: 1,
            acquireTime: now,
            renewTime: now,
            leaseTransitions: lease.spec.leaseTransitions ?? 0,
          },
          { signal },
        );
        this.log.info({ lease: name }, 'released lease');
        return;
      } catch (error) {
        if (statusCodeOf(error) === 409 && attempt < 3) continue;
        this.log.warn(errorFields(error), 'could not release the lease');
        return;
      }
    }
  }
}
