import { RecordPool } from './record-pool.js';
import { StringPool } from './string-pool.js';
import type { ObjectMeta } from './types.js';

const LAST_APPLIED = 'kubectl.kubernetes.io/last-applied-configuration';

/** Shared by every cache: monitors, prerequisites and discovered objects repeat each other's namespaces too. */
const cachedStrings = new StringPool();
const cachedRecords = new RecordPool();

type Cached = { metadata?: ObjectMeta & { managedFields?: unknown } };

/**
 * Drops what no reconciler reads from an object the informer caches — client-go's
 * TransformStripManagedFields. managedFields is about 100 small objects per monitor, each tree with its own
 * hidden classes, and `kubectl apply`'s last-applied annotation is a second copy of the spec: at 2,000
 * monitors they were the largest per-object items in the operator's heap. It is the caches' transform: it gets
 * the object as just parsed from the API server, before anything stores or shares it, so it may reuse it. Its
 * strings are interned (see StringPool) and its availability buckets shared with equal ones (see RecordPool).
 */
export function trimCached<T extends Cached>(obj: T): T {
  const meta = obj.metadata;
  if (meta) {
    // A fresh object rather than `delete`: deleting a property turns an object into a slow dictionary (~600
    // bytes more per monitor, measured in a heap snapshot).
    const { managedFields: _fields, ...kept } = meta;
    if (kept.annotations && LAST_APPLIED in kept.annotations) {
      const { [LAST_APPLIED]: _dropped, ...annotations } = kept.annotations;
      kept.annotations = annotations;
    }
    obj.metadata = kept;
  }
  cachedStrings.internTree(obj);
  cachedRecords.shareTree((obj as { status?: { availability?: unknown } }).status?.availability);
  return obj;
}
