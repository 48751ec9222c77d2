import { dump } from 'js-yaml';
import { CLI_OUTPUT_API_VERSION, type CliOutput } from '../api/index.js';
import type { summarize } from '../checks/index.js';

export type OutputFormat = 'table' | 'json' | 'yaml';

/** The one envelope of check and summary (-o json|yaml): versioned, with a kind (docs/cli-output.md). */
export function envelope(
  kind: CliOutput['kind'],
  source: CliOutput['source'],
  summarized: ReturnType<typeof summarize>,
  namespace?: string,
): CliOutput {
  return {
    apiVersion: CLI_OUTPUT_API_VERSION,
    kind,
    source,
    ...(namespace !== undefined ? { namespace } : {}),
    ...summarized,
  };
}

export function renderData(data: unknown, format: Exclude<OutputFormat, 'table'>): string {
  return format === 'json' ? JSON.stringify(data, null, 2) : dump(data, { noRefs: true, lineWidth: 120 }).trimEnd();
}
