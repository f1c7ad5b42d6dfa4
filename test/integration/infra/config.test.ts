import test from 'ava';
import { DEFAULT_CONFIG, loadAppConfig, validateAppConfig, type AppConfig, type EnvironmentConfig } from '../../../infra/config.js';
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
