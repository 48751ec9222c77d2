import type { ObjectMeta } from '../types.js';
import { type KubeApi, WatchAborted, type WatchEvent } from './api-client.js';
import { statusCodeOf } from './client.js';

export interface CachedObject {
  apiVersion?: string;
  kind?: string;
  metadata?: ObjectMeta;
}

export interface CacheHandlers<T> {
  add?: (obj: T) => void;
  update?: (obj: T) => void;
  delete?: (obj: T) => void;
}

export interface CacheEvents {
  /** A list or watch failed with something other than a timeout or 410; it is retried after `retryInMs`. */
  onWatchError?: (resource: string, error: unknown, retryInMs: number) => void;
}

export interface ObjectList {
  items?: CachedObject[];
  metadata?: { resourceVersion?: string };
}

/** Where a ResourceCache lists and watches one resource, in one namespace or all. */
export interface Source {
  path: string;
  list: () => Promise<ObjectList>;
  /** Accept header of the watch (e.g. asking for metadata only). */
  watchAccept?: string;
  /**
   * client-go's SetTransform: applied to every listed or watched object before it is stored, to keep only the
   * fields a controller reads. It must keep metadata (name, namespace, resourceVersion).
   */
  transform?: (obj: CachedObject) => CachedObject;
}

const MAX_BACKOFF_MS = 30_000;

/** The Status a watch sends as an ERROR event, or a 410 answer: the resourceVersion is too old, list again. */
const isGone = (error: unknown) => statusCodeOf(error) === 410;

class Gone extends Error {
  readonly code = 410;
}

const sleep = (ms: number) => new Promise((ok) => setTimeout(ok, ms).unref());

/**
 * client-go's reflector for one source: list, then watch from the list's resourceVersion with bookmarks;
 * a watch the server ends is resumed from the last version seen, a 410 relists (diffing against the store so
 * handlers see adds, updates and deletes), and any other failure is reported and retried with backoff
 * (1 s doubling to 30 s). The store holds the very objects handed to the handlers.
 */
class Reflector<T extends CachedObject> {
  /** namespace → name → object: `list(namespace)` without scanning every object. */
  readonly byNamespace = new Map<string, Map<string, T>>();
  private resourceVersion = '';
  private watch: { abort(): void } | undefined;
  private stopped = false;
  private failures = 0;

  constructor(
    private readonly api: KubeApi,
    private readonly resource: string,
    private readonly source: Source,
    private readonly handlers: CacheHandlers<T>,
    private readonly events: CacheEvents,
  ) {}

  /** Resolves after the first successful list (or at stop()); keeps watching in the background. */
  run(): Promise<void> {
    return new Promise<void>((synced) => {
      void this.loop(synced);
    });
  }

  private async loop(synced: () => void): Promise<void> {
    let needList = true;
    while (!this.stopped) {
      try {
        if (needList) {
          this.replace(await this.source.list());
          needList = false;
          this.failures = 0;
          synced();
        }
        const started = Date.now();
        const received = await this.watchOnce();
        // A server that ends watches at once would make this spin: treat a silent instant close as a failure.
        if (!received && Date.now() - started < 1000) await this.backoff(new Error('watch closed at once'));
      } catch (error) {
        if (this.stopped || error instanceof WatchAborted) break;
        if (isGone(error)) needList = true;
        else await this.backoff(error);
      }
    }
    synced();
  }

  private async backoff(error: unknown): Promise<void> {
    const retryInMs = Math.min(MAX_BACKOFF_MS, 1000 * 2 ** this.failures++);
    this.events.onWatchError?.(this.resource, error, retryInMs);
    await sleep(retryInMs);
  }

