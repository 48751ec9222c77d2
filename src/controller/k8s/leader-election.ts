import type { Logger } from 'pino';
import { withTimeout } from '../../checks/timeout.js';
import { type KubeClients, k8s, statusCodeOf } from './client.js';

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
}

type Lease = k8s.V1Lease;

/** MicroTime fields come back as strings or Dates; a plain Date would serialise with milliseconds and be refused. */
const microTime = (value: unknown) =>
  new k8s.V1MicroTime(value === undefined ? Date.now() : new Date(value as string).getTime());

/**
 * Leader election on a coordination.k8s.io/v1 Lease: take it when free or expired, renew every retry
 * period, and replace with the resourceVersion read so that a 409 means someone else won. A leader that
 * cannot renew within the deadline stops leading.
 */
export class LeaderElector {
  private leading = false;
  private lastRenewed = 0;
  private timer: NodeJS.Timeout | undefined;
  private stopped = false;
  private readonly leaseS: number;
  private readonly renewDeadlineMs: number;
  private readonly retryMs: number;

  constructor(
    private readonly clients: KubeClients,
    private readonly options: LeaderElectionOptions,
    private readonly log: Logger,
  ) {
    this.leaseS = options.leaseDurationSeconds ?? 15;
    this.renewDeadlineMs = (options.renewDeadlineSeconds ?? 10) * 1000;
    this.retryMs = (options.retryPeriodSeconds ?? 2) * 1000;
  }

  get isLeader(): boolean {
    return this.leading;
  }

  start(): void {
    void this.tick();
  }

  private schedule(): void {
    if (!this.stopped) this.timer = setTimeout(() => void this.tick(), this.retryMs);
  }

  private async tick(): Promise<void> {
    try {
      // Bounded well inside the renew deadline, so a hung API server cannot keep a stale leader working.
      const acquired = await withTimeout(this.tryAcquireOrRenew(), this.renewDeadlineMs / 2, 'lease request');
      if (acquired) {
        this.lastRenewed = Date.now();
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
      if (this.leading && Date.now() - this.lastRenewed > this.renewDeadlineMs) this.lose('renew deadline exceeded');
    }
    this.schedule();
  }

  private lose(why: string): void {
    this.leading = false;
    this.log.warn({ lease: this.options.name, why }, 'stopped leading');
    this.options.onStoppedLeading();
  }

  private async tryAcquireOrRenew(): Promise<boolean> {
    const { namespace, name, identity } = this.options;
    const now = new k8s.V1MicroTime();
    let lease: Lease;
    try {
      lease = await this.clients.coordination.readNamespacedLease({ namespace, name });
    } catch (error) {
      if (statusCodeOf(error) !== 404) throw error;
      try {
        await this.clients.coordination.createNamespacedLease({
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
        return true;
      } catch (createError) {
        if (statusCodeOf(createError) === 409) return false;
        throw createError;
      }
    }
    const spec = lease.spec ?? {};
    const holder = spec.holderIdentity ?? '';
    const renewedAt = spec.renewTime ? microTime(spec.renewTime).getTime() : 0;
    const expired = Date.now() - renewedAt > (spec.leaseDurationSeconds ?? this.leaseS) * 1000;
    if (holder !== identity && holder !== '' && !expired) return false;
    const takingOver = holder !== identity;
    try {
      await this.replaceLease(lease, {
        holderIdentity: identity,
        leaseDurationSeconds: this.leaseS,
        acquireTime: takingOver ? now : microTime(spec.acquireTime),
        renewTime: now,
        leaseTransitions: (spec.leaseTransitions ?? 0) + (takingOver ? 1 : 0),
      });
      return true;
    } catch (error) {
      if (statusCodeOf(error) === 409) return false;
      throw error;
    }
  }

  /** Replaces the Lease as read: a 409 means someone else wrote it first. */
  private async replaceLease(lease: Lease, spec: k8s.V1LeaseSpec): Promise<void> {
    const { namespace, name } = this.options;
    await this.clients.coordination.replaceNamespacedLease({
      namespace,
      name,
      body: { metadata: { name, namespace, resourceVersion: lease.metadata?.resourceVersion }, spec },
    });
  }

  /** Stops the loop and, if leading, hands the Lease back so a standby takes over at once. */
  async stop(): Promise<void> {
    this.stopped = true;
    clearTimeout(this.timer);
    if (!this.leading) return;
    this.leading = false;
    const { namespace, name } = this.options;
    try {
      const lease = await this.clients.coordination.readNamespacedLease({ namespace, name });
      if (lease.spec?.holderIdentity !== this.options.identity) return;
      await this.replaceLease(lease, {
        holderIdentity: '',
        leaseDurationSeconds: 1,
        acquireTime: microTime(lease.spec.acquireTime),
        renewTime: new k8s.V1MicroTime(),
        leaseTransitions: lease.spec.leaseTransitions ?? 0,
      });
      this.log.info({ lease: name }, 'released lease');
    } catch (error) {
      this.log.warn({ err: error }, 'could not release the lease');
    }
  }
}
