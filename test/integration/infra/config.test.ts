import test from 'ava';
import { DEFAULT_CONFIG, loadAppConfig, validateAppConfig, type AppConfig, type EnvironmentConfig } from '../../../infra/config.js';
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

test('authorizes with IAM in every default environment', (t) => {
  t.true(loadAppConfig({}).environments.every((e) => e.endpoint.kind === 'http-api' && e.endpoint.authorization.mode === 'iam'));
});

test('returns the configuration frozen', (t) => {
  const config = loadAppConfig({});
  t.true(Object.isFrozen(config));
  t.true(Object.isFrozen(config.environments[0]));
  t.true(Object.isFrozen(config.environments[0]!.endpoint));
});

test('refuses a project name that would make resource names too long', (t) => {
  const error = t.throws(() => validateAppConfig({ ...DEFAULT_CONFIG, project: 'a-very-long-project-name' }), { instanceOf: SettingError });
  t.is(error?.message, 'config: project is "a-very-long-project-name"; allowed: 2 to 16 lowercase letters, digits and "-", starting with a letter');
});

test('refuses a state bucket name S3 would reject', (t) => {
  const error = t.throws(() => validateAppConfig({ ...DEFAULT_CONFIG, state: { ...DEFAULT_CONFIG.state, bucket: 'My_State' } }), { instanceOf: SettingError });
  t.is(error?.setting, 'state.bucket');
});

test('refuses a repository that is not owner/name', (t) => {
  const error = t.throws(() => validateAppConfig({ ...DEFAULT_CONFIG, github: { ...DEFAULT_CONFIG.github, repository: 'onnx-lambda-kit' } }), { instanceOf: SettingError });
  t.is(error?.message, 'config: github.repository is "onnx-lambda-kit"; allowed: "owner/name" of a GitHub repository');
});

test('refuses a branch wildcard, which would let any branch deploy', (t) => {
  const error = t.throws(() => validateAppConfig({ ...DEFAULT_CONFIG, github: { ...DEFAULT_CONFIG.github, branch: '*' } }), { instanceOf: SettingError });
  t.is(error?.setting, 'github.branch');
});

test('refuses two environments with the same name', (t) => {
  const dev = DEFAULT_CONFIG.environments[0]!;
  const error = t.throws(() => validateAppConfig({ ...DEFAULT_CONFIG, environments: [dev, dev] }), { instanceOf: SettingError });
  t.is(error?.message, 'config: environments[].name is "dev"; allowed: a name used by one environment only');
});

test('refuses an environment named like the bootstrap stack', (t) => {
  const error = t.throws(() => validateAppConfig(withEnvironment({ name: 'bootstrap' })), { instanceOf: SettingError });
  t.is(error?.message, 'environments[bootstrap]: name is "bootstrap"; allowed: any name but "bootstrap", which is the bootstrap stack');
});

test('refuses a region that is not an AWS region name', (t) => {
  const error = t.throws(() => validateAppConfig(withEnvironment({ region: 'Frankfurt' })), { instanceOf: SettingError });
  t.is(error?.message, 'environments[dev]: region is "Frankfurt"; allowed: an AWS region such as "us-east-1"');
});

test('refuses an architecture Lambda does not have', (t) => {
  const error = t.throws(() => validateAppConfig(withEnvironment({ arch: 'arm' as 'arm64' })), { instanceOf: SettingError });
  t.is(error?.message, 'environments[dev]: arch is "arm"; allowed: one of "arm64", "x86_64"');
});

test('refuses an unknown endpoint kind', (t) => {
  const error = t.throws(() => validateAppConfig(withEnvironment({ endpoint: { kind: 'alb' } as unknown as EnvironmentConfig['endpoint'] })), { instanceOf: SettingError });
  t.is(error?.setting, 'endpoint.kind');
});
