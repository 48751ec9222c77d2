import { readFileSync } from 'node:fs';

/**
 * `node --import tsx bench/heap-summary.ts FILE.heapsnapshot [top]`: where a V8 heap snapshot's memory is,
 * as self sizes summed by node type and constructor name (e.g. from `bench:scale --heap-snapshot DIR`).
 */
const [file, topText] = process.argv.slice(2);
if (!file) throw new Error('usage: heap-summary.ts FILE.heapsnapshot [top]');
const snapshot = JSON.parse(readFileSync(file, 'utf8')) as {
  snapshot: { meta: { node_fields: string[]; node_types: [string[]] } };
  nodes: number[];
  strings: string[];
};
const fields = snapshot.snapshot.meta.node_fields;
const types = snapshot.snapshot.meta.node_types[0];
const [typeAt, nameAt, sizeAt] = ['type', 'name', 'self_size'].map((f) => fields.indexOf(f)) as [
  number,
  number,
  number,
];
const byKind = new Map<string, { count: number; bytes: number }>();
let totalBytes = 0;
for (let i = 0; i < snapshot.nodes.length; i += fields.length) {
  const type = types[snapshot.nodes[i + typeAt]!]!;
  const name = snapshot.strings[snapshot.nodes[i + nameAt]!]!;
  // Strings and code are grouped by type only: their "names" are their contents.
  const kind = ['object', 'closure', 'native'].includes(type) ? `${type} ${name.slice(0, 60)}` : type;
  const entry = byKind.get(kind) ?? { count: 0, bytes: 0 };
  entry.count++;
  entry.bytes += snapshot.nodes[i + sizeAt]!;
  totalBytes += snapshot.nodes[i + sizeAt]!;
  byKind.set(kind, entry);
}
const mib = (b: number) => (b / 2 ** 20).toFixed(1).padStart(7);
console.log(`${mib(totalBytes)} MiB in ${snapshot.nodes.length / fields.length} nodes`);
for (const [kind, { count, bytes }] of [...byKind]
  .sort((a, b) => b[1].bytes - a[1].bytes)
  .slice(0, Number(topText ?? 40))) {
  console.log(`${mib(bytes)} MiB ${String(count).padStart(9)}  ${kind}`);
}
