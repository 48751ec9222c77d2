import type { ObjectMeta } from '../types.js';
import { k8s } from './client.js';

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
  /** A watch failed with something other than a timeout or 410; it restarts after `retryInMs`. */
  onWatchError?: (resource: string, error: unknown, retryInMs: number) => void;
}

type ListFn = () => Promise<{ items: CachedObject[]; metadata?: { resourceVersion?: string } }>;

interface Source {
  path: string;
  list: ListFn;
  /** A different client configuration for the watch (e.g. one asking for metadata only). */
  kc?: k8s.KubeConfig;
}

/**
 * A list+watch cache of one resource over all namespaces or a chosen set. client-node's ListWatch
 * re-watches by itself after its 30 s inactivity timeout and re-lists on 410; on any other error it
 * stops, so this restarts it with exponential backoff (1 s doubling to 30 s).
 */
export class ResourceCache<T extends CachedObject> {
  private readonly informers: k8s.Informer<k8s.KubernetesObject>[] = [];
  private readonly stores: k8s.ObjectCache<k8s.KubernetesObject>[] = [];
  private stopped = false;
  /** Unblocks start() callers when the cache is stopped before its first list. */
  private readonly pendingStarts: (() => void)[] = [];

  constructor(
    private readonly kc: k8s.KubeConfig,
    private readonly resource: string,
    private readonly sources: Source[],
    private readonly handlers: CacheHandlers<T>,
    private readonly events: CacheEvents = {},
  ) {}

  /** Resolves once every source has listed (the cache is synced). */
  async start(): Promise<void> {
    await Promise.all(this.sources.map((source) => this.startSource(source)));
  }

  private async startSource(source: Source): Promise<void> {
    let markListed: () => void = () => undefined;
    // start() resolves after the list and the watch request, but a failed list only reports through
    // 'error' (and is retried by restart): the cache is synced when one list has succeeded.
    const firstList = new Promise<void>((ok) => {
      markListed = ok;
      this.pendingStarts.push(ok);
    });
    const list: ListFn = async () => {
      const result = await source.list();
      markListed();
      return result;
    };
    const informer = k8s.makeInformer(source.kc ?? this.kc, source.path, list as never);
    this.informers.push(informer);
    this.stores.push(informer);
    if (this.handlers.add) informer.on('add', this.handlers.add as never);
    if (this.handlers.update) informer.on('update', this.handlers.update as never);
    if (this.handlers.delete) informer.on('delete', this.handlers.delete as never);
    let failures = 0;
    informer.on('connect', () => {
      failures = 0;
    });
    const restart = (error: unknown) => {
      if (this.stopped) return;
      const retryInMs = Math.min(30_000, 1000 * 2 ** failures++);
      this.events.onWatchError?.(this.resource, error, retryInMs);
      setTimeout(() => {
        if (!this.stopped) void informer.start();
      }, retryInMs).unref();
    };
    informer.on('error', restart);
    await informer.start();
    await firstList;
  }

  get(namespace: string, name: string): T | undefined {
    for (const store of this.stores) {
      const found = store.get(name, namespace);
      if (found) return found as T;
    }
    return undefined;
  }

  list(namespace?: string): T[] {
    return this.stores.flatMap((s) => s.list(namespace)) as T[];
  }

  async stop(): Promise<void> {
    this.stopped = true;
    for (const release of this.pendingStarts.splice(0)) release();
    await Promise.all(this.informers.map((i) => i.stop()));
  }
}
