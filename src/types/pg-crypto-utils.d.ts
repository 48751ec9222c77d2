// pg's SCRAM key derivation (pg/lib/crypto/utils.js), which has no types of its own: see scram-key-cache.ts.
declare module 'pg/lib/crypto/utils.js' {
  const utils: { deriveKey: (password: string, salt: Uint8Array, iterations: number) => Promise<ArrayBuffer> };
  export default utils;
}
