/** Just enough of the Prometheus text format to read the operator's /metrics in the scale benchmark. */
export interface Sample {
  name: string;
  labels: Record<string, string>;
  value: number;
}

export function parseMetrics(text: string): Sample[] {
  const samples: Sample[] = [];
  for (const line of text.split('\n')) {
    if (line === '' || line.startsWith('#')) continue;
    const match = /^([a-zA-Z_:][\w:]*)(?:\{(.*)\})? (\S+)/.exec(line);
    if (!match) continue;
    const labels: Record<string, string> = {};
    for (const [, key, value] of (match[2] ?? '').matchAll(/(\w+)="((?:[^"\\]|\\.)*)"/g)) labels[key!] = value!;
    samples.push({ name: match[1]!, labels, value: Number(match[3]) });
  }
  return samples;
}

export async function scrape(port: number): Promise<Sample[]> {
  const res = await fetch(`http://127.0.0.1:${port}/metrics`, { signal: AbortSignal.timeout(10_000) });
  return parseMetrics(await res.text());
}

const matches = (s: Sample, name: string, labels: Record<string, string>) =>
  s.name === name && Object.entries(labels).every(([k, v]) => s.labels[k] === v);

/** Sum of every series of `name` whose labels include `labels`. */
export const total = (samples: Sample[], name: string, labels: Record<string, string> = {}) =>
  samples.filter((s) => matches(s, name, labels)).reduce((sum, s) => sum + s.value, 0);

/** Cumulative bucket counts of a histogram (summed over its other labels), by upper bound. */
export function buckets(samples: Sample[], name: string, labels: Record<string, string> = {}): Map<number, number> {
  const out = new Map<number, number>();
  for (const s of samples) {
    if (!matches(s, `${name}_bucket`, labels)) continue;
    const le = s.labels.le === '+Inf' ? Number.POSITIVE_INFINITY : Number(s.labels.le);
    out.set(le, (out.get(le) ?? 0) + s.value);
  }
  return out;
}

/**
 * The q-quantile of the observations made between two scrapes, interpolated within buckets as PromQL's
 * histogram_quantile does. Undefined without observations; the largest finite bound when it lies beyond it.
 */
export function quantileBetween(before: Map<number, number>, after: Map<number, number>, q: number) {
  const bounds = [...after.keys()].sort((a, b) => a - b);
  const counts = bounds.map((le) => (after.get(le) ?? 0) - (before.get(le) ?? 0));
  const count = counts.at(-1) ?? 0;
  if (count === 0) return undefined;
  const rank = q * count;
  for (let i = 0; i < bounds.length; i++) {
    if (counts[i]! < rank) continue;
    const upper = bounds[i]!;
    if (!Number.isFinite(upper)) return { value: bounds[i - 1] ?? 0, beyond: true };
    const lower = i === 0 ? 0 : bounds[i - 1]!;
    const below = i === 0 ? 0 : counts[i - 1]!;
    const inBucket = counts[i]! - below;
    return { value: lower + (upper - lower) * (inBucket === 0 ? 1 : (rank - below) / inBucket), beyond: false };
  }
  return undefined;
}
