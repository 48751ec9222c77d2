import { describe, expect, test } from '@jest/globals';
import pgCrypto from 'pg/lib/crypto/utils.js';
import { endClient, newClient } from '../../../src/checks/engines/postgres-session.js';
import { installScramKeyCache, type ScramKeyCache } from '../../../src/checks/engines/scram-key-cache.js';
import type { ConnectionConfig } from '../../../src/checks/index.js';
import { connectionConfig, createDatabase, withAdmin } from '../../support/pg-fixtures.js';

/*
 * The SCRAM key cache against the run's real server (scram-sha-256 for TCP logins): a login reuses the key of the
 * role's salt, and the server still judges every proof — a wrong password, an old one after a change.
 */

// Installed by the engine's module when it was imported (above), on the very module pg's SCRAM code calls.
const cache = (pgCrypto.deriveKey as { scramKeyCache?: ScramKeyCache }).scramKeyCache as ScramKeyCache;

async function login(config: ConnectionConfig): Promise<void> {
  const client = newClient(config, 5000);
  try {
    await client.connect();
    await client.query('SELECT 1');
  } finally {
    await endClient(client);
  }
}

/** Derivations `work` made (the cache's misses). */
async function derivationsOf(work: () => Promise<unknown>): Promise<number> {
  const before = cache.derivations;
  await work();
  return cache.derivations - before;
}

describe('SCRAM key cache on a real server', () => {
  test('the engine installs it; a role logs in many times on one derivation', async () => {
    const db = await createDatabase();
    const config = connectionConfig(db);
    expect(cache).toBeDefined();
    expect(installScramKeyCache()).toBe(cache);
    // Logins that start together wait for the one key being derived.
    expect(await derivationsOf(() => Promise.all(Array.from({ length: 8 }, () => login(config))))).toBe(1);
    expect(await derivationsOf(() => login(config))).toBe(0);
  });

  test('a wrong password is refused by the server and does not disturb the right one', async () => {
    const db = await createDatabase();
    const config = connectionConfig(db);
    await login(config);
    const wrong = { ...config, password: `${db.password}x` };
    await expect(login(wrong)).rejects.toMatchObject({ code: '28P01' });
    // Refused again from its cached (wrong) key: the proof is checked by the server at every login.
    expect(await derivationsOf(() => expect(login(wrong)).rejects.toMatchObject({ code: '28P01' }))).toBe(0);
    expect(await derivationsOf(() => login(config))).toBe(0);
  });

  test('after a password change the old one is refused and the new one logs in', async () => {
    const db = await createDatabase();
    const config = connectionConfig(db);
    await login(config);
    const changed = `${db.password}-rotated`;
    await withAdmin((c) => c.query(`ALTER ROLE ${db.username} PASSWORD '${changed}'`));
    // A new verifier has a new salt: the old password's key is derived again for it, and refused.
    expect(await derivationsOf(() => expect(login(config)).rejects.toMatchObject({ code: '28P01' }))).toBe(1);
    expect(await derivationsOf(() => login({ ...config, password: changed }))).toBe(1);
  });
});
