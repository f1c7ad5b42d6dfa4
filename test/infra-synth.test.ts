import test from 'ava';
import { existsSync } from 'node:fs';
import { mkdtemp, readFile, readdir } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { buildDist } from './helpers/infra-synth.js';
import { runNpm } from './helpers/npm.js';

// One end-to-end run of `npm run synth` (cdktf synth --hcl) as a user runs it, pointed at a fresh build through
// INFRA_DIST_DIR and at a fresh output folder, so it neither needs nor touches the project's dist/ and cdktf.out/.

interface Synthesized {
  readonly out: string;
  readonly dist: string;
  readonly stdout: string;
  readonly stderr: string;
  readonly code: number | null;
}

let run: Synthesized;
test.before(async () => {
  const dist = await buildDist();
  const out = await mkdtemp(path.join(tmpdir(), 'cdktf-out-'));
  const result = await runNpm('synth', ['--output', out], { INFRA_DIST_DIR: dist });
  run = { ...result, out, dist };
});

function hcl(stack: string): Promise<string> {
  return readFile(path.join(run.out, 'stacks', stack, 'cdk.tf'), 'utf8');
}

test('npm run synth writes HCL for the bootstrap, dev and prod stacks', async (t) => {
  t.is(run.code, 0, run.stderr);
  t.deepEqual((await readdir(path.join(run.out, 'stacks'))).sort(), ['bootstrap', 'dev', 'prod']);
  for (const stack of ['bootstrap', 'dev', 'prod']) {
    t.true(existsSync(path.join(run.out, 'stacks', stack, 'cdk.tf')), `${stack}/cdk.tf`);
    t.false(existsSync(path.join(run.out, 'stacks', stack, 'cdk.tf.json')), `${stack} has no JSON beside the HCL`);
  }
});

test('the HCL leaves the alias version and weights to the rollout', async (t) => {
  t.regex(await hcl('dev'), /resource "aws_lambda_alias" "[^"]+" \{[^]*?ignore_changes = \[\s*"function_version",\s*"routing_config",\s*\]/);
});

test('the HCL keeps state in the S3 backend with S3 locking', async (t) => {
  t.regex(await hcl('prod'), /backend "s3" \{[^}]*key\s*= "onnx-lambda\/prod\/terraform\.tfstate"[^}]*use_lockfile = true/);
});

test('the HCL refers to the zips by paths inside the stack folder, copied there', async (t) => {
  const dev = await hcl('dev');
  t.false(dev.includes(run.dist), 'no path of the build folder');
  const filename = /filename\s+= "(assets\/function_zip_[^"]+\/function\.zip)"/.exec(dev)?.[1];
  t.not(filename, undefined);
  t.true(existsSync(path.join(run.out, 'stacks', 'dev', filename!)));
});
