const UNIT_MS: Record<string, number> = { ms: 1, s: 1000, m: 60_000, h: 3_600_000 };

/** Parses a Go-style duration ("1h30m", "500ms") into milliseconds; throws on anything else. */
export function parseDuration(text: string): number {
  const parts = [...text.matchAll(/([0-9]+(?:\.[0-9]+)?)(ms|s|m|h)/g)];
  if (parts.length === 0 || parts.map((p) => p[0]).join('') !== text) {
    throw new Error(`invalid duration "${text}": use a number and unit such as 30s, 5m or 1h30m`);
  }
  return parts.reduce((total, [, value, unit]) => total + Number(value) * UNIT_MS[unit as string]!, 0);
}
