import { execFileSync, spawn } from 'node:child_process';
import { cpSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, symlinkSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { afterAll, beforeAll, describe, expect, test } from '@jest/globals';
import type { Command } from 'commander';
import { cliOutputSchema } from '../../../src/api/index.js';
import { buildPlugin } from '../../../src/cli/plugin-program.js';
import { buildProgram } from '../../../src/cli/program.js';
import { parseSummaryFlags } from '../../../src/cli/summary-cluster-flags.js';
import {
  commandLines,
  DOC_FILES,
  type DocBlock,
  docBlocks,
  runnableScript,
  shellWords,
} from '../../support/doc-blocks.js';

/**
 * The README's and docs' command blocks, as written, so they cannot drift: blocks marked `run` run in a copy of
 * this checkout (bash -e; the quick start brings a cluster, the operator and a PostgreSQL up and down again), blocks
 * marked `parse` go line by line through the real `dbwatch` / `kubectl dbwatch` parser, `skip` says why not (see
 * test/support/doc-blocks.ts). Every command block must carry one of the three.
 */

const blocks = DOC_FILES().flatMap(docBlocks);
const where = (b: DocBlock) => `${b.file}:${b.line}`;
const of = (kind: DocBlock['handling']['kind']) => blocks.filter((b) => b.handling.kind === kind);

test('every command block says whether it is run, parsed or skipped, and why not run', () => {
  expect(of('unmarked').map(where)).toEqual([]);
  // The demo and the operator quick start are among the blocks that run.
  const run = of('run').map((b) => b.text);
  expect(run.some((t) => t.includes('npm run demo'))).toBe(true);
  expect(run.some((t) => t.includes('npm run cluster:up -- --operator --demo-database'))).toBe(true);
});

test('every `helm install` in the docs installs into the same namespace', () => {
  const namespaces = new Set(
    DOC_FILES().flatMap((file) =>
      [...readFileSync(file, 'utf8').matchAll(/helm install \S+ \S+ -n (\S+)/g)].map((m) => m[1]),
    ),
  );
  expect([...namespaces]).toEqual(['dbwatch-system']);
});

describe('blocks skipped, with their reasons', () => {
  for (const b of of('skip')) {
    test.skip(`${where(b)}: ${b.handling.kind === 'skip' ? b.handling.reason : ''}`, () => undefined);
  }
});

/** Parses one command line with the real parser, every action replaced by a check of its flags. */
async function parseOnly(line: string): Promise<string | undefined> {
  const words = shellWords(line);
  const plugin = words[0] === 'kubectl' && words[1] === 'dbwatch';
  if (!plugin && words[0] !== 'dbwatch') return `not a dbwatch command: ${line}`;
  const program: Command = plugin ? buildPlugin() : buildProgram();
  const errors: string[] = [];
  for (const command of [program, ...program.commands]) {
    command.configureOutput({ writeOut: () => undefined, writeErr: (text) => errors.push(text) });
    if (command !== program)
      command.action((opts: Record<string, unknown>) => {
        if (command.name() !== 'summary') return;
        const flags = parseSummaryFlags(plugin ? { ...opts, cluster: true } : opts);
        if (!flags.ok) errors.push(flags.message);
      });
  }
  try {
    await program.parseAsync(words.slice(plugin ? 2 : 1), { from: 'user' });
  } catch (error) {
    const code = (error as { code?: string }).code;
    if (code !== 'commander.helpDisplayed' && code !== 'commander.version') errors.push((error as Error).message);
  }
  return errors.length > 0 ? `${line}: ${errors.join(' ')}` : undefined;
}

describe('blocks parsed by the real CLI', () => {
  test.each(of('parse').map((b) => [where(b), b] as const))('%s', async (_where, block) => {
    const lines = commandLines(block.text);
    expect(lines.length).toBeGreaterThan(0);
    const problems = (await Promise.all(lines.map(parseOnly))).filter(Boolean);
    expect(problems).toEqual([]);
  });
});

describe('documented CLI output', () => {
  test.each(of('cli-output').map((b) => [where(b), b] as const))(
    '%s parses as the cli.dbwatch.dev/v1 envelope',
    (_w, b) => {
      expect(() => cliOutputSchema.parse(JSON.parse(b.text))).not.toThrow();
    },
  );
});

describe('blocks run as written', () => {
  let sandbox: string;
  beforeAll(() => {
    // A copy of the checkout (tracked and new files, as they are now) with this checkout's node_modules: the blocks
    // create .dbwatch/ there, so a cluster of the person running the tests is never touched.
    sandbox = mkdtempSync(join(tmpdir(), 'dbwatch-docs-'));
    const files = execFileSync('git', ['ls-files', '--cached', '--others', '--exclude-standard', '-z'], {
      encoding: 'utf8',
    })
      .split('\0')
      .filter((f) => f && existsSync(f));
    for (const file of files) {
      mkdirSync(join(sandbox, dirname(file)), { recursive: true });
      cpSync(file, join(sandbox, file), { preserveTimestamps: true });
    }
    symlinkSync(resolve('node_modules'), join(sandbox, 'node_modules'));
  });
  afterAll(() => {
    if (sandbox) rmSync(sandbox, { recursive: true, force: true });
  });

  /** bash -e in the sandbox, without the test run's cluster settings; resolves to the exit code and output. */
  function bash(script: string, timeoutMs: number): Promise<{ code: number | null; output: string }> {
    const { KUBECONFIG: _k, DBWATCH_CLUSTER_DIR: _d, ...env } = process.env;
    return new Promise((ok) => {
      const child = spawn('bash', ['-c', script], { cwd: sandbox, env, stdio: ['ignore', 'pipe', 'pipe'] });
      let output = '';
      const keep = (b: Buffer) => {
        output = (output + b.toString()).slice(-20_000);
      };
      child.stdout.on('data', keep);
      child.stderr.on('data', keep);
      const timer = setTimeout(() => child.kill('SIGTERM'), timeoutMs);
      child.on('exit', (code) => {
        clearTimeout(timer);
        ok({ code, output });
      });
    });
  }

  test.each(of('run').map((b) => [where(b), b] as const))(
    '%s',
    async (_where, block) => {
      const run = await bash(runnableScript(block), 300_000);
      // Whatever a failed block brought up is brought down (and must leave nothing behind either way).
      const down = existsSync(join(sandbox, '.dbwatch/cluster'))
        ? await bash('npm run -s cluster:down', 60_000)
        : undefined;
      expect({ block: where(block), code: run.code, output: run.code === 0 ? '' : run.output }).toEqual({
        block: where(block),
        code: 0,
        output: '',
      });
      expect(down).toBeUndefined();
    },
    420_000,
  );
});
