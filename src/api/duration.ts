const UNIT_MS: Record<string, number> = { ms: 1, s: 1000, m: 60_000, h: 3_600_000 };

/**
 * Bounds of every duration field in the specs. Below 1s the work queue would spin; far above a day a timer
 * overflows (Node's setTimeout holds at most 2^31-1 ms, about 24.8 days) and fires at once.
 */
export const DURATION_LIMITS = { min: '1s', max: '24h' } as const;

/** Parses a Go-style duration ("1h30m", "500ms") into milliseconds; throws on anything else. */
export function parseDuration(text: string): number {
  const ms = durationMs(text);
  if (ms === undefined) throw new Error(`invalid duration "${text}": use a number and unit such as 30s, 5m or 1h30m`);
  return ms;
}

/** The same parse without throwing: undefined for anything that is not a duration. */
export function durationMs(text: string): number | undefined {
  const parts = [...text.matchAll(/([0-9]+(?:\.[0-9]+)?)(ms|s|m|h)/g)];
  if (parts.length === 0 || parts.map((p) => p[0]).join('') !== text) return undefined;
  return parts.reduce((total, [, value, unit]) => total + Number(value) * UNIT_MS[unit as string]!, 0);
}
