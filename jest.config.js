/**
 * Native ESM jest (@kubernetes/client-node is ESM-only): run through `npm test`, which adds
 * --experimental-vm-modules. Two projects: `unit` (pure logic, seconds, no servers) and `integration`
 * (real PostgreSQL, kube-apiserver + etcd, helm; its global setup builds and starts them first).
 * `npm test -- --selectProjects unit` runs only the first.
 */
const common = {
  testEnvironment: 'node',
  extensionsToTreatAsEsm: ['.ts'],
  transform: { '^.+\\.ts$': ['ts-jest', { useESM: true, tsconfig: 'tsconfig.json' }] },
  moduleNameMapper: { '^(\\.{1,2}/.*)\\.js$': '$1' },
  // A local node (cluster:up --node) keeps an unpacked image with its own package.json there.
  modulePathIgnorePatterns: ['<rootDir>/.dbwatch/'],
};

export default {
  reporters: ['default', '<rootDir>/test/support/summary-reporter.mjs'],
  testTimeout: 60_000,
  // Integration tests share one PostgreSQL and one API server; two cores gain little from workers.
  maxWorkers: 1,
  projects: [
    { ...common, displayName: 'unit', testMatch: ['<rootDir>/test/unit/**/*.test.ts'] },
    {
      ...common,
      displayName: 'integration',
      testMatch: ['<rootDir>/test/integration/**/*.test.ts'],
      // Project-level: runs only when an integration test is selected.
      globalSetup: '<rootDir>/test/support/global-setup.mjs',
      globalTeardown: '<rootDir>/test/support/global-teardown.mjs',
    },
  ],
};
