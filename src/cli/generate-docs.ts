import { readFileSync, writeFileSync } from 'node:fs';
import { renderSettingsTable } from './operator-settings.js';

/** `npm run generate` (after the CRDs): the Configuration table of docs/operator.md from the settings table. */
const file = 'docs/operator.md';
const begin = '<!-- begin operator settings -->';
const end = '<!-- end operator settings -->';
const text = readFileSync(file, 'utf8');
const from = text.indexOf(begin);
const to = text.indexOf(end);
if (from < 0 || to < from) throw new Error(`${file}: markers ${begin} … ${end} not found`);
writeFileSync(file, `${text.slice(0, from + begin.length)}\n${renderSettingsTable()}\n${text.slice(to)}`);
console.log(`wrote ${file} (operator settings)`);
