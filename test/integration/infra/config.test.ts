import test from 'ava';
import { DEFAULT_CONFIG, deploymentNames, findModel, loadAppConfig, modelDeployments, validateAppConfig, type AppConfig, type EnvironmentConfig, type ModelConfig } from '../../../infra/config.js';
import type { ProvisionedConcurrencySettings } from '../../../infra/constructs/provisioned-concurrency.js';
import { SettingError } from '../../../infra/errors.js';

function withEnvironment(overrides: Partial<EnvironmentConfig>): AppConfig {
  return { ...DEFAULT_CONFIG, environments: [{ ...DEFAULT_CONFIG.environments[0]!, ...overrides }] };
}

test('the default configuration is valid and holds dev and prod', (t) => {
  const config = loadAppConfig({});
  t.deepEqual(
    config.environments.map((e) => e.name),
    ['dev', 'prod'],
  );
});

test('deploys the build in dist/ by default', (t) => {
  t.true(loadAppConfig({}).environments.every((e) => e.distDir === 'dist'));
});

test('deploys the build in INFRA_DIST_DIR to every environment when it is set', (t) => {
  t.true(loadAppConfig({ INFRA_DIST_DIR: '/tmp/other-build' }).environments.every((e) => e.distDir === '/tmp/other-build'));
});

test('keeps warm capacity in prod only: provisioned concurrency from 1 to 10 on a 0.7 target', (t) => {
  const [dev, prod] = loadAppConfig({}).environments;
  t.is(dev?.provisionedConcurrency, undefined);
  t.deepEqual(prod?.provisionedConcurrency, { min: 1, max: 10, targetUtilization: 0.7 });
});

test('authorizes with IAM in every default environment', (t) => {
  t.true(loadAppConfig({}).environments.every((e) => e.endpoint.kind === 'http-api' && e.endpoint.authorization.mode === 'iam'));
});

test('returns the configuration frozen', (t) => {
  const config = loadAppConfig({});
  t.true(Object.isFrozen(config));
  t.true(Object.isFrozen(config.environments[0]));
  t.true(Object.isFrozen(config.environments[0]!.endpoint));
});

/** Configurations validateAppConfig refuses, each with what its SettingError says (the whole message, or the setting). */
const REFUSED: readonly { title: string; config: AppConfig; error: { message: string } | { setting: string } }[] = [
  {
    title: 'refuses a project name that would make resource names too long',
    config: { ...DEFAULT_CONFIG, project: 'a-very-long-project-name' },
    error: { message: 'config: project is "a-very-long-project-name"; allowed: 2 to 16 lowercase letters, digits and "-", starting with a letter' },
  },
  { title: 'refuses a state bucket name S3 would reject', config: { ...DEFAULT_CONFIG, state: { ...DEFAULT_CONFIG.state, bucket: 'My_State' } }, error: { setting: 'state.bucket' } },
  {
    title: 'refuses a repository that is not owner/name',
    config: { ...DEFAULT_CONFIG, github: { ...DEFAULT_CONFIG.github, repository: 'onnx-lambda-kit' } },
    error: { message: 'config: github.repository is "onnx-lambda-kit"; allowed: "owner/name" of a GitHub repository' },
  },
  { title: 'refuses a branch wildcard, which would let any branch deploy', config: { ...DEFAULT_CONFIG, github: { ...DEFAULT_CONFIG.github, branch: '*' } }, error: { setting: 'github.branch' } },
  {
    title: 'refuses two environments with the same name',
    config: { ...DEFAULT_CONFIG, environments: [DEFAULT_CONFIG.environments[0]!, DEFAULT_CONFIG.environments[0]!] },
    error: { message: 'config: environments[].name is "dev"; allowed: a name used by one environment only' },
  },
  {
    title: 'refuses an environment named like the bootstrap stack',
    config: withEnvironment({ name: 'bootstrap' }),
    error: { message: 'environments[bootstrap]: name is "bootstrap"; allowed: any name but "bootstrap", which is the bootstrap stack' },
  },
  {
    title: 'refuses a region that is not an AWS region name',
    config: withEnvironment({ region: 'Frankfurt' }),
    error: { message: 'environments[dev]: region is "Frankfurt"; allowed: an AWS region such as "us-east-1"' },
  },
  {
    title: 'refuses an architecture Lambda does not have',
    config: withEnvironment({ arch: 'arm' as 'arm64' }),
    error: { message: 'environments[dev]: arch is "arm"; allowed: one of "arm64", "x86_64"' },
  },
  {
    title: 'refuses provisioned concurrency given as a bare number, and says how to write a fixed amount',
    config: withEnvironment({ provisionedConcurrency: 2 as unknown as ProvisionedConcurrencySettings }),
    error: { message: 'environments[dev]: provisionedConcurrency is 2; allowed: { min, max } and optionally targetUtilization, cooldowns and schedules. For a fixed amount write { min: 2, max: 2 }' },
  },
  {
    title: 'refuses an unknown endpoint kind',
    config: withEnvironment({ endpoint: { kind: 'alb' } as unknown as EnvironmentConfig['endpoint'] }),
    error: { setting: 'endpoint.kind' },
  },
];

