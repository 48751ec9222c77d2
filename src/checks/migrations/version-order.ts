/**
 * Compares migration versions segment by segment, numerically where both segments are numbers:
 * 1.10 > 1.9, 003 == 3, 20240101120000 > 20231231. Flyway and most tools order versions this way.
 */
export function compareVersions(a: string, b: string): number {
  const split = (v: string) => v.replace(/^[vV]/, '').split(/[._-]/);
  const left = split(a);
  const right = split(b);
  for (let i = 0; i < Math.max(left.length, right.length); i++) {
    const x = left[i] ?? '0';
    const y = right[i] ?? '0';
    const bothNumeric = /^\d+$/.test(x) && /^\d+$/.test(y);
    const order = bothNumeric
      ? Number(BigInt(x) - BigInt(y) > 0n) - Number(BigInt(x) - BigInt(y) < 0n)
      : x.localeCompare(y);
    if (order !== 0) return order;
  }
  return 0;
}

export const highestVersion = (versions: string[]) =>
  versions.reduce<string | undefined>(
    (max, v) => (max === undefined || compareVersions(v, max) > 0 ? v : max),
    undefined,
  );
