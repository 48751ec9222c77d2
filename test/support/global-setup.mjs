// Jest loads global setup outside its module registry, so TypeScript helpers are imported through tsx.
import { tsImport } from 'tsx/esm/api';

/**
 * Starts the real components once per test run and hands their addresses to the tests through the
 * environment (jest workers inherit it). DBWATCH_TEST_PG_URL points the tests at an existing server instead.
 */
export default async function globalSetup() {
  const { startTestComponents } = await tsImport('./components.ts', import.meta.url);
  globalThis.__dbwatchComponents = await startTestComponents();
}
