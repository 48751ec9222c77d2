import type { SecretsSource } from '../../../api/index.js';
import { SourceKinds } from '../source-kinds.js';
import type { DiscoveryWorld } from '../types.js';
import { foundDatabase, selected } from './found.js';

/** Secrets selected by label, from the metadata-only watch: the data is read later, by each monitor's reconcile. */
export function findSecrets(source: SecretsSource, namespace: string, world: DiscoveryWorld) {
  return selected(world, SourceKinds.secret, namespace, source.selector).map((secret) => {
    const name = secret.metadata?.name ?? '';
    return foundDatabase(
      {
        kind: SourceKinds.secret,
        object: secret,
        namespace,
        values: { secret: name, namespace },
        name: source.name ?? '$(secret)',
        engine: source.engine,
        secretName: name,
        ownKeys: {},
        givenKeys: source.keys,
        host: source.host,
        port: source.port,
        database: source.database,
      },
      world,
    );
  });
}
