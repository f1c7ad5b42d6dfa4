// Test files only; helpers and fixtures live outside this glob (test/helpers/, test/fixtures/).
export default {
  files: ['test/**/*.test.ts'],
  extensions: { ts: 'module' },
  nodeArguments: ['--import=tsx'],
  timeout: '2m',
  workerThreads: false,
};
