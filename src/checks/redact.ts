import type { ConnectionConfig } from './engine.js';

/** Secret values that must never appear in any output. */
export function secretsOf(config: Pick<ConnectionConfig, 'password'>): string[] {
  return [config.password].filter((s) => s.length > 0);
}

/** Replaces every occurrence of each secret (and its URL-encoded form) with ***. */
export function redact(text: string, secrets: string[]): string {
  let out = text;
  for (const secret of secrets) {
    for (const form of new Set([secret, encodeURIComponent(secret)])) out = out.split(form).join('***');
  }
  return out;
}

export function errorMessage(error: unknown): string {
  if (error instanceof AggregateError && error.errors.length > 0) {
    return error.errors.map(errorMessage).join('; ');
  }
  if (error instanceof Error) return error.message || error.name;
  return String(error);
}