  /** One watch request until the server ends it; resolves to whether any event arrived. */
  private async watchOnce(): Promise<boolean> {
    let received = false;
    // A random 5–10 min server-side timeout (client-go's) spreads re-watches of many replicas.
    const timeoutSeconds = 300 + Math.floor(Math.random() * 300);
    const handle = this.api.watch<T>(
      this.source.path,
      { resourceVersion: this.resourceVersion, allowWatchBookmarks: true, timeoutSeconds },
      (event) => {
        received = true;
        if (event.type !== 'ERROR') this.failures = 0;
        this.apply(event);
      },
      this.source.watchAccept,
    );
    this.watch = handle;
    if (this.stopped) handle.abort();
    try {
      await handle.done;
    } finally {
      this.watch = undefined;
    }
    return received;
  }

  private apply(event: WatchEvent<T>): void {
    if (event.type === 'ERROR') {
      // Thrown out of the stream's loop, which closes the response.
      const status = event.object as { code?: number; message?: string };
      throw status.code === 410 ? new Gone(status.message) : new Error(`watch error: ${status.message ?? 'unknown'}`);
    }
    const rv = event.object.metadata?.resourceVersion;
    if (rv) this.resourceVersion = rv;
    if (event.type === 'BOOKMARK') return;
    if (event.type === 'DELETED') this.remove(event.object);
    else this.put(event.object);
  }

  private put(received: T): void {
    const obj = (this.source.transform ? this.source.transform(received) : received) as T;
    const { namespace = '', name = '' } = obj.metadata ?? {};
    const names = this.byNamespace.get(namespace) ?? new Map<string, T>();
    this.byNamespace.set(namespace, names);
    const had = names.has(name);
    names.set(name, obj);
    if (had) this.handlers.update?.(obj);
    else this.handlers.add?.(obj);
  }

  private remove(obj: T): void {
    const { namespace = '', name = '' } = obj.metadata ?? {};
    const names = this.byNamespace.get(namespace);
    const known = names?.get(name);
    if (!names || !known) return;
    names.delete(name);
    if (names.size === 0) this.byNamespace.delete(namespace);
    this.handlers.delete?.(obj);
  }

  /** A fresh list: unchanged objects (same resourceVersion) raise no event, missing ones are deletes. */
  private replace(list: ObjectList): void {
    const seen = new Set<string>();
    for (const item of (list.items ?? []) as T[]) {
      const { namespace = '', name = '', resourceVersion } = item.metadata ?? {};
      seen.add(`${namespace}/${name}`);
      const known = this.byNamespace.get(namespace)?.get(name);
      if (known && known.metadata?.resourceVersion === resourceVersion) continue;
      this.put(item);
    }
    for (const [namespace, names] of [...this.byNamespace]) {
      for (const obj of [...names.values()]) {
        if (!seen.has(`${namespace}/${obj.metadata?.name ?? ''}`)) this.remove(obj);
      }
    }
    this.resourceVersion = list.metadata?.resourceVersion ?? '';
  }

  stop(): void {
    this.stopped = true;
    this.watch?.abort();
  }
}

/** A list+watch cache of one resource over all namespaces or a chosen set (one reflector per namespace). */
export class ResourceCache<T extends CachedObject> {
  private readonly reflectors: Reflector<T>[];

  constructor(api: KubeApi, resource: string, sources: Source[], handlers: CacheHandlers<T>, events: CacheEvents = {}) {
    this.reflectors = sources.map((source) => new Reflector<T>(api, resource, source, handlers, events));
  }

  /** Resolves once every source has listed (the cache is synced), or at stop(). */
  async start(): Promise<void> {
    await Promise.all(this.reflectors.map((r) => r.run()));
  }

  get(namespace: string, name: string): T | undefined {
    for (const r of this.reflectors) {
      const found = r.byNamespace.get(namespace)?.get(name);
      if (found) return found;
    }
    return undefined;
  }

  list(namespace?: string): T[] {
    return this.reflectors.flatMap((r) =>
      namespace === undefined
        ? [...r.byNamespace.values()].flatMap((names) => [...names.values()])
        : [...(r.byNamespace.get(namespace)?.values() ?? [])],
    );
  }

  async stop(): Promise<void> {
    for (const r of this.reflectors) r.stop();
  }
}
