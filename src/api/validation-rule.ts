import type { z } from 'zod';

interface Rule<T> {
  /** CEL expression the API server evaluates (x-kubernetes-validations). */
  cel: string;
  /** The same rule in TypeScript, for manifests checked without a cluster. */
  check: (value: T) => boolean;
  message: string;
}

/**
 * Attaches cross-field rules once, so the API server (CEL) and the CLI (zod) enforce the same thing
 * with the same message.
 */
export function withRules<S extends z.ZodType>(schema: S, rules: Rule<z.output<S>>[]) {
  let refined = schema as z.ZodType<z.output<S>, z.input<S>>;
  for (const rule of rules) refined = refined.refine(rule.check, { message: rule.message });
  return refined.meta({
    'x-kubernetes-validations': rules.map(({ cel, message }) => ({ rule: cel, message })),
  });
}
