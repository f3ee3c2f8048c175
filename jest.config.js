/** Unit specs live next to the code; integration and end-to-end tests under test/. */
const moduleNameMapper = {
  '^@app/(domain|config|persistence|messaging|crypto|auth|http-common|metrics|hashing|delivery|testing|approvals-contract|api-views)$': '<rootDir>/libs/$1/src',
};
const transform = { '^.+\\.ts$': ['ts-jest', { tsconfig: 'tsconfig.json', diagnostics: false }] };
const common = { moduleFileExtensions: ['ts', 'js', 'json'], moduleNameMapper, transform, testEnvironment: 'node', rootDir: __dirname };
module.exports = {
  projects: [
    {
      ...common,
      displayName: 'unit',
      testMatch: ['<rootDir>/apps/**/*.spec.ts', '<rootDir>/libs/**/*.spec.ts', '<rootDir>/bench/**/*.spec.ts'],
      setupFiles: ['<rootDir>/test/support/quiet-unit-logs.ts'],
    },
    { ...common, displayName: 'e2e', testMatch: ['<rootDir>/test/**/*.e2e-spec.ts'] },
  ],
  // Global only: a project-level testTimeout is ignored. Generous for a loaded 2-core machine.
  testTimeout: 120000,
};
