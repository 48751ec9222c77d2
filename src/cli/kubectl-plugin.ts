#!/usr/bin/env node
import { EXIT } from './exit-codes.js';
import { buildPlugin } from './plugin-program.js';

export async function main(argv: string[]): Promise<void> {
  try {
    await buildPlugin().parseAsync(argv);
  } catch (error) {
    const code = (error as { code?: string }).code;
    if (code === 'commander.helpDisplayed' || code === 'commander.help') process.exitCode = 0;
    else if (typeof code === 'string' && code.startsWith('commander.')) process.exitCode = EXIT.invalidInput;
    else throw error;
  }
}

await main(process.argv);
