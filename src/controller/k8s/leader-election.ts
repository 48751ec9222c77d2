import type { Logger } from 'pino';
import { withTimeout } from '../../checks/timeout.js';
import { type KubeClients, type Lease, type LeaseSpec, statusCodeOf } from './client.js';

export interface LeaderElectionOptions {
  namespace: string;
  name: string;
  identity: string;
  /** controller-runtime defaults: 15 s lease, 10 s renew deadline, 2 s retry. */
  leaseDurationSeconds?: number;
  renewDeadlineSeconds?: number;
  retryPeriodSeconds?: number;
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
  at: number;
}

/**
 * Leader election on a coordination.k8s.io/v1 Lease, judged as client-go's leaderelection does: another
 * holder's Lease has expired when this replica has not seen the record change for leaseDurationSeconds
 * of its OWN clock. The renewTime written by the holder is never compared with the local clock, so clock
 * skew between nodes can neither make two leaders nor none. Writes replace the Lease as read (with its
 * resourceVersion), so a 409 means someone else won. A leader that cannot renew within the deadline stops.
 */
export class LeaderElector {
  private leading = false;
  private lastRenewed = 0;
  private observed: Observation | undefined;
  private timer: NodeJS.Timeout | undefined;
  private stopped = false;
  /** The acquire/renew round in progress: stop() lets it finish so that its write cannot race the release. */
  private inflight: Promise<void> | undefined;
  private readonly leaseS: number;
  private readonly renewDeadlineMs: number;
  private readonly retryMs: number;
  private readonly now: () => number;

  constructor(
    private readonly clients: KubeClients,
    private readonly options: LeaderElectionOptions,
    private readonly log: Logger,
  ) {
    this.leaseS = options.leaseDurationSeconds ?? 15;
    this.renewDeadlineMs = (options.renewDeadlineSeconds ?? 10) * 1000;
    this.retryMs = (options.retryPeriodSeconds ?? 2) * 1000;
    this.now = options.now ?? Date.now;
  }

  start(): void {
    this.inflight = this.tick();
  }

  private schedule(): void {
    if (this.stopped) return;
    // A standby tries again at the retry period, or right when the holder's Lease (as this replica saw it
    // change, by its own clock) expires if that is sooner: a handover then takes at most one retry period
    // of observation lag plus the lease duration, not another retry period on top.
    const seen = this.observed;
    const untilExpiry =
      !this.leading && seen && seen.holder !== '' && seen.holder !== this.options.identity
        ? seen.at + seen.leaseDurationSeconds * 1000 - this.now() + 50
        : this.retryMs;
    this.timer = setTimeout(
      () => {
        this.inflight = this.tick();
      },
      Math.max(10, Math.min(this.retryMs, untilExpiry)),
    );
  }

  private async tick(): Promise<void> {
    if (this.stopped) return;
    try {
      // Bounded well inside the renew deadline, so a hung API server cannot keep a stale leader working.
      const acquired = await withTimeout(this.tryAcquireOrRenew(), this.renewDeadlineMs / 2, 'lease request');
      if (this.stopped) return;
      if (acquired) {
        this.lastRenewed = this.now();
        if (!this.leading) {
          this.leading = true;
          this.log.info({ lease: this.options.name, identity: this.options.identity }, 'became leader');
          this.options.onStartedLeading();
        }
      } else if (this.leading) {
        this.lose('lease taken by another holder');
      }
    } catch (error) {
      this.log.warn({ err: error }, 'leader election: lease request failed');
      if (this.leading && this.now() - this.lastRenewed > this.renewDeadlineMs) this.lose('renew deadline exceeded');
    }
    this.schedule();
  }

  private lose(why: string): void {
    this.leading = false;
    this.log.warn({ lease: this.options.name, why }, 'stopped leading');
    this.options.onStoppedLeading();
  }

