// Native-ESM Jest (run with --experimental-vm-modules); swc strips types, `npm run typecheck` checks them.
const transform = {
  '^.+\\.ts$': ['@swc/jest', { jsc: { parser: { syntax: 'typescript' }, target: 'es2022' }, module: { type: 'es6' } }],
};
const common = { testEnvironment: 'node', extensionsToTreatAsEsm: ['.ts'], transform };

/** @type {import('jest').Config} */
export default {
  projects: [
    // Pure logic: no control plane is started when only these run.
    { ...common, displayName: 'unit', testMatch: ['<rootDir>/src/**/*.test.ts', '<rootDir>/tools/**/*.test.ts'],
      testPathIgnorePatterns: ['\\.it\\.test\\.ts$'] },
    // Against one real kube-apiserver + etcd + kube-controller-manager started for the whole run.
    { ...common, displayName: 'integration',
      testMatch: ['<rootDir>/test/**/*.test.ts', '<rootDir>/e2e/**/*.test.ts', '<rootDir>/src/**/*.it.test.ts'],
      globalSetup: '<rootDir>/test/support/global-setup.ts',
      globalTeardown: '<rootDir>/test/support/global-teardown.ts',
      slowTestThreshold: 30 },
  ],
  testTimeout: 120_000,
  // Integration files each run an operator against the one shared control plane: one file at a time.
  maxWorkers: 1,
};
