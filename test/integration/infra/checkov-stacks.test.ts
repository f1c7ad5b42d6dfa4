import test from 'ava';
import { mkdir, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { DEFAULT_CONFIG } from '../../../infra/config.js';
import { BootstrapStack, bootstrapProps } from '../../../infra/stacks/bootstrap-stack.js';
import { runCheckov } from '../../helpers/checkov.js';
import { buildDist, environment, runTempDir, serviceStack, synthWithComments as synth, testApp, type Json } from '../../helpers/infra-synth.js';

// checkov over the Terraform that `npm run synth` writes for every stack: no failed check. A check that does not
// apply is skipped in the construct's code with a written reason (see test/helpers/checkov.ts).
let zipDist = '';
let s3Dist = '';
let imageDist = '';
test.before(async () => {
  [zipDist, s3Dist, imageDist] = await Promise.all([buildDist(), buildDist(['--model-packaging', 's3']), buildDist(['--package', 'image'])]);
});

async function scan(name: string, json: Json) {
  const dir = await runTempDir(`checkov-${name}-`);
  await mkdir(path.join(dir, name), { recursive: true });
  await writeFile(path.join(dir, name, 'cdk.tf.json'), JSON.stringify(json, null, 2));
  return runCheckov(dir);
}

function failures(result: Awaited<ReturnType<typeof runCheckov>>): string[] {
  return result.failed.map((f) => `${f.checkId} ${f.resource}: ${f.checkName}`);
}

/** `<check id> <resource type>` of every skip written in code, sorted; a skip that stops applying shows up here. */
function skips(result: Awaited<ReturnType<typeof runCheckov>>): string[] {
  return result.skipped.map((s) => `${s.checkId} ${s.resource.split('.')[0]!}`).sort();
}

const BUCKET_SKIPS = ['CKV2_AWS_62 aws_s3_bucket', 'CKV_AWS_144 aws_s3_bucket', 'CKV_AWS_145 aws_s3_bucket', 'CKV_AWS_18 aws_s3_bucket'];
/** With the default config: no log KMS key, retention under a year, no reserved concurrency. */
const SERVICE_SKIPS = [
  ...BUCKET_SKIPS,
  'CKV_AWS_115 aws_lambda_function', 'CKV_AWS_116 aws_lambda_function', 'CKV_AWS_117 aws_lambda_function', 'CKV_AWS_173 aws_lambda_function', 'CKV_AWS_272 aws_lambda_function',
  'CKV_AWS_158 aws_cloudwatch_log_group', 'CKV_AWS_158 aws_cloudwatch_log_group', 'CKV_AWS_338 aws_cloudwatch_log_group', 'CKV_AWS_338 aws_cloudwatch_log_group',
].sort();
/**
 * The capture pipeline's (dev samples by default): its bucket's, the stream's AWS-owned key and its error log group's,
 * all without a KMS key and with retention under a year.
 */
const CAPTURE_SKIPS = [...BUCKET_SKIPS, 'CKV_AWS_241 aws_kinesis_firehose_delivery_stream', 'CKV_AWS_158 aws_cloudwatch_log_group', 'CKV_AWS_338 aws_cloudwatch_log_group'];
const DEV_SKIPS = [...SERVICE_SKIPS, ...CAPTURE_SKIPS].sort();

test('checkov finds no failed check in the bootstrap stack, its image repositories included', async (t) => {
  const stack = new BootstrapStack(testApp(), 'bootstrap', bootstrapProps(DEFAULT_CONFIG));
  const result = await scan('bootstrap', synth(stack));
  t.true(result.passed > 0);
  t.deepEqual(failures(result), []);
  t.deepEqual(skips(result), BUCKET_SKIPS);
});

for (const [name, expected] of [['dev', DEV_SKIPS], ['prod', SERVICE_SKIPS]] as const) {
  test(`checkov finds no failed check in the ${name} stack`, async (t) => {
    const env = DEFAULT_CONFIG.environments.find((e) => e.name === name)!;
    const result = await scan(name, synth(serviceStack({ ...env, distDir: zipDist })));
    t.true(result.passed > 0);
    t.deepEqual(failures(result), []);
    t.deepEqual(skips(result), expected);
  });
}

test('checkov finds no failed check in a stack that runs a container image, with the same skips but none for a layer', async (t) => {
  const result = await scan('dev-image', synth(serviceStack(environment(imageDist))));
  t.true(result.passed > 0);
  t.deepEqual(failures(result), []);
  t.deepEqual(skips(result), DEV_SKIPS);
});

test('checkov finds no failed check in a stack whose model is packaged for S3', async (t) => {
  const result = await scan('dev-s3', synth(serviceStack(environment(s3Dist))));
  t.deepEqual(failures(result), []);
});
