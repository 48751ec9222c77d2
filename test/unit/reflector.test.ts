import { describe, expect, test } from '@jest/globals';
import type { KubeApi, WatchEvent } from '../../src/controller/k8s/api-client.js';
import { type CachedObject, type ObjectList, ResourceCache } from '../../src/controller/k8s/resource-cache.js';

/** A scripted API: lists answer from a queue, each watch call gets the next script of events. */
function scriptedApi(lists: ObjectList[], watches: ((emit: (e: WatchEvent<CachedObject>) => void) => Promise<void>)[]) {
  const watchedFrom: string[] = [];
  const api = {
    watch: (_path: string, query: { resourceVersion: string }, onEvent: (e: WatchEvent<CachedObject>) => void) => {
      watchedFrom.push(query.resourceVersion);
      const script = watches.shift() ?? (() => new Promise<void>(() => undefined));
      return { done: script(onEvent), abort: () => undefined };
    },
  } as unknown as KubeApi;
  const source = { path: '/x', list: async () => lists.shift() ?? { items: [] } };
  return { api, source, watchedFrom };
}

const obj = (name: string, rv: string): CachedObject => ({
  metadata: { namespace: 'ns', name, resourceVersion: rv },
});

describe('the reflector behind ResourceCache', () => {
  test('watch events, bookmarks, and a 410 relist diffed against the store', async () => {
    const seen: string[] = [];
    let relisted!: () => void;
    const relistDone = new Promise<void>((ok) => {
      relisted = ok;
    });
    const { api, source, watchedFrom } = scriptedApi(
      [
        { items: [obj('a', '1'), obj('b', '2')], metadata: { resourceVersion: '2' } },
        { items: [obj('a', '3'), obj('c', '5')], metadata: { resourceVersion: '6' } },
      ],
      [
        async (emit) => {
          emit({ type: 'MODIFIED', object: obj('a', '3') });
          emit({ type: 'BOOKMARK', object: obj('', '4') });
        }, // the server ends the watch: resume from the bookmark
        async (emit) => {
          emit({ type: 'ERROR', object: { code: 410, message: 'too old' } as never });
        },
        async () => relisted(),
      ],
    );
    const cache = new ResourceCache(api, 'things', [source], {
      add: (o) => seen.push(`add ${o.metadata?.name}@${o.metadata?.resourceVersion}`),
      update: (o) => seen.push(`update ${o.metadata?.name}@${o.metadata?.resourceVersion}`),
      delete: (o) => seen.push(`delete ${o.metadata?.name}`),
    });
    await cache.start();
    await relistDone;
    // a@3 unchanged at the relist raises nothing; b vanished while we were not watching; c is new.
    expect(seen).toEqual(['add a@1', 'add b@2', 'update a@3', 'add c@5', 'delete b']);
    expect(watchedFrom).toEqual(['2', '4', '6']);
    expect(cache.list('ns').map((o) => o.metadata?.name)).toEqual(['a', 'c']);
    expect(cache.get('ns', 'b')).toBeUndefined();
    await cache.stop();
  });

  test('a failing watch is reported with a growing backoff, and a watch ERROR that is not 410 too', async () => {
    const retries: number[] = [];
    const { api, source } = scriptedApi(
      [{ items: [], metadata: { resourceVersion: '1' } }],
      [
        async (emit) => emit({ type: 'ERROR', object: { code: 500, message: 'etcd' } as never }),
        async () => {
          throw Object.assign(new Error('connection reset'), { code: 'ECONNRESET' });
        },
      ],
    );
    const cache = new ResourceCache(
      api,
      'things',
      [source],
      {},
      { onWatchError: (_r, _e, retryInMs) => retries.push(retryInMs) },
    );
    await cache.start();
    const deadline = Date.now() + 5000;
    while (retries.length < 2 && Date.now() < deadline) await new Promise((ok) => setTimeout(ok, 50));
    expect(retries).toEqual([1000, 2000]);
    await cache.stop();
  });
});
