import type { DiscoveryKeys, EngineName, LabelSelector } from '../../../api/index.js';
import { matchesSelector } from '../label-selector.js';
import { expandPlaceholders } from '../placeholders.js';
import type { SourceKind } from '../source-kinds.js';
import { type DiscoveryWorld, type FoundDatabase, keysFor, type SourceObject } from '../types.js';

/** The host default for operators' Services: the namespace in the name, as the operator runs elsewhere. */
export const SERVICE_HOST = '$(service).$(namespace).svc';

/** Objects of a kind in a namespace whose labels match the source's selector. */
export const selected = (world: DiscoveryWorld, kind: SourceKind, namespace: string, selector?: LabelSelector) =>
  world.objects(kind, namespace).filter((o) => matchesSelector(o.metadata?.labels, selector));

export interface DatabaseInput {
  kind: SourceKind;
  object: SourceObject;
  namespace: string;
  /** Placeholder values ($(cluster), $(service), ...). */
  values: Record<string, string>;
  name: string;
  engine: EngineName;
  secretName: string;
  ownKeys: DiscoveryKeys;
  givenKeys?: DiscoveryKeys;
  host?: string;
  port?: number;
  database?: string;
  /** Why the source is not ready yet (its own words), or undefined when it is. */
  notReady?: string;
}

/** One FoundDatabase, waiting while its source is not ready or its Secret does not exist yet. */
export function foundDatabase(input: DatabaseInput, world: DiscoveryWorld): FoundDatabase {
  const expand = (text: string) => expandPlaceholders(text, input.values);
  const name = input.object.metadata?.name ?? '';
  const label = `${input.kind.kind} ${name}`;
  const waiting =
    input.notReady !== undefined
      ? { reason: 'SourceNotReady' as const, message: `${label} is not ready: ${input.notReady}` }
      : !world.secretExists(input.namespace, input.secretName)
        ? { reason: 'SecretNotFound' as const, message: `Secret ${input.secretName} of ${label} does not exist yet` }
        : undefined;
  return {
    source: { kind: input.kind, namespace: input.namespace, name, uid: input.object.metadata?.uid ?? '' },
    monitorName: expand(input.name),
    engine: input.engine,
    secretName: input.secretName,
    keys: keysFor(input.ownKeys, input.givenKeys),
    ...(input.host !== undefined ? { host: expand(input.host) } : {}),
    ...(input.port !== undefined ? { port: input.port } : {}),
    ...(input.database !== undefined ? { database: input.database } : {}),
    ...(waiting ? { waiting } : {}),
  };
}
