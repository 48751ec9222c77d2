import type { DiscoveryKeys, EngineName } from '../../api/index.js';
import { DEFAULT_SECRET_KEYS } from '../../checks/connection-config.js';
import type { SourceKind } from './source-kinds.js';

/** A source object as the discovery caches hold it: metadata plus the few fields read (see projections.ts). */
export interface SourceObject {
  metadata?: {
    name?: string;
    namespace?: string;
    uid?: string;
    resourceVersion?: string;
    labels?: Record<string, string>;
  };
  spec?: unknown;
  status?: unknown;
}

/** What the discovery reads of the cluster; the reconciler gives it the caches, unit tests plain maps. */
export interface DiscoveryWorld {
  /** Objects of one kind in one namespace (Secrets: metadata only). */
  objects(kind: SourceKind, namespace: string): SourceObject[];
  /** Whether a Secret exists (the metadata watch has seen it). */
  secretExists(namespace: string, name: string): boolean;
}

/** The object a database was found through. */
export interface SourceRef {
  kind: SourceKind;
  namespace: string;
  name: string;
  uid: string;
}

/** Why a database found has no monitor yet (and gets none until it is ready). */
export interface Waiting {
  reason: 'SourceNotReady' | 'SecretNotFound';
  message: string;
}

/** One database a source found: where it is, how to log in, and whether it is ready to be checked. */
export interface FoundDatabase {
  source: SourceRef;
  monitorName: string;
  engine: EngineName;
  secretName: string;
  /** Full key names for the monitor's secretRef.keys. */
  keys: Required<DiscoveryKeys>;
  host?: string;
  port?: number;
  database?: string;
  waiting?: Waiting;
}

export const DEFAULT_KEYS: Required<DiscoveryKeys> = DEFAULT_SECRET_KEYS;

/** A source's own key names, overridden by those the discovery spec gives. */
export const keysFor = (own: DiscoveryKeys, given: DiscoveryKeys | undefined): Required<DiscoveryKeys> => ({
  ...DEFAULT_KEYS,
  ...own,
  ...Object.fromEntries(Object.entries(given ?? {}).filter(([, v]) => v !== undefined)),
});
