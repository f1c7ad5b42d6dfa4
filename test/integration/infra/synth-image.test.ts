import test from 'ava';
import { parse } from '@cdktf/hcl2json';
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { BUILD_RECORD_FILE } from '../../../functions/contract/build-record.js';
import { buildDist, runTempDir } from '../../helpers/infra-synth.js';
import { runNpm } from '../../helpers/npm.js';

// `npm run synth` (cdktf synth --hcl) for a container-image build, as a user runs it, pointed at the build through
// INFRA_DIST_DIR: the HCL of an image function, and the bootstrap stack's image repositories.

type Blocks = Record<string, Record<string, Record<string, unknown>[]>>;
let run: { readonly out: string; readonly code: number | null; readonly stderr: string; readonly tag: string };

test.before(async () => {
  const dist = await buildDist(['--package', 'image']);
  const out = await runTempDir('cdktf-out-image-');
  const result = await runNpm('synth', ['--output', out], { INFRA_DIST_DIR: dist });
  const tag = (JSON.parse(await readFile(path.join(dist, BUILD_RECORD_FILE), 'utf8')) as { image: { sha256: string } }).image.sha256;
  run = { out, code: result.code, stderr: result.stderr, tag };
});

async function hcl(stack: string): Promise<{ text: string; parsed: { resource?: Blocks; output?: Record<string, unknown> } }> {
  const text = await readFile(path.join(run.out, 'stacks', stack, 'cdk.tf'), 'utf8');
  return { text, parsed: (await parse('cdk.tf', text)) as { resource?: Blocks; output?: Record<string, unknown> } };
}

test('the HCL of an image build runs the function from its image by the build\'s tag, with no handler, runtime, zip or layer', async (t) => {
  t.is(run.code, 0, run.stderr);
  for (const stack of ['dev', 'prod']) {
    const { text, parsed } = await hcl(stack);
    const functions = Object.values(parsed.resource?.['aws_lambda_function'] ?? {}).flat();
    t.is(functions.length, 1, stack);
    const fn = functions[0]!;
    t.is(fn['package_type'], 'Image');
    t.is(fn['image_uri'], `123456789012.dkr.ecr.us-east-1.amazonaws.com/onnx-lambda-${stack}-predict:${run.tag}`);
    for (const absent of ['handler', 'runtime', 'filename', 'source_code_hash', 'layers']) t.is(fn[absent], undefined, `${stack} ${absent}`);
    t.is(parsed.resource?.['aws_lambda_layer_version'], undefined, `${stack} publishes no layer`);
    t.false(text.includes('assets/'), `${stack} copies no zip`);
    t.truthy(parsed.output?.['image_uri']);
  }
});

test('the bootstrap HCL creates one image repository per environment: immutable tags, scan on push, KMS, a lifecycle policy', async (t) => {
  t.is(run.code, 0, run.stderr);
  const { parsed } = await hcl('bootstrap');
  const repositories = Object.values(parsed.resource?.['aws_ecr_repository'] ?? {}).flat();
  t.deepEqual(repositories.map((r) => r['name']).sort(), ['onnx-lambda-dev-predict', 'onnx-lambda-prod-predict']);
  for (const repository of repositories) {
    t.is(repository['image_tag_mutability'], 'IMMUTABLE');
    t.deepEqual(repository['image_scanning_configuration'], [{ scan_on_push: true }]);
    t.deepEqual(repository['encryption_configuration'], [{ encryption_type: 'KMS' }]);
  }
  t.is(Object.values(parsed.resource?.['aws_ecr_lifecycle_policy'] ?? {}).flat().length, 2);
  t.is(Object.values(parsed.resource?.['aws_ecr_repository_policy'] ?? {}).flat().length, 2);
});
