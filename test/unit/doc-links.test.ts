import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import { describe, expect, test } from '@jest/globals';

/*
 * Every relative link in the README and docs/ leads somewhere: the file exists and, for `file.md#anchor`, the
 * heading does (GitHub's slugs: lowercase, punctuation dropped, spaces to hyphens). A renamed heading or a moved
 * file otherwise sends a newcomer to nothing.
 */

const REPO = resolve(import.meta.dirname, '../..');

function markdownFiles(): string[] {
  const docs = readdirSync(join(REPO, 'docs'))
    .filter((f) => f.endsWith('.md'))
    .map((f) => join(REPO, 'docs', f));
  const extra = [
    'README.md',
    'deploy/helm/dbwatch/README.md',
    'examples/README.md',
    'test/integration/migrations/README.md',
  ];
  return [...extra.map((f) => join(REPO, f)).filter((f) => existsSync(f)), ...docs];
}

/** GitHub's anchor for a heading. */
function slugOf(heading: string): string {
  return heading
    .trim()
    .toLowerCase()
    .replace(/<[^>]+>/g, '')
    .replace(/[^\p{L}\p{N}\s_-]/gu, '')
    .replace(/\s/g, '-');
}

function anchorsOf(file: string): Set<string> {
  const text = readFileSync(file, 'utf8').replace(/```[\s\S]*?```/g, '');
  const seen = new Map<string, number>();
  const anchors = new Set<string>();
  for (const [, heading] of text.matchAll(/^#{1,6}\s+(.+)$/gm)) {
    const slug = slugOf(heading!);
    const n = seen.get(slug) ?? 0;
    seen.set(slug, n + 1);
    anchors.add(n === 0 ? slug : `${slug}-${n}`);
  }
  return anchors;
}

describe('documentation links', () => {
  test('slugs follow GitHub', () => {
    expect(slugOf('Scale and isolation')).toBe('scale-and-isolation');
    expect(slugOf('Availability SLO (`status.availability`, `spec.slo`)')).toBe(
      'availability-slo-statusavailability-specslo',
    );
    expect(slugOf('Sharding: 10,000 monitors')).toBe('sharding-10000-monitors');
  });

  test('every relative link in README.md and docs/ names a file that exists, and a heading it has', () => {
    const broken: string[] = [];
    for (const file of markdownFiles()) {
      const text = readFileSync(file, 'utf8').replace(/```[\s\S]*?```/g, '');
      for (const [, target] of text.matchAll(/\]\(([^)\s]+)\)/g)) {
        if (/^[a-z]+:/i.test(target!)) continue;
        const [path, anchor] = target!.split('#') as [string, string | undefined];
        const to = path === '' ? file : resolve(dirname(file), path);
        const where = `${relative(REPO, file)} → ${target}`;
        if (!existsSync(to)) broken.push(`${where}: no such file`);
        else if (anchor && statSync(to).isFile() && to.endsWith('.md') && !anchorsOf(to).has(anchor))
          broken.push(`${where}: no heading with that anchor`);
      }
    }
    expect(broken).toEqual([]);
  });
});
