import { readdirSync, readFileSync, statSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import { describe, expect, test } from '@jest/globals';

/*
 * The layout's rules, held by a test: no import cycles in src/ (type-only imports too: they tie modules together
 * for the reader just the same), src/checks free of Kubernetes, and the API client (controller/k8s) free of the
 * controller and the checks.
 */

const SRC = resolve(import.meta.dirname, '../../src');

function files(dir: string): string[] {
  return readdirSync(dir).flatMap((f) => {
    const path = join(dir, f);
    return statSync(path).isDirectory() ? files(path) : path.endsWith('.ts') ? [path] : [];
  });
}

/** Relative imports of each module, resolved to files (`./x.js` is `./x.ts`). */
function graph(): Map<string, string[]> {
  const edges = new Map<string, string[]>();
  for (const file of files(SRC)) {
    const text = readFileSync(file, 'utf8');
    const targets = [...text.matchAll(/(?:import|export)[^'"]*?from\s+'(\.[^']+)'/g)].map((m) =>
      resolve(dirname(file), m[1]!.replace(/\.js$/, '.ts')),
    );
    edges.set(file, targets);
  }
  return edges;
}

const name = (file: string) => relative(SRC, file);

describe('module graph', () => {
  test('no import cycles in src/', () => {
    const edges = graph();
    const cycles: string[] = [];
    const state = new Map<string, 'open' | 'done'>();
    const visit = (file: string, path: string[]) => {
      if (state.get(file) === 'done') return;
      if (state.get(file) === 'open') {
        cycles.push([...path.slice(path.indexOf(file)), file].map(name).join(' > '));
        return;
      }
      state.set(file, 'open');
      for (const next of edges.get(file) ?? []) visit(next, [...path, file]);
      state.set(file, 'done');
    };
    for (const file of edges.keys()) visit(file, []);
    expect(cycles).toEqual([]);
  });

  test('checks/ imports no Kubernetes code; controller/k8s imports neither the controller nor the checks', () => {
    const edges = graph();
    const offending: string[] = [];
    for (const [file, targets] of edges) {
      const from = name(file);
      for (const target of targets.map(name)) {
        if (from.startsWith('checks/') && target.startsWith('controller/')) offending.push(`${from} → ${target}`);
        if (from.startsWith('controller/k8s/') && !target.startsWith('controller/k8s/') && !target.startsWith('api/'))
          offending.push(`${from} → ${target}`);
      }
      const text = readFileSync(file, 'utf8');
      if (from.startsWith('checks/') && /@kubernetes\/client-node/.test(text)) offending.push(`${from} → client-node`);
    }
    expect(offending).toEqual([]);
  });
});
