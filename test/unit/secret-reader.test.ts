import { describe, expect, test } from '@jest/globals';
import { decodeSecretData } from '../../src/checks/index.js';
import type { KubeClients } from '../../src/controller/k8s/client.js';
import { SecretReader } from '../../src/controller/k8s/sources.js';

/** A fake API server with one Secret, counting GETs. */
function world() {
  const state = { resourceVersion: '1', password: 'one', exists: true, gets: 0, watched: '1' as string | undefined };
  const clients = {
    core: {
      readNamespacedSecret: async () => {
        state.gets++;
        if (!state.exists) throw Object.assign(new Error('not found'), { code: 404 });
        return {
          metadata: { resourceVersion: state.resourceVersion },
          data: { password: Buffer.from(state.password).toString('base64') },
        };
      },
    },
  } as unknown as KubeClients;
  const reader = new SecretReader(clients, () => state.watched, decodeSecretData);
  return { state, reader };
}

describe('SecretReader', () => {
  test('reads a Secret once, again only when the metadata watch shows a new resourceVersion', async () => {
    const { state, reader } = world();
    expect((await reader.lookup('ns', ['db']))('db')).toEqual({ password: 'one' });
    expect((await reader.lookup('ns', ['db', 'db']))('db')).toEqual({ password: 'one' });
    expect(state.gets).toBe(1);
    Object.assign(state, { resourceVersion: '2', password: 'two', watched: '2' });
    expect((await reader.lookup('ns', ['db']))('db')).toEqual({ password: 'two' });
    expect(state.gets).toBe(2);
  });

  test('a Secret the watch has not seen yet is read with a GET; a missing one is absent', async () => {
    const { state, reader } = world();
    state.watched = undefined;
    await reader.lookup('ns', ['db']);
    await reader.lookup('ns', ['db']);
    expect(state.gets).toBe(2);
    state.exists = false;
    expect((await reader.lookup('ns', ['db']))('db')).toBeUndefined();
  });
});
