import { createHmac, randomBytes } from 'node:crypto';
import pgCrypto from 'pg/lib/crypto/utils.js';

/*
 * A SCRAM-SHA-256 login (PostgreSQL's default, and PgBouncer's with a SCRAM secret) makes the client run PBKDF2 over
 * the password with the server's salt and iteration count: 4,096 rounds of HMAC-SHA-256, ~0.9 ms of CPU, for every
 * new connection. The result (SaltedPassword) depends on nothing else, so it is kept and reused, as the MongoDB
 * drivers' SCRAM specification requires of them ("cache the SaltedPassword keyed by password, salt and iteration
 * count"). A fleet logs in to the same few roles over and over: a takeover logs in once per monitor, the
 * default session policy once per check. The nonces, proofs and the server's signature are still computed and
 * verified for every login: a wrong password still gets its own key and is refused by the server, and a changed
 * password comes with a new salt and so a new entry.
 *
 * pg computes SaltedPassword through `deriveKey` of its crypto utils module, looked up on the module at each
 * login (pg/lib/crypto/sasl.js): the cache wraps that function once per process. A server that makes up a new
 * salt at every login (PgBouncer given a plain password) gains nothing; the cache stays within its size.
 */

/** Distinct (password, salt, iterations) kept; the oldest goes first. Enough for every role a replica checks. */
export const SCRAM_KEY_CACHE_SIZE = 1024;

type DeriveKey = (password: string, salt: Uint8Array, iterations: number, ...more: unknown[]) => Promise<ArrayBuffer>;

interface PgCryptoUtils {
  deriveKey: DeriveKey & { scramKeyCache?: ScramKeyCache };
}

export class ScramKeyCache {
  /** Keys computed (cache misses): what the tests count. */
  derivations = 0;
  // In flight or done: logins that start together for one role wait for one derivation.
  private readonly keys = new Map<string, Promise<ArrayBuffer>>();
  // The map is keyed by an HMAC of the password under a key of this process, not the password: a rotated or
  // deleted Secret's password does not stay readable in it.
  private readonly idKey = randomBytes(32);

  constructor(
    private readonly derive: DeriveKey,
    private readonly size = SCRAM_KEY_CACHE_SIZE,
  ) {}

  readonly deriveKey: DeriveKey = (password, salt, iterations, ...more) => {
    // A pg that passes more than it does today (say, a hash name) derives as it asks, uncached.
    if (more.length > 0) return this.derive(password, salt, iterations, ...more);
    const secret = createHmac('sha256', this.idKey).update(password).digest('base64');
    const id = `${iterations}:${Buffer.from(salt).toString('base64')}:${secret}`;
    const known = this.keys.get(id);
    if (known) return known;
    this.derivations++;
    const key = this.derive(password, salt, iterations);
    this.keys.set(id, key);
    // A failed derivation is not kept: the next login tries again.
    key.catch(() => {
      if (this.keys.get(id) === key) this.keys.delete(id);
    });
    if (this.keys.size > this.size) this.keys.delete(this.keys.keys().next().value as string);
    return key;
  };

  get entries(): number {
    return this.keys.size;
  }
}

/** Wraps pg's key derivation with the cache (once per process) and returns the cache. */
export function installScramKeyCache(utils: PgCryptoUtils = pgCrypto): ScramKeyCache {
  const installed = utils.deriveKey.scramKeyCache;
  if (installed) return installed;
  const cache = new ScramKeyCache(utils.deriveKey);
  utils.deriveKey = Object.assign(cache.deriveKey, { scramKeyCache: cache });
  return cache;
}
