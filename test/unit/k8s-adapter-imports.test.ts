import { readdirSync, readFileSync } from 'node:fs';
import { join, relative, resolve } from 'node:path';
import { describe, expect, test } from '@jest/globals';

const SRC = resolve(import.meta.dirname, '../../src');
const ADAPTER = join(SRC, 'controller/k8s');

/** Every module specifier a file imports or re-exports, static or dynamic. */
function specifiers(file: string): string[] {
  const text = readFileSync(file, 'utf8');
  const found: string[] = [];
  for (const match of text.matchAll(/(?:import|export)\s[^'";]*?from\s+'([^']+)'|import\(\s*'([^']+)'\s*\)/g)) {
    found.push((match[1] ?? match[2])!);
  }
  return found;
}

/**
 * The Kubernetes adapter imports nothing from the controller around it or from the checks (issue 21): it
 * knows the API server's protocol, not what dbwatch does with it. Allowed: Node built-ins, npm packages,
 * files of the adapter itself, and src/api (the group, version and kinds it serves).
 */
describe('src/controller/k8s is a self-contained adapter', () => {
  test('no import reaches into src/controller or src/checks', () => {
    const files = readdirSync(ADAPTER).filter((f) => f.endsWith('.ts'));
    expect(files.length).toBeGreaterThan(5);
    const outside: string[] = [];
    for (const file of files) {
      for (const spec of specifiers(join(ADAPTER, file))) {
        if (!spec.startsWith('.')) continue; // node:… and packages
        const target = relative(SRC, resolve(ADAPTER, spec));
        if (target.startsWith('controller/k8s/') || target.startsWith('api/')) continue;
        outside.push(`${file} imports ${spec} (src/${target})`);
      }
    }
    expect(outside).toEqual([]);
  });

  test('the check catches an import from outside', () => {
    const spec = '../events.js';
    const target = relative(SRC, resolve(ADAPTER, spec));
    expect(target.startsWith('controller/k8s/') || target.startsWith('api/')).toBe(false);
    expect(specifiers(join(SRC, 'controller/operator.ts'))).toContain('./k8s/client.js');
  });
});
