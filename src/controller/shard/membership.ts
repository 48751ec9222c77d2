/*
 * Who is a live member of the shard group, judged the way client-go's leader election judges a Lease: by
 * this replica's own clock, from when it last SAW each member's Lease change — never by comparing a renewTime
 * written on another node with the local clock, so clock skew can neither keep a dead member alive nor drop a
 * live one. A Lease seen for the first time counts as expired until it is seen renewed (a Lease left by a
 * killed Pod is listed like a live one), and a member counts only `joinGraceMs` after that, so that every
 * replica has seen it before ownership moves to it (the planned handover: docs/operator.md "Sharding").
 * Pure: times are the caller's.
 */

export interface MemberLease {
  /** The member's identity (Lease spec.holderIdentity). */
  holder: string;
  resourceVersion: string;
  leaseDurationMs: number;
  /** spec.renewTime as written by the holder's clock: only to guess when a member found dead had died. */
  renewTimeMs?: number;
}

interface Seen {
  lease: MemberLease;
  /** Local time the Lease was first seen. */
  firstSeenMs: number;
  /** Local time its resourceVersion last changed. */
  changedMs: number;
  /** Seen to change by this replica at least once (else changedMs is a stand-in that makes it expired). */
  seenChanging?: boolean;
}

export class Membership {
  private readonly seen = new Map<string, Seen>();
  /** The latest expiry of a member that has since come back (renewed again): a failure all the same. */
  private lastReturnedExpiryMs: number | undefined;

  constructor(private readonly joinGraceMs: number) {}

  /** A Lease as listed or watched (name → lease); a new resourceVersion counts as a renewal now. */
  observe(name: string, lease: MemberLease, nowMs: number): void {
    const known = this.seen.get(name);
    // A member back after its Lease expired (a freeze, a partition) joins anew: the others dropped it, and its
    // own view of them is as stale, so everyone waits the join grace again before objects move to it.
    if (!known) {
      this.seen.set(name, { lease, firstSeenMs: nowMs, changedMs: nowMs - lease.leaseDurationMs });
      return;
    }
    const expired = nowMs - known.changedMs >= known.lease.leaseDurationMs;
    // Renewed after it had expired: it died (or froze) and came back. A Lease only ever seen listed, without a
    // renewTime, that renews now was most likely live all along: no failure.
    if (expired && (known.seenChanging || known.lease.renewTimeMs !== undefined)) {
      const at = expiryOf(known, nowMs);
      if (at !== undefined && at > (this.lastReturnedExpiryMs ?? -Infinity)) this.lastReturnedExpiryMs = at;
    }
    if (known.lease.holder !== lease.holder || expired) {
      this.seen.set(name, { lease, firstSeenMs: nowMs, changedMs: nowMs, seenChanging: true });
    } else if (known.lease.resourceVersion !== lease.resourceVersion) {
      this.seen.set(name, { lease, firstSeenMs: known.firstSeenMs, changedMs: nowMs, seenChanging: true });
    }
  }

  /** The Lease was deleted (a clean shutdown): the member leaves at once. */
  forget(name: string): void {
    this.seen.delete(name);
  }

  /** Members whose Lease changed within its duration and who have been seen for the join grace, sorted. */
  live(nowMs: number): string[] {
    const members = new Set<string>();
    for (const { lease, firstSeenMs, changedMs } of this.seen.values()) {
      if (nowMs - changedMs >= lease.leaseDurationMs) continue;
      if (nowMs - firstSeenMs < this.joinGraceMs) continue;
      members.add(lease.holder);
    }
    return [...members].sort();
  }

  /** Members whose Lease expired (not seen to change for its duration): they died rather than left. */
  expired(nowMs: number): string[] {
    return [...this.seen.values()]
      .filter(({ lease, changedMs }) => nowMs - changedMs >= lease.leaseDurationMs)
      .map(({ lease }) => lease.holder);
  }

  /**
   * When a member last expired, by this replica's clock — one now counted dead, or one that came back since (a
   * restarted or resumed replica renews its Lease again): see expiryOf. Not a liveness judgement: it only tells
   * whether the survivors may still be catching up on what they took over.
   */
  lastExpiryMs(nowMs: number): number | undefined {
    let last = this.lastReturnedExpiryMs;
    for (const seen of this.seen.values()) {
      if (nowMs - seen.changedMs < seen.lease.leaseDurationMs) continue;
      const at = expiryOf(seen, nowMs);
      if (at !== undefined && (last === undefined || at > last)) last = at;
    }
    return last;
  }

  /** Leases not seen to change for `ageMs` (their replicas are long gone): to be deleted. */
  abandoned(nowMs: number, ageMs: number): { name: string; resourceVersion: string }[] {
    return [...this.seen.entries()]
      .filter(([, { changedMs }]) => nowMs - changedMs >= ageMs)
      .map(([name, { lease }]) => ({ name, resourceVersion: lease.resourceVersion }));
  }

  /** When the view can next change by time alone (a Lease expiring or a grace ending): re-evaluate then. */
  nextChangeMs(nowMs: number): number | undefined {
    let next: number | undefined;
    for (const { lease, firstSeenMs, changedMs } of this.seen.values()) {
      for (const at of [changedMs + lease.leaseDurationMs, firstSeenMs + this.joinGraceMs]) {
        if (at > nowMs && (next === undefined || at < next)) next = at;
      }
    }
    return next;
  }
}

/**
 * When an expired Lease expired: for one this replica saw renewing, its duration after the last change it saw; for
 * one first seen already listed, its holder's last renewTime plus the duration (another node's clock, good enough to
 * tell a minute ago from an hour ago) once that time has passed unrenewed — before, it may be a live member that
 * just had not renewed since it was listed, no failure. Unknown (no renewTime): when first seen.
 */
function expiryOf({ lease, firstSeenMs, changedMs, seenChanging }: Seen, nowMs: number): number | undefined {
  if (seenChanging) return changedMs + lease.leaseDurationMs;
  if (lease.renewTimeMs === undefined) return firstSeenMs;
  const at = lease.renewTimeMs + lease.leaseDurationMs;
  return at <= nowMs ? at : undefined;
}
