import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { renderCrdFiles } from './render-crds.js';

/** `npm run generate`: writes crds/ from the zod schemas (the single source of truth). */
const dir = process.argv[2] ?? 'crds';
for (const { file, yaml } of renderCrdFiles()) {
  writeFileSync(join(dir, file), yaml);
  console.log(`wrote ${join(dir, file)}`);
}
