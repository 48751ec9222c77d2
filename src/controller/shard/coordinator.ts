import type { Logger } from 'pino';
import { errorFields } from '../k8s/api-errors.js';
import type { KubeClients } from '../k8s/client.js';
import { MemberLease } from '../k8s/member-lease.js';
import { type CachedObject, ResourceCache } from '../k8s/resource-cache.js';
import { leaseSource } from '../k8s/sources.js';
import { Membership } from './membership.js';
import { ownerOf } from './ownership.js';

export const SHARD_GROUP_LABEL = 'dbwatch.dev/shard-group';
const ABANDONED_MS = 60 * 60_000;
/**
 * After a member expired, objects taken over are checked within the Lease + one check (15 s after the expiry at
 * 10,000 monitors over 2 survivors, docs/performance.md); a minute later the survivors are on schedule again.
 */
export const SETTLED_AFTER_FAILURE_MS = 60_000;

interface LeaseObject extends CachedObject {
  spec?: { holderIdentity?: string; leaseDurationSeconds?: number; renewTime?: string };
}

export interface ShardOptions {
  clients: KubeClients;
  /** Where the members' Leases live: the operator's own namespace. */
  namespace: string;
  /** The group's name (the Helm release): members are its Leases labelled dbwatch.dev/shard-group=<group>. */
  group: string;
  identity: string;
  log: Logger;
  /** The members this replica sees changed: `expired` died (their Leases ran out) rather than left. */
  onChange: (members: readonly string[], expired: readonly string[]) => void;
  onWatchError?: (resource: string, error: unknown, retryInMs: number) => void;
  leaseDurationSeconds?: number;
  /** A new member counts this long after it is first seen, by every replica alike (default 2 × retry period). */
  joinGraceMs?: number;
  now?: () => number;
}

/**
 * Active-active sharding on Kubernetes Leases. Each replica keeps a Lease of its own (MemberLease) and watches
 * the group's Leases; the live members are those whose Lease changed within its duration by this replica's own
 * clock (Membership), and each object belongs to one of them by rendezvous hashing (ownerOf). A replica whose
 * own renewal missed its deadline owns nothing until it renews, so a frozen or cut-off replica stops working
 * before the others count it gone. No other store, no consensus of our own: the API server's Leases are it.
 */
export class ShardCoordinator {
  private readonly membership: Membership;
  private readonly joinGraceMs: number;
  private readonly lease: MemberLease;
  private readonly leases: ResourceCache<LeaseObject>;
  private members: readonly string[] = [];
  private timer: NodeJS.Timeout | undefined;
  private cleaner: NodeJS.Timeout | undefined;
  private readonly now: () => number;
  private stopped = false;
  /** When this replica's own membership last lapsed (its renew deadline passed: a freeze, a partition). */
  private lapsedAtMs: number | undefined;

  constructor(private readonly options: ShardOptions) {
    this.now = options.now ?? Date.now;
    const leaseDurationSeconds = options.leaseDurationSeconds ?? 15;
    this.joinGraceMs = options.joinGraceMs ?? 4000;
    this.membership = new Membership(this.joinGraceMs);
    this.lease = new MemberLease(
      options.clients,
      {
        namespace: options.namespace,
        name: memberLeaseName(options.group, options.identity),
        identity: options.identity,
        labels: { [SHARD_GROUP_LABEL]: options.group },
        leaseDurationSeconds,
        onLive: () => this.recompute(),
        onLost: () => this.recompute(),
        now: this.now,
      },
      options.log,
    );
    const seen = (change: 'put' | 'delete') => (l: LeaseObject) => {
      const name = l.metadata?.name ?? '';
      if (change === 'delete') {
        options.log.info({ lease: name }, 'member lease deleted: that member left');
        this.membership.forget(name);
      } else {
        this.membership.observe(
          name,
          {
            holder: l.spec?.holderIdentity ?? '',
            resourceVersion: l.metadata?.resourceVersion ?? '',
            leaseDurationMs: (l.spec?.leaseDurationSeconds ?? leaseDurationSeconds) * 1000,
            ...(l.spec?.renewTime && Number.isFinite(Date.parse(l.spec.renewTime))
              ? { renewTimeMs: Date.parse(l.spec.renewTime) }
              : {}),
          },
          this.now(),
        );
      }
      this.recompute();
    };
    this.leases = new ResourceCache<LeaseObject>(
      options.clients.api,
      'leases',
      [leaseSource(options.namespace, `${SHARD_GROUP_LABEL}=${options.group}`)],
      { add: seen('put'), update: seen('put'), delete: seen('delete') },
      { ...(options.onWatchError ? { onWatchError: options.onWatchError } : {}) },
    );
  }

