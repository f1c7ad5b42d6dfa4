import test from 'ava';
import { bytesByPackage, packageOf } from '../../../bench/bundle-packages.js';

test('an input path is named by the package of its last node_modules folder, scoped names whole', (t) => {
  const cases: [string, string][] = [
    ['node_modules/@opentelemetry/otlp-transformer/build/esm/index.js', '@opentelemetry/otlp-transformer'],
    ['node_modules/protobufjs/src/writer.js', 'protobufjs'],
    ['node_modules/a/node_modules/@scope/b/index.js', '@scope/b'],
    ['../../tmp/x/node_modules/long/index.js', 'long'],
    ['functions/predict/xray-tracer.ts', '(own code)'],
  ];
  for (const [input, name] of cases) t.is(packageOf(input), name, input);
});

test('the bytes of one output are summed per package, largest first, empty ones left out', (t) => {
  const packages = bytesByPackage({
    outputs: {
      'out.mjs': {
        bytes: 1000,
        inputs: {
          'node_modules/@opentelemetry/core/build/esm/a.js': { bytesInOutput: 100 },
          'node_modules/@opentelemetry/core/build/esm/b.js': { bytesInOutput: 250 },
          'node_modules/protobufjs/index.js': { bytesInOutput: 500 },
          'functions/predict/xray-tracer.ts': { bytesInOutput: 150 },
          'node_modules/unused/index.js': { bytesInOutput: 0 },
        },
      },
    },
  });
  t.deepEqual(packages, [
    { name: 'protobufjs', bytes: 500 },
    { name: '@opentelemetry/core', bytes: 350 },
    { name: '(own code)', bytes: 150 },
  ]);
});

test('a metafile with more than one output is refused', (t) => {
  const output = { bytes: 1, inputs: {} };
  t.throws(() => bytesByPackage({ outputs: { 'a.mjs': output, 'b.mjs': output } }), { message: 'expected one esbuild output, got 2' });
});
