import { mkdirSync, writeFileSync } from 'node:fs';
import { dirname } from 'node:path';
import { renderGeneratedFiles } from './render-crds.js';

/** `npm run generate`: writes the CRDs and RBAC from src/api (the single source of truth). */
for (const { path, yaml } of renderGeneratedFiles()) {
  mkdirSync(dirname(path), { recursive: true });
  writeFileSync(path, yaml);
  console.log(`wrote ${path}`);
}
