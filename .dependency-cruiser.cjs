// The layout's import rules, checked by `npm run lint` (dependency-cruiser): README.md's "Layout" draws the same
// folders. Product code is functions/, build.ts, commands/ and infra/; tooling is tools/, test/ and bench/.
/** @type {import('dependency-cruiser').IConfiguration} */
module.exports = {
  forbidden: [
    {
      name: 'no-circular',
      comment: 'An import cycle, type-only ones included: move the shared types into a leaf module.',
      severity: 'error',
      from: {},
      to: { circular: true },
    },
    {
      name: 'contract-imports-nothing',
      comment: 'functions/contract/ is the dependency-free home of names shared across parts: it imports nothing outside itself.',
      severity: 'error',
      from: { path: '^functions/contract/' },
      to: { pathNot: '^functions/contract/' },
    },
    {
      name: 'function-stays-in-functions',
      comment: 'The Lambda function is bundled alone: it imports only functions/ and its npm dependencies.',
      severity: 'error',
      from: { path: '^functions/' },
      to: { path: '^(build\\.ts|commands|infra|tools|test|bench)/?' },
    },
    {
      name: 'product-never-imports-tooling',
      comment: 'Product code (functions/, build.ts, commands/, infra/) runs against production; tools/, test/ and bench/ are for developers.',
      severity: 'error',
      from: { path: '^(functions|commands|infra)/|^build\\.ts$' },
      to: { path: '^(tools|test|bench)/' },
    },
    {
      name: 'tools-never-import-tests-or-bench',
      comment: 'tools/ serves developers and tests; tests and the bench import tools, never the other way round.',
      severity: 'error',
      from: { path: '^tools/' },
      to: { path: '^(test|bench)/' },
    },
    {
      name: 'bench-never-imports-tests',
      severity: 'error',
      from: { path: '^bench/' },
      to: { path: '^test/' },
    },
  ],
  options: {
    tsConfig: { fileName: 'tsconfig.json' },
    tsPreCompilationDeps: true,
    doNotFollow: { path: 'node_modules' },
    exclude: { path: '^(node_modules|\\.testbed|dist|cdktf\\.out|models/train/\\.venv)/' },
  },
};
