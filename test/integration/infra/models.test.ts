import test from 'ava';
import { parse } from '@cdktf/hcl2json';
import { spawn } from 'node:child_process';
import { readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { DEFAULT_CONFIG, deploymentNames, modelDeployments, type AppConfig, type EnvironmentConfig } from '../../../infra/config.js';
import { Alarms } from '../../../infra/constructs/alarms.js';
import { SettingError } from '../../../infra/errors.js';
import { imageTarget, imageTargets } from '../../../infra/image-target.js';
import { BootstrapStack, bootstrapProps } from '../../../infra/stacks/bootstrap-stack.js';
import { runCheckov } from '../../helpers/checkov.js';
import { all, buildDist, constructStack, decodeDashboardBody, environment, one, oneWhere, runTempDir, serviceStack, synth, synthWithComments, testApp, type Json } from '../../helpers/infra-synth.js';

// A dev environment serving two models: iris in the function zip and diabetes from the model store, each with its own
// function, alias, endpoint, alarms and dashboard block, sharing the layer, bucket, alarm topic and dashboard.

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../..');
let irisDist = '';
let diabetesDist = '';
test.before(async () => {
  [irisDist, diabetesDist] = await Promise.all([buildDist(), buildDist(['--model', 'models/diabetes', '--package', 's3'])]);
});

function twoModels(overrides: Partial<EnvironmentConfig> = {}): EnvironmentConfig {
  return environment(irisDist, {
    models: [
      { name: 'iris', distDir: irisDist },
      { name: 'diabetes', distDir: diabetesDist, memorySizeMb: 2048, provisionedConcurrency: { min: 1, max: 2 }, alarms: { durationP99Ms: 2000 } },
    ],
    ...overrides,
  });
}

test('each model gets its own function, role, alias and API, named after it', (t) => {
  const out = synth(serviceStack(twoModels()));
  t.deepEqual(all(out, 'aws_lambda_function').map((f) => f['function_name']).sort(), ['onnx-lambda-dev-diabetes-predict', 'onnx-lambda-dev-iris-predict']);
  t.deepEqual(all(out, 'aws_iam_role').map((r) => r['name']).filter((name) => String(name).endsWith('-predict')).sort(), ['onnx-lambda-dev-diabetes-predict', 'onnx-lambda-dev-iris-predict']);
  t.is(all(out, 'aws_lambda_alias').length, 2);
  t.deepEqual(all(out, 'aws_apigatewayv2_api').map((a) => a['name']).sort(), ['onnx-lambda-dev-diabetes-api', 'onnx-lambda-dev-iris-api']);
});

test('a model\'s settings override the environment\'s, and unset ones take the environment\'s', (t) => {
  const out = synth(serviceStack(twoModels()));
  t.is(oneWhere(out, 'aws_lambda_function', 'function_name', 'onnx-lambda-dev-iris-predict')['memory_size'], 1024);
  t.is(oneWhere(out, 'aws_lambda_function', 'function_name', 'onnx-lambda-dev-diabetes-predict')['memory_size'], 2048);
  const pc = one(out, 'aws_lambda_provisioned_concurrency_config');
  t.regex(String(pc['function_name']), /^\$\{aws_lambda_function\.model-diabetes_function_[0-9A-F]+\.function_name\}$/);
  t.is(oneWhere(out, 'aws_cloudwatch_metric_alarm', 'alarm_name', 'onnx-lambda-dev-diabetes-duration-p99')['threshold'], 2000);
  t.is(oneWhere(out, 'aws_cloudwatch_metric_alarm', 'alarm_name', 'onnx-lambda-dev-iris-duration-p99')['threshold'], 1000);
});

test('the models share one runtime layer, one model store, one alarm topic and one dashboard', (t) => {
  const out = synth(serviceStack(twoModels()));
  t.is(one(out, 'aws_lambda_layer_version')['layer_name'], 'onnx-lambda-dev-onnxruntime');
  t.deepEqual(all(out, 'aws_s3_bucket').map((b) => b['bucket_prefix']).sort(), ['onnx-lambda-dev-captures-', 'onnx-lambda-dev-models-']);
  t.regex(String(one(out, 'aws_s3_object')['key']), /^models\/diabetes\/1\/model\.(onnx|ort)$/);
  t.is(one(out, 'aws_sns_topic')['name'], 'onnx-lambda-dev-alarms');
  const topic = `\${aws_sns_topic.${Object.keys(out['resource']['aws_sns_topic'] as Json)[0]!}.arn}`;
  t.true(all(out, 'aws_cloudwatch_metric_alarm').every((alarm) => JSON.stringify(alarm['alarm_actions']) === JSON.stringify([topic])));
  t.is(all(out, 'aws_cloudwatch_dashboard').length, 1);
});

test('each model\'s alarms start with its own prefix, which no other model\'s alarm starts with', (t) => {
  const names = all(synth(serviceStack(twoModels())), 'aws_cloudwatch_metric_alarm').map((a) => String(a['alarm_name']));
  const iris = names.filter((n) => n.startsWith('onnx-lambda-dev-iris-'));
  const diabetes = names.filter((n) => n.startsWith('onnx-lambda-dev-diabetes-'));
  t.true(iris.length >= 6);
  t.is(iris.length, diabetes.length);
  t.is(iris.length + diabetes.length, names.length);
});

test('the dashboard shows a titled block of graphs per model, under one alarm widget listing both models\' alarms', (t) => {
  const body = decodeDashboardBody(String(one(synth(serviceStack(twoModels())), 'aws_cloudwatch_dashboard')['dashboard_body'])) as { widgets: Json[] };
  const titles = body.widgets.filter((w) => w['type'] === 'text').map((w) => w['properties']['markdown']);
  t.deepEqual(titles, ['## iris (onnx-lambda-dev-iris-predict)', '## diabetes (onnx-lambda-dev-diabetes-predict)']);
  const alarms = body.widgets.find((w) => w['type'] === 'alarm')!['properties']['alarms'] as string[];
  t.true(alarms.some((a) => a.endsWith(':alarm:onnx-lambda-dev-iris-error-rate')));
  t.true(alarms.some((a) => a.endsWith(':alarm:onnx-lambda-dev-diabetes-error-rate')));
  const text = JSON.stringify(body);
  t.regex(text, /FunctionName=\\"onnx-lambda-dev-diabetes-predict\\"/);
  // No widget overlaps the next: each block starts below the one before.
  const ys = body.widgets.filter((w) => w['type'] === 'text').map((w) => Number(w['y']));
  t.true(ys[1]! > ys[0]!);
});

test('outputs every model\'s endpoint, function, version, alias and alarm prefix under models', (t) => {
  const out = synth(serviceStack(twoModels()));
  const models = out['output']['models']['value'] as Json;
  t.deepEqual(Object.keys(models).sort(), ['diabetes', 'iris']);
  t.is(models['diabetes']['function_name'], 'onnx-lambda-dev-diabetes-predict');
  t.is(models['diabetes']['alarm_prefix'], 'onnx-lambda-dev-diabetes-');
  t.is(models['iris']['alias_name'].startsWith('${aws_lambda_alias.'), true);
  t.is(out['output']['function_name'], undefined, 'no single function_name when the environment lists models');
});

test('an environment without a models list keeps its single function under the environment\'s names', (t) => {
  const out = synth(serviceStack(environment(irisDist)));
  t.is(one(out, 'aws_lambda_function')['function_name'], 'onnx-lambda-dev-predict');
  t.is(out['output']['function_name']['value'], 'onnx-lambda-dev-predict');
  t.deepEqual(Object.keys(out['output']['models']['value'] as Json), ['iris']);
});

test('two listed models may deploy the same S3 bundle: one object serves both', async (t) => {
  const again = await buildDist(['--model', 'models/diabetes', '--package', 's3', '--zip-model-limit-mb', '19']);
  const out = synth(serviceStack(environment(irisDist, { models: [{ name: 'first', distDir: diabetesDist }, { name: 'second', distDir: again }] })));
  t.is(all(out, 'aws_s3_object').length, 1);
  t.is(all(out, 'aws_lambda_function').length, 2);
});

test('the bootstrap stack lets every model\'s function pull the environment\'s images', (t) => {
  const config: AppConfig = { ...DEFAULT_CONFIG, environments: [twoModels()] };
  const out = synth(new BootstrapStack(testApp(), 'bootstrap', bootstrapProps(config)));
  const policy = JSON.stringify(out);
  t.regex(policy, /function:onnx-lambda-dev-iris-predict:\*/);
  t.regex(policy, /function:onnx-lambda-dev-diabetes-predict:\*/);
});

test('checkov finds no failed check in a two-model stack', async (t) => {
  const dir = await runTempDir('checkov-models-');
  const { mkdir } = await import('node:fs/promises');
  await mkdir(path.join(dir, 'dev'));
  await writeFile(path.join(dir, 'dev', 'cdk.tf.json'), JSON.stringify(synthWithComments(serviceStack(twoModels())), null, 2));
  const result = await runCheckov(dir);
  t.true(result.passed > 0);
  t.deepEqual(result.failed.map((f) => `${f.checkId} ${f.resource}`), []);
});

/** `cdktf synth --hcl` of an app holding the bootstrap stack and a two-model dev stack, as a user's edited config would. */
async function synthTwoModelApp(): Promise<{ code: number | null; out: string; stderr: string }> {
  const dir = await runTempDir('two-model-app-');
  const out = path.join(dir, 'cdktf.out');
  const config: AppConfig = { ...DEFAULT_CONFIG, environments: [twoModels()] };
  const app = [
    `import { App } from ${JSON.stringify(path.join(ROOT, 'node_modules/cdktf/lib/index.js'))};`,
    `import { validateAppConfig } from ${JSON.stringify(path.join(ROOT, 'infra/config.ts'))};`,
    `import { BootstrapStack, bootstrapProps } from ${JSON.stringify(path.join(ROOT, 'infra/stacks/bootstrap-stack.ts'))};`,
    `import { ServiceStack } from ${JSON.stringify(path.join(ROOT, 'infra/stacks/service-stack.ts'))};`,
    `const config = validateAppConfig(${JSON.stringify(config)});`,
    'const app = new App();',
    "new BootstrapStack(app, 'bootstrap', bootstrapProps(config));",
    'for (const environment of config.environments) new ServiceStack(app, environment.name, { project: config.project, state: config.state, environment });',
    'app.synth();',
  ].join('\n');
  await writeFile(path.join(dir, 'app.ts'), app);
  const child = spawn(path.join(ROOT, 'node_modules/.bin/cdktf'), ['synth', '--hcl', '--app', `${path.join(ROOT, 'node_modules/.bin/tsx')} ${path.join(dir, 'app.ts')}`, '--output', out], {
    cwd: ROOT,
    env: { ...process.env, CHECKPOINT_DISABLE: '1' },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stderr = '';
  child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
  child.stdout.resume();
  const code = await new Promise<number | null>((resolve) => child.once('close', resolve));
  return { code, out, stderr };
}

test('cdktf synth --hcl writes a two-model dev environment that Terraform\'s parser reads, with both functions', async (t) => {
  const run = await synthTwoModelApp();
  t.is(run.code, 0, run.stderr);
  const hcl = await readFile(path.join(run.out, 'stacks', 'dev', 'cdk.tf'), 'utf8');
  const parsed = (await parse('cdk.tf', hcl)) as { resource?: Record<string, Record<string, Json[]>>; output?: Record<string, unknown> };
  const functions = Object.values(parsed.resource?.['aws_lambda_function'] ?? {}).map((f) => f[0]!['function_name']);
  t.deepEqual(functions.sort(), ['onnx-lambda-dev-diabetes-predict', 'onnx-lambda-dev-iris-predict']);
  t.truthy(parsed.output?.['models']);
});

test('an Alarms given a shared topic refuses subscribers of its own, which belong to that topic', (t) => {
  const stack = constructStack();
  const error = t.throws(() => new Alarms(stack, 'alarms', { prefix: 'onnx-lambda-dev-iris-', functionName: 'onnx-lambda-dev-iris-predict', topicArn: 'arn:aws:sns:us-east-1:123456789012:onnx-lambda-dev-alarms', subscribers: [{ protocol: 'email', endpoint: 'oncall@example.com' }] }), { instanceOf: SettingError });
  t.regex(error.message, /subscribers is .*allowed: unset with topicArn: they belong to the topic given\. Set them on the AlarmTopic/);
});

test('an Alarms given a shared topic refuses a topic prefix, and one of its own names its topic by it', (t) => {
  const props = { prefix: 'onnx-lambda-dev-iris-', functionName: 'onnx-lambda-dev-predict', topicPrefix: 'onnx-lambda-dev-' };
  const error = t.throws(() => new Alarms(constructStack(), 'alarms', { ...props, topicArn: 'arn:aws:sns:us-east-1:123456789012:onnx-lambda-dev-alarms' }), { instanceOf: SettingError });
  t.regex(error.message, /topicPrefix is "onnx-lambda-dev-".*allowed: unset with topicArn/);
  const stack = constructStack();
  new Alarms(stack, 'alarms', props);
  const out = synth(stack);
  t.is(one(out, 'aws_sns_topic')['name'], 'onnx-lambda-dev-alarms');
  t.true(all(out, 'aws_cloudwatch_metric_alarm').every((alarm) => String(alarm['alarm_name']).startsWith('onnx-lambda-dev-iris-')));
});

test('the deploy workflow\'s image targets list every model of the environment, with its build folder and packaging', (t) => {
  const config: AppConfig = { ...DEFAULT_CONFIG, environments: [twoModels()] };
  const targets = imageTargets(config, 'dev');
  t.deepEqual(targets.map((target) => [target.model, target['packaging']]), [['iris', 'zip'], ['diabetes', 's3']]);
  t.is(targets[1]!['dist_dir'], diabetesDist);
  t.regex(t.throws(() => imageTarget(config, 'dev'))!.message, /deploys 2 models \(iris, diabetes\); use --json/);
});

test('refuses two listed models deploying different files under one model name and version, which the store would key alike', async (t) => {
  const other = await buildDist(['--model', 'models/diabetes', '--package', 's3', '--optimize', 'none']);
  const error = t.throws(() => synth(serviceStack(environment(irisDist, { models: [{ name: 'first', distDir: diabetesDist }, { name: 'second', distDir: other }] }))), { instanceOf: SettingError });
  t.regex(error.message, /models\[second\]\.distDir is .*allowed: a build whose model diabetes@1 is the file the other model deploying diabetes@1 ships .*Give the bundles different names or versions in model\.json/);
});

// Listing models in an environment that served one: the model that keeps the environment's function.

const KEPT_SETTINGS: Partial<EnvironmentConfig> = {
  provisionedConcurrency: { min: 1, max: 2 },
  capture: { sampleRate: 0.1 },
  alarmSubscribers: [{ protocol: 'email', endpoint: 'oncall@example.com' }],
};

function keptIris(models: EnvironmentConfig['models'] = [{ name: 'iris', distDir: irisDist, keepsEnvironmentFunction: true }, { name: 'diabetes', distDir: diabetesDist }]): EnvironmentConfig {
  return environment(irisDist, { ...KEPT_SETTINGS, models });
}

test('a listed model that keeps the environment\'s function keeps every resource the single model had, at its address and name; only its alarms take its prefix', (t) => {
  const single = synth(serviceStack(environment(irisDist, KEPT_SETTINGS)));
  const listed = synth(serviceStack(keptIris()));
  let compared = 0;
  for (const [type, byId] of Object.entries(single['resource'] as Record<string, Record<string, Json>>)) {
    for (const [id, before] of Object.entries(byId)) {
      const after = (listed['resource'][type] as Record<string, Json> | undefined)?.[id];
      if (after === undefined) {
        t.fail(`${type}.${id} is not at its address any more: the first apply would replace it`);
        continue;
      }
      compared++;
      if (type === 'aws_cloudwatch_metric_alarm') {
        t.is(after['alarm_name'], String(before['alarm_name']).replace(/^onnx-lambda-dev-/, 'onnx-lambda-dev-iris-'));
        continue;
      }
      for (const key of ['function_name', 'name', 'role', 'layer_name', 'dashboard_name', 'bucket_prefix', 'log_group_name', 'destination_arn', 'topic_arn', 'endpoint']) {
        if (key in before) t.deepEqual(after[key], before[key], `${type}.${id}.${key}`);
      }
    }
  }
  t.true(compared > 30, `${compared} resources compared`);
  t.is(oneWhere(listed, 'aws_lambda_function', 'function_name', 'onnx-lambda-dev-predict')['memory_size'], 1024);
  t.is(oneWhere(listed, 'aws_lambda_function', 'function_name', 'onnx-lambda-dev-diabetes-predict')['memory_size'], 1024);
});

test('the other models\' alarms notify the kept function\'s topic, the environment\'s one', (t) => {
  const out = synth(serviceStack(keptIris()));
  t.is(one(out, 'aws_sns_topic')['name'], 'onnx-lambda-dev-alarms');
  const topic = `\${aws_sns_topic.${Object.keys(out['resource']['aws_sns_topic'] as Json)[0]!}.arn}`;
  t.true(all(out, 'aws_cloudwatch_metric_alarm').every((alarm) => JSON.stringify(alarm['alarm_actions']) === JSON.stringify([topic])));
  t.is(out['output']['alarm_topic_arn']['value'], topic);
  const names = all(out, 'aws_cloudwatch_metric_alarm').map((a) => String(a['alarm_name']));
  t.is(names.filter((n) => n.startsWith('onnx-lambda-dev-iris-')).length, names.filter((n) => n.startsWith('onnx-lambda-dev-diabetes-')).length);
});

test('the kept model\'s rollout target is the environment\'s function under the model\'s alarm prefix, and the deploy role covers it', (t) => {
  const env = keptIris();
  const [iris, diabetes] = modelDeployments(env);
  t.like(deploymentNames(DEFAULT_CONFIG.project, env.name, iris!), { functionName: 'onnx-lambda-dev-predict', apiName: 'onnx-lambda-dev-api', alarmPrefix: 'onnx-lambda-dev-iris-' });
  t.like(deploymentNames(DEFAULT_CONFIG.project, env.name, diabetes!), { functionName: 'onnx-lambda-dev-diabetes-predict', alarmPrefix: 'onnx-lambda-dev-diabetes-' });
  const models = synth(serviceStack(env))['output']['models']['value'] as Json;
  t.is(models['iris']['alarm_prefix'], 'onnx-lambda-dev-iris-');
  t.is(models['iris']['function_name'], 'onnx-lambda-dev-predict');
  const policy = JSON.stringify(synth(new BootstrapStack(testApp(), 'bootstrap', bootstrapProps({ ...DEFAULT_CONFIG, environments: [env] }))));
  t.regex(policy, /function:onnx-lambda-dev-predict:\*/);
  t.regex(policy, /function:onnx-lambda-dev-diabetes-predict:\*/);
});

test('refuses two models keeping the environment\'s function, and a keepsEnvironmentFunction that is not a boolean', (t) => {
  const two = t.throws(() => synth(serviceStack(keptIris([{ name: 'iris', distDir: irisDist, keepsEnvironmentFunction: true }, { name: 'diabetes', distDir: diabetesDist, keepsEnvironmentFunction: true }]))), { instanceOf: SettingError });
  t.regex(two.message, /models\[\]\.keepsEnvironmentFunction is "?iris, diabetes"?.*true on one model at most.*set it on the model that served it before/);
  const wrong = t.throws(() => synth(serviceStack(keptIris([{ name: 'iris', distDir: irisDist, keepsEnvironmentFunction: 'yes' as unknown as boolean }]))), { instanceOf: SettingError });
  t.regex(wrong.message, /models\[0\]\.keepsEnvironmentFunction is "yes".*true or false/);
});
