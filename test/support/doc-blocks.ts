import { readdirSync, readFileSync } from 'node:fs';

/**
 * The command blocks of the README and docs, and how the doc test treats each. Every ```sh block carries a marker
 * on the line before it, so a new block cannot go untested without saying why:
 *   <!-- doc-test: run -->                              run as written (bash -e, in a copy of the checkout)
 *   <!-- doc-test: run (except "npm ci": why; …) -->   the same, those commands left out, each with its reason
 *   <!-- doc-test: parse (why not run) -->             each line through the real CLI parser, not run
 *   <!-- doc-test: skip (why) -->                      not run, with the reason
 * and ```json blocks after `<!-- doc-test: cli-output -->` must parse as the CLI's output envelope.
 */

export const DOC_FILES = () => [
  'README.md',
  ...readdirSync('docs')
    .filter((f) => f.endsWith('.md'))
    .sort()
    .map((f) => `docs/${f}`),
  'deploy/helm/dbwatch/README.md',
];

export type Handling =
  | { kind: 'run'; except: { command: string; reason: string }[] }
  | { kind: 'parse'; reason: string }
  | { kind: 'skip'; reason: string }
  | { kind: 'cli-output' }
  | { kind: 'unmarked' };

export interface DocBlock {
  file: string;
  /** 1-based line of the opening fence. */
  line: number;
  language: string;
  text: string;
  handling: Handling;
}

const COMMAND_LANGUAGES = ['sh', 'bash', 'shell', 'console'];
const MARKER = /^<!-- doc-test: (run|parse|skip|cli-output)(?: \((.*)\))? -->$/;

function handlingOf(marker: string | undefined): Handling {
  const m = marker?.trim().match(MARKER);
  if (!m) return { kind: 'unmarked' };
  const [, kind, detail] = m;
  if (kind === 'cli-output') return { kind };
  if (kind === 'run') {
    const except = [...(detail ?? '').matchAll(/"([^"]+)": ([^;]+)/g)].map(([, command, reason]) => ({
      command: command!,
      reason: reason!.trim(),
    }));
    return { kind: 'run', except };
  }
  // A skip or a parse says why.
  return detail ? { kind: kind as 'parse' | 'skip', reason: detail } : { kind: 'unmarked' };
}

/** Every fenced block of a command language (and marked JSON), with its marker's meaning. */
export function docBlocks(file: string): DocBlock[] {
  const lines = readFileSync(file, 'utf8').split('\n');
  const blocks: DocBlock[] = [];
  for (let i = 0; i < lines.length; i++) {
    const open = lines[i]!.match(/^```(\w*)\s*$/);
    if (!open) continue;
    const end = lines.findIndex((l, j) => j > i && l.startsWith('```'));
    const language = open[1] ?? '';
    const handling = handlingOf(lines[i - 1]);
    if (COMMAND_LANGUAGES.includes(language) || handling.kind !== 'unmarked') {
      blocks.push({ file, line: i + 1, language, text: lines.slice(i + 1, end).join('\n'), handling });
    }
    i = end;
  }
  return blocks;
}

/** The block's commands as lines: comments dropped, `\` continuations joined, blank lines gone. */
export function commandLines(text: string): string[] {
  return text
    .replace(/\\\n/g, ' ')
    .split('\n')
    .map((l) => l.replace(/(^|\s)#.*$/, '').trim())
    .filter(Boolean);
}

/** A script that runs the block as written, without the commands it excepts (each a part of an && chain). */
export function runnableScript(block: DocBlock): string {
  const except = block.handling.kind === 'run' ? block.handling.except.map((e) => e.command) : [];
  const lines = commandLines(block.text).flatMap((line) => {
    const kept = line.split(/\s+&&\s+/).filter((part) => !except.includes(part.trim()));
    return kept.length > 0 ? [kept.join(' && ')] : [];
  });
  return ['set -euo pipefail', ...lines.map((l) => `echo "+ ${l.replace(/["$`\\]/g, '\\$&')}"; ${l}`)].join('\n');
}

/** Shell words of one line, with '…' and "…" quoting (enough for the docs' command lines). */
export function shellWords(line: string): string[] {
  const words: string[] = [];
  for (const m of line.matchAll(/'([^']*)'|"([^"]*)"|(\S+)/g)) words.push(m[1] ?? m[2] ?? m[3]!);
  return words;
}
