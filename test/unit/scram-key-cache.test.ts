import { describe, expect, test } from '@jest/globals';
import { installScramKeyCache, ScramKeyCache } from '../../src/checks/engines/scram-key-cache.js';

/** A stand-in for PBKDF2 that counts its calls; `fail` rejects the next one. */
function counting() {
  const state = { calls: 0, fail: false };
  const derive = async (password: string, salt: Uint8Array, iterations: number) => {
    state.calls++;
    if (state.fail) {
      state.fail = false;
      throw new Error('derivation failed');
    }
    return new TextEncoder().encode(`${password}|${Buffer.from(salt).toString('hex')}|${iterations}`).buffer;
  };
  return { state, derive };
}

const salt = (s: string) => new TextEncoder().encode(s);
const text = (key: ArrayBuffer) => new TextDecoder().decode(key);

describe('SCRAM key cache', () => {
  test('one derivation per password, salt and iteration count; any of them different is another key', async () => {
    const { state, derive } = counting();
    const cache = new ScramKeyCache(derive);
    const [a, b] = await Promise.all([
      cache.deriveKey('pw', salt('s1'), 4096),
      cache.deriveKey('pw', salt('s1'), 4096),
    ]);
    expect(text(a)).toBe('pw|7331|4096');
    expect(b).toBe(a);
    expect(state.calls).toBe(1);
    expect(text(await cache.deriveKey('pw2', salt('s1'), 4096))).toBe('pw2|7331|4096');
    expect(text(await cache.deriveKey('pw', salt('s2'), 4096))).toBe('pw|7332|4096');
    expect(text(await cache.deriveKey('pw', salt('s1'), 8192))).toBe('pw|7331|8192');
    expect(state.calls).toBe(4);
    expect(cache.derivations).toBe(4);
  });

  test('keeps at most its size, dropping the oldest', async () => {
    const { state, derive } = counting();
    const cache = new ScramKeyCache(derive, 2);
    for (const pw of ['a', 'b', 'c']) await cache.deriveKey(pw, salt('s'), 1);
    expect(cache.entries).toBe(2);
    await cache.deriveKey('c', salt('s'), 1);
    expect(state.calls).toBe(3);
    await cache.deriveKey('a', salt('s'), 1);
    expect(state.calls).toBe(4);
  });

  test('a failed derivation is not kept: the next login derives again', async () => {
    const { state, derive } = counting();
    const cache = new ScramKeyCache(derive);
    state.fail = true;
    await expect(cache.deriveKey('pw', salt('s'), 1)).rejects.toThrow('derivation failed');
    expect(cache.entries).toBe(0);
    expect(text(await cache.deriveKey('pw', salt('s'), 1))).toBe('pw|73|1');
    expect(state.calls).toBe(2);
  });

  test('a call with more arguments than pg passes today is derived as asked, not cached', async () => {
    const { state, derive } = counting();
    const cache = new ScramKeyCache(derive);
    await cache.deriveKey('pw', salt('s'), 1, 'SHA-512');
    await cache.deriveKey('pw', salt('s'), 1, 'SHA-512');
    expect(state.calls).toBe(2);
    expect(cache.entries).toBe(0);
  });

  test('installs once on a module and wraps its own derivation', async () => {
    const { state, derive } = counting();
    const utils = { deriveKey: derive };
    const cache = installScramKeyCache(utils);
    expect(installScramKeyCache(utils)).toBe(cache);
    await utils.deriveKey('pw', salt('s'), 1);
    await utils.deriveKey('pw', salt('s'), 1);
    expect(state.calls).toBe(1);
  });
});
