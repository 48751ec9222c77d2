/**
 * The status the operator wrote comes back through the watch as a fresh parse of the same JSON: a second full
 * copy (conditions, availability buckets) per object, held by the cache next to the reconciler's own. This
 * remembers each object's last write by the resourceVersion the API server gave it, and when the watch
 * delivers that very version, puts the written status object in its place, so cache and reconciler share one.
 * A version the operator did not write (someone else's change) keeps the status as the API server sent it.
 */
export class StatusEcho {
  private readonly pending = new Map<string, { resourceVersion: string; status: object }>();

  /**
   * After a successful write: `resourceVersion` is the one the write created. The watch may have delivered it
   * already (`cached`): then share at once.
   */
  written(
    key: string,
    resourceVersion: string | undefined,
    status: object,
    cached?: { metadata?: { resourceVersion?: string }; status?: unknown },
  ): void {
    this.pending.delete(key);
    if (!resourceVersion) return;
    if (cached?.metadata?.resourceVersion === resourceVersion) cached.status = status;
    else this.pending.set(key, { resourceVersion, status });
  }

  /** For an object arriving from the watch or a list (in place, like cache trimming). */
  share<T extends { metadata?: { resourceVersion?: string }; status?: unknown }>(key: string, obj: T): T {
    const mine = this.pending.get(key);
    if (!mine) return obj;
    if (obj.metadata?.resourceVersion === mine.resourceVersion) {
      obj.status = mine.status as T['status'];
      this.pending.delete(key);
    }
    // Another version (resourceVersions are opaque, so no "older" or "newer"): ours may still come. One entry
    // per object at most, replaced by the next write and dropped with the object.
    return obj;
  }

  forget(key: string): void {
    this.pending.delete(key);
  }

  get size(): number {
    return this.pending.size;
  }
}