  /** Remembers the record and the local time, but only when the record changed since the last look. */
  private observe(lease: Lease): Observation {
    const resourceVersion = lease.metadata?.resourceVersion ?? '';
    if (this.observed?.resourceVersion !== resourceVersion) {
      this.observed = {
        resourceVersion,
        holder: lease.spec?.holderIdentity ?? '',
        leaseDurationSeconds: lease.spec?.leaseDurationSeconds ?? this.leaseS,
        at: this.now(),
      };
    }
    return this.observed;
  }

  private async tryAcquireOrRenew(): Promise<boolean> {
    const { namespace, name, identity } = this.options;
    const now = microTime(this.now());
    let lease: Lease;
    try {
      lease = await this.clients.coordination.readNamespacedLease({ namespace, name });
    } catch (error) {
      if (statusCodeOf(error) !== 404) throw error;
      try {
        const created = await this.clients.coordination.createNamespacedLease({
          namespace,
          body: {
            metadata: { name, namespace },
            spec: {
              holderIdentity: identity,
              leaseDurationSeconds: this.leaseS,
              acquireTime: now,
              renewTime: now,
              leaseTransitions: 0,
            },
          },
        });
        this.observe(created);
        return true;
      } catch (createError) {
        if (statusCodeOf(createError) === 409) return false;
        throw createError;
      }
    }
    const seen = this.observe(lease);
    const held = seen.holder !== '' && seen.holder !== identity;
    const valid = this.now() < seen.at + seen.leaseDurationSeconds * 1000;
    if (held && valid) return false;
    const spec = lease.spec ?? {};
    const takingOver = spec.holderIdentity !== identity;
    try {
      const written = await this.replaceLease(lease, {
        holderIdentity: identity,
        leaseDurationSeconds: this.leaseS,
        acquireTime: takingOver || !spec.acquireTime ? now : spec.acquireTime,
        renewTime: now,
        leaseTransitions: (spec.leaseTransitions ?? 0) + (takingOver ? 1 : 0),
      });
      this.observe(written);
      return true;
    } catch (error) {
      if (statusCodeOf(error) === 409) return false;
      throw error;
    }
  }

  /** Replaces the Lease as read: a 409 means someone else wrote it first. */
  private async replaceLease(lease: Lease, spec: LeaseSpec): Promise<Lease> {
    const { namespace, name } = this.options;
    return this.clients.coordination.replaceNamespacedLease({
      namespace,
      name,
      body: { metadata: { name, namespace, resourceVersion: lease.metadata?.resourceVersion }, spec },
    });
  }

  /**
   * Stops the loop and, if leading and `release` (the default), hands the Lease back so a standby takes
   * over at once. Without release the Lease simply expires, as when the process dies.
   */
  async stop({ release = true }: { release?: boolean } = {}): Promise<void> {
    this.stopped = true;
    clearTimeout(this.timer);
    // A renewal still in flight would change the Lease under the release below and make it a 409.
    await this.inflight;
    if (!this.leading) return;
    this.leading = false;
    if (!release) return;
    const { namespace, name } = this.options;
    // A conflict means the Lease changed between read and write: read it again (twice at most).
    for (let attempt = 1; ; attempt++) {
      try {
        const lease = await this.clients.coordination.readNamespacedLease({ namespace, name });
        if (lease.spec?.holderIdentity !== this.options.identity) return;
        await this.replaceLease(lease, {
          holderIdentity: '',
          leaseDurationSeconds: 1,
          acquireTime: lease.spec.acquireTime ?? microTime(this.now()),
          renewTime: microTime(this.now()),
          leaseTransitions: lease.spec.leaseTransitions ?? 0,
        });
        this.log.info({ lease: name }, 'released lease');
        return;
      } catch (error) {
        if (statusCodeOf(error) === 409 && attempt < 3) continue;
        this.log.warn({ err: error }, 'could not release the lease');
        return;
      }
    }
  }
}
