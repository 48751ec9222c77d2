/**
 * The status the operator wrote comes back through the watch as a fresh parse of the same JSON: a second full
 * copy (conditions, availability buckets) per object, held by the cache next to the reconciler's own. This
 * remembers each object's last write by the resourceVersion the API server gave it, and when the watch
 * delivers that very version, puts the written status object in its place, so cache and reconciler share one.
 * A version the operator did not write (someone else's change) keeps the status as the API server sent it.
 */
export class StatusEcho {
  private readonly pending = new Map<string, { resourceVersion: string; status: object }>();

  /** After a successful write: `resourceVersion` is the one the write created. */
  written(key: string, resourceVersion: string | undefined, status: object): void {
    if (resourceVersion) this.pending.set(key, { resourceVersion, status });
    else this.pending.delete(key);
  }

  /** For an object arriving from the watch or a list (in place, like cache trimming). */
  share<T extends { metadata?: { resourceVersion?: string }; status?: unknown }>(key: string, obj: T): T {
    const mine = this.pending.get(key);
    if (!mine) return obj;
    if (obj.metadata?.resourceVersion === mine.resourceVersion) {
      obj.status = mine.status as T['status'];
      this.pending.delete(key);
    } else if (!obj.metadata?.resourceVersion || Number(obj.metadata.resourceVersion) > Number(mine.resourceVersion)) {
      // A later version arrived (ours was skipped by a relist, or overwritten): nothing left to share.
      this.pending.delete(key);
    }
    return obj;
  }

  forget(key: string): void {
    this.pending.delete(key);
  }

  get size(): number {
    return this.pending.size;
  }
}
