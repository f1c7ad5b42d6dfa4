import test from 'ava';
import { parse } from '@cdktf/hcl2json';
import { existsSync } from 'node:fs';
import { readFile, readdir } from 'node:fs/promises';
import path from 'node:path';
import { buildDist, decodeDashboardBody, runTempDir } from '../../helpers/infra-synth.js';
import { runNpm } from '../../helpers/npm.js';

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
  const out = await runTempDir('cdktf-out-');
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

test('the HCL leaves the alias version, weights and description to the rollout', async (t) => {
  t.regex(await hcl('dev'), /resource "aws_lambda_alias" "[^"]+" \{[^]*?ignore_changes = \[\s*"function_version",\s*"routing_config",\s*"description",\s*\]/);
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

type Blocks = Record<string, Record<string, Record<string, unknown>[]>>;

/** The HCL read back by HashiCorp's own parser (cdktf-cli's hcl2json), as a user's Terraform will read it. */
async function parsedHcl(stack: string): Promise<{ resource?: Blocks; data?: Blocks; output?: Record<string, unknown> }> {
  return (await parse('cdk.tf', await hcl(stack))) as { resource?: Blocks; data?: Blocks; output?: Record<string, unknown> };
}

test('every stack\'s HCL parses, with every resource and output of the stack', async (t) => {
  for (const stack of ['bootstrap', 'dev', 'prod']) {
    const parsed = await parsedHcl(stack);
    const json = JSON.parse(await readFile(path.join(run.out, 'stacks', stack, 'metadata.json'), 'utf8')) as unknown;
    t.truthy(json);
    t.true(Object.keys(parsed.resource ?? {}).length > 0, stack);
    t.true(Object.keys(parsed.output ?? {}).length > 0, stack);
  }
  const dev = await parsedHcl('dev');
  for (const type of ['aws_lambda_function', 'aws_lambda_alias', 'aws_lambda_layer_version', 'aws_apigatewayv2_api', 'aws_cloudwatch_metric_alarm', 'aws_cloudwatch_dashboard', 'aws_sns_topic', 'aws_s3_bucket']) {
    t.truthy(dev.resource?.[type], `dev has ${type}`);
  }
  t.deepEqual(Object.keys(dev.output ?? {}).sort(), [
    'alarm_prefix', 'alarm_topic_arn', 'alias_name', 'capture_bucket', 'capture_stream', 'dashboard_url', 'endpoint_url', 'function_name', 'function_version', 'metrics_namespace', 'model_bucket', 'models',
  ]);
  t.truthy(dev.resource?.['aws_kinesis_firehose_delivery_stream'], 'dev captures predictions');
  t.truthy(dev.resource?.['aws_cloudwatch_log_subscription_filter'], 'dev subscribes its function\'s log group');
  t.false('capture_bucket' in ((await parsedHcl('prod')).output ?? {}), 'prod captures nothing by default');
});

test('the dashboard body survives the HCL intact, quotes in its SEARCH expressions included', async (t) => {
  const dashboards = Object.values((await parsedHcl('dev')).resource?.['aws_cloudwatch_dashboard'] ?? {});
  const body = decodeDashboardBody(String(dashboards[0]?.[0]?.['dashboard_body'])) as { widgets: { properties: { metrics?: unknown[] } }[] };
  const searches = JSON.stringify(body.widgets.map((w) => w.properties.metrics ?? []));
  t.regex(searches, /SEARCH\('\{\\"OnnxLambda\\",FunctionName,FunctionVersion\} MetricName=\\"ColdStart\\"/);
  t.regex(JSON.stringify(body), /arn:aws:cloudwatch:us-east-1:123456789012:alarm:onnx-lambda-dev-error-rate/);
});