  async start(): Promise<void> {
    this.lease.start();
    await this.leases.start();
    this.recompute();
    this.cleaner = setInterval(() => void this.deleteAbandoned(), 60_000).unref();
  }

  /**
   * Pods of a Deployment get new names, so every replica that dies leaves a Lease behind: any member deletes the
   * group's Leases it has not seen change for an hour (only that version of each: a renewed one stays).
   */
  private async deleteAbandoned(): Promise<void> {
    for (const { name, resourceVersion } of this.membership.abandoned(this.now(), ABANDONED_MS)) {
      await this.options.clients.coordination
        .deleteNamespacedLease({ namespace: this.options.namespace, name, resourceVersion }, { timeoutMs: 5000 })
        .then(() => this.options.log.info({ lease: name }, 'deleted the Lease of a shard member gone for an hour'))
        .catch((error: unknown) =>
          this.options.log.debug({ lease: name, ...errorFields(error) }, 'abandoned Lease not deleted'),
        );
    }
  }

  /** The live members this replica works with; none while its own Lease is not renewed. */
  get liveMembers(): readonly string[] {
    return this.members;
  }

  /**
   * Whether the group has been free of failures for a while: no member expired and this replica's own membership
   * did not lapse within SETTLED_AFTER_FAILURE_MS. Until then the others may still be catching up on objects they
   * took over, so a member that joins cannot assume they checked every slot up to the join (operator.ts rebalance).
   */
  settled(): boolean {
    const now = this.now();
    const last = Math.max(
      this.lapsedAtMs ?? -Infinity,
      this.lease.inheritedAtMs ?? -Infinity,
      this.membership.lastExpiryMs(now) ?? -Infinity,
    );
    return now - last >= SETTLED_AFTER_FAILURE_MS;
  }

  /**
   * When the others began counting this replica as a member, at the earliest: its renewal that made it live, their
   * sight of the next renewal (a Lease first seen counts only once seen renewed), and the join grace. A joining
   * replica whose own view is slow (a slow list) switches later than they do; slots between are theirs no more.
   */
  othersCountUsSinceMs(): number | undefined {
    const since = this.lease.liveSinceMs;
    return since === undefined ? undefined : since + this.lease.retryMs + this.joinGraceMs;
  }

  /** Whether this replica owns the object (namespace/name) now. */
  owns(namespace: string, name: string): boolean {
    if (!this.lease.isLive) return false;
    return ownerOf(`${namespace}/${name}`, this.members) === this.options.identity;
  }

  /** For writes of owned objects: aborts when this replica's ownership may lapse (its Lease's renew deadline). */
  workSignal(): AbortSignal {
    return this.lease.deadlineSignal();
  }

  /** The owner of an object under a given member list (for "who held it before"). */
  static ownerUnder(namespace: string, name: string, members: readonly string[]): string | undefined {
    return ownerOf(`${namespace}/${name}`, members);
  }

  private recompute(): void {
    if (this.stopped) return;
    const now = this.now();
    const members = this.lease.isLive ? this.membership.live(now) : [];
    if (!this.lease.isLive && this.members.length > 0) this.lapsedAtMs = now;
    const changed = members.length !== this.members.length || members.some((m, i) => m !== this.members[i]);
    if (changed) {
      const expired = this.membership.expired(now);
      this.members = members;
      this.options.log.info({ members, expired }, 'shard members changed');
      this.options.onChange(members, expired);
    }
    // Leases expire and join graces end by time alone: look again then.
    clearTimeout(this.timer);
    const next = this.membership.nextChangeMs(now);
    if (next !== undefined) this.timer = setTimeout(() => this.recompute(), Math.max(10, next - now + 5)).unref();
  }

  /** Leaves the group: the Lease is deleted, so the others take this replica's objects over at once. */
  async stop(): Promise<void> {
    this.stopped = true;
    clearTimeout(this.timer);
    clearInterval(this.cleaner);
    await this.lease.stop();
    await this.leases.stop();
  }
}

/** One Lease per replica, named after the group and the replica (a DNS subdomain of at most 253 characters). */
export function memberLeaseName(group: string, identity: string): string {
  const clean = `${group}-shard-${identity}`.toLowerCase().replace(/[^a-z0-9.-]/g, '-');
  return clean.slice(0, 253).replace(/^[^a-z0-9]+|[^a-z0-9]+$/g, '') || 'dbwatch-shard';
}