for (const { title, config, error } of REFUSED) {
  test(title, (t) => {
    t.like(t.throws(() => validateAppConfig(config), { instanceOf: SettingError }), error);
  });
}

const TWO_MODELS: readonly ModelConfig[] = [{ name: 'iris' }, { name: 'diabetes', packaging: 's3', memorySizeMb: 2048 }];

test('a listed model deploys its own folder under the environment\'s, and takes its unset settings from the environment', (t) => {
  const [iris, diabetes] = modelDeployments(validateAppConfig(withEnvironment({ models: TWO_MODELS })).environments[0]!);
  t.like(iris, { name: 'iris', bundle: 'models/iris', distDir: 'dist/iris', packaging: 'auto', memorySizeMb: 1024 });
  t.like(diabetes, { name: 'diabetes', bundle: 'models/diabetes', distDir: 'dist/diabetes', packaging: 's3', memorySizeMb: 2048 });
});

test('an environment without a models list deploys one model, the build in its distDir', (t) => {
  const deployments = modelDeployments(DEFAULT_CONFIG.environments[0]!);
  t.is(deployments.length, 1);
  t.like(deployments[0], { name: undefined, bundle: undefined, distDir: 'dist' });
});

test('provisionedConcurrency false turns off the environment\'s warm capacity for one model', (t) => {
  const prod = DEFAULT_CONFIG.environments[1]!;
  const [a, b] = modelDeployments({ ...prod, models: [{ name: 'a' }, { name: 'b', provisionedConcurrency: false }] });
  t.deepEqual(a?.provisionedConcurrency, prod.provisionedConcurrency);
  t.is(b?.provisionedConcurrency, undefined);
});

const badModels: readonly { title: string; models: unknown; message: RegExp }[] = [
  { title: 'refuses two models with the same name', models: [{ name: 'iris' }, { name: 'iris' }], message: /environments\[dev\]: models\[1\]\.name is "iris"; allowed: a name used by one model only\. Each model gets its own function/ },
  { title: 'refuses a model name that starts with another model\'s name and a dash', models: [{ name: 'iris' }, { name: 'iris-v2' }], message: /models\[\]\.name is "iris-v2"; allowed: a name that does not start with "iris-".*alarms by the prefix <project>-dev-iris-/ },
  { title: 'refuses a model name that cannot name resources', models: [{ name: 'Iris_1' }], message: /models\[0\]\.name is "Iris_1"; allowed: lowercase letters, digits/ },
  { title: 'refuses an empty models list', models: [], message: /models is \[\]; allowed: one or more models.*Leave models unset/ },
  { title: 'refuses two models deploying one build folder', models: [{ name: 'a', distDir: 'dist/x' }, { name: 'b', distDir: 'dist/x/' }], message: /models\[b\]\.distDir is "dist\/x\/"; allowed: a build folder of its own \(model a deploys dist\/x already\)/ },
  { title: 'refuses an unknown packaging', models: [{ name: 'a', packaging: 'tarball' }], message: /models\[0\]\.packaging is "tarball"; allowed: one of "auto", "zip", "s3", "image"/ },
];
for (const { title, models, message } of badModels) {
  test(title, (t) => {
    const error = t.throws(() => validateAppConfig(withEnvironment({ models: models as readonly ModelConfig[] })), { instanceOf: SettingError });
    t.regex(error.message, message);
  });
}

test('refuses a model name that makes the function name longer than Lambda takes', (t) => {
  const error = t.throws(() => validateAppConfig(withEnvironment({ models: [{ name: 'a-very-long-model-name-for-the-lambda-limits' }] })), { instanceOf: SettingError });
  t.regex(error.message, /the function would be onnx-lambda-dev-a-very-long-model-name-for-the-lambda-limits-predict \(68 characters\)/);
});

test('finds a listed model by name, and names the choices for an unknown one', (t) => {
  const environment = validateAppConfig(withEnvironment({ models: TWO_MODELS })).environments[0]!;
  t.is(findModel(environment, 'diabetes').distDir, 'dist/diabetes');
  t.regex(t.throws(() => findModel(environment, 'wine'))!.message, /model is "wine"; allowed: one of the models this environment serves: iris, diabetes/);
  t.regex(t.throws(() => findModel(environment, undefined))!.message, /model is unset; allowed: one of the models this environment serves: iris, diabetes/);
});

test('a listed model\'s resources are named after it, an unlisted one\'s after the environment', (t) => {
  const environment = validateAppConfig(withEnvironment({ models: TWO_MODELS })).environments[0]!;
  t.like(deploymentNames('onnx-lambda', 'dev', findModel(environment, 'iris')), { functionName: 'onnx-lambda-dev-iris-predict', alarmPrefix: 'onnx-lambda-dev-iris-', apiName: 'onnx-lambda-dev-iris-api', layerName: 'onnx-lambda-dev-onnxruntime' });
  t.like(deploymentNames('onnx-lambda', 'dev', modelDeployments(DEFAULT_CONFIG.environments[0]!)[0]!), { functionName: 'onnx-lambda-dev-predict', alarmPrefix: 'onnx-lambda-dev-' });
});
