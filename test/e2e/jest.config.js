/**
 * The end-to-end suite (`npm run test:e2e`): dbwatch's image installed by helm on a real node. Separate
 * from `npm test` because it needs a node (test/e2e/run.ts brings one up here; kind elsewhere) and takes
 * its cluster from the environment (test/e2e/cluster.ts).
 */
export default {
  rootDir: '../..',
  testEnvironment: 'node',
  extensionsToTreatAsEsm: ['.ts'],
  transform: { '^.+\\.ts$': ['ts-jest', { useESM: true, tsconfig: 'tsconfig.json' }] },
  moduleNameMapper: { '^(\\.{1,2}/.*)\\.js$': '$1' },
  testMatch: ['<rootDir>/test/e2e/**/*.test.ts'],
  // The node's containerd keeps image filesystems (with package.json files) under .dbwatch/cluster.
  modulePathIgnorePatterns: ['<rootDir>/.dbwatch/'],
  reporters: ['default', '<rootDir>/test/support/summary-reporter.mjs'],
  maxWorkers: 1,
  testTimeout: 120_000,
};
