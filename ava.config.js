// Test files only; helpers and fixtures live outside this glob (test/helpers/, test/fixtures/).
export default {
  files: ['test/**/*.test.ts'],
  extensions: { ts: 'module' },
  nodeArguments: ['--import=tsx'],
  // ava's timeout is a time in which no test of any file reports; the build tests run their ~20 builds at once on two
  // cores, and the slowest has taken nearly two minutes in CI.
  timeout: '4m',
  workerThreads: false,
};
