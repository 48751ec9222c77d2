import { createHash } from 'node:crypto';

/*
 * Which live member owns an object: rendezvous (highest random weight) hashing over the members, as
 * kube-state-metrics' sharding by a stable hash and timebertt's controller-sharding do with a ring. Every
 * replica that sees the same members computes the same owner; when a member joins or leaves, only the
 * objects it wins or held move (about 1/n of them), nothing else.
 */

/** 64 bits of SHA-256: a weight uniform enough that n members each win ~1/n of the objects. */
function weight(member: string, object: string): bigint {
  return createHash('sha256').update(member).update('\u0000').update(object).digest().readBigUInt64BE(0);
}

/** The owner of `object` (namespace/name) among `members`; undefined when there are none. */
export function ownerOf(object: string, members: readonly string[]): string | undefined {
  let best: string | undefined;
  let bestWeight = -1n;
  for (const member of members) {
    const w = weight(member, object);
    // Ties (astronomically rare) go to the smaller name, so every replica agrees.
    if (w > bestWeight || (w === bestWeight && best !== undefined && member < best)) {
      best = member;
      bestWeight = w;
    }
  }
  return best;
}
