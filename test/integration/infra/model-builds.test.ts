import test from 'ava';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { runBuilds } from '../../../build.js';
import type { BuildRecord } from '../../../functions/contract/build-record.js';
import { PROJECT_ROOT } from '../../../infra/build-record.js';
import { DEFAULT_CONFIG, type AppConfig, type EnvironmentConfig } from '../../../infra/config.js';
import { SettingError } from '../../../infra/errors.js';
import { configuredBuilds, plannedBuilds } from '../../../infra/model-builds.js';

const [dev, prod] = DEFAULT_CONFIG.environments as [EnvironmentConfig, EnvironmentConfig];
const withModels: AppConfig = { ...DEFAULT_CONFIG, environments: [{ ...dev, models: [{ name: 'iris' }, { name: 'diabetes', packaging: 's3', ephemeralStorageMb: 1024 }] }, prod] };
const at = (folder: string) => path.join(PROJECT_ROOT, folder);

test('builds every listed bundle into its own folder, and the default bundle for an environment that lists none', (t) => {
  const plans = plannedBuilds(withModels);
  t.deepEqual(plans.map((p) => p.outDir), [at('dist/iris'), at('dist/diabetes'), at('dist')]);
  t.deepEqual(plans[1]!.args, ['--model', at('models/diabetes'), '--package', 's3', '--ephemeral-storage-mb', '1024', '--arch', 'arm64', '--runtime', 'nodejs24.x', '--out', at('dist/diabetes')]);
  t.deepEqual(plans[2]!.args, ['--arch', 'arm64', '--runtime', 'nodejs24.x', '--out', at('dist')]);
  t.deepEqual(plans[1]!.deployedBy, ['dev/diabetes']);
});

test('the default configuration makes one build, deployed by both environments', (t) => {
  const plans = plannedBuilds(DEFAULT_CONFIG);
  t.is(plans.length, 1);
  t.deepEqual(plans[0]!.deployedBy, ['dev', 'prod']);
});

test('refuses one folder deployed with two different builds', (t) => {
  const config: AppConfig = { ...DEFAULT_CONFIG, environments: [dev, { ...prod, arch: 'x86_64' }] };
  const error = t.throws(() => plannedBuilds(config), { instanceOf: SettingError });
  t.regex(error.message, /environments\[prod\]: distDir is "dist"; allowed: a build folder of its own: dev deploys it with other build settings \(npm run build -- --arch arm64/);
});

test('npm run build builds the configuration\'s builds when it lists models and no bundle is named', (t) => {
  t.is(configuredBuilds([], withModels)?.length, 3);
  t.is(configuredBuilds(['--environment', 'dev'], withModels)?.length, 2);
  t.deepEqual(configuredBuilds(['--environment=prod', '--allow-missing-golden'], withModels)?.[0]?.args.at(-1), '--allow-missing-golden');
});

test('npm run build builds one bundle as told when a bundle flag is given or nothing is listed', (t) => {
  t.is(configuredBuilds(['--model', 'models/wine-xgb'], withModels), undefined);
  t.is(configuredBuilds(['--out', '/tmp/x'], withModels), undefined);
  t.is(configuredBuilds([], DEFAULT_CONFIG), undefined);
});

test('refuses --environment beside a per-bundle flag, and an unknown environment', (t) => {
  t.regex(t.throws(() => configuredBuilds(['--environment', 'dev', '--arch', 'x86_64'], withModels))!.message, /--arch is .*allowed: --environment <name> and --allow-missing-golden only/);
  t.regex(t.throws(() => configuredBuilds(['--environment', 'staging'], withModels))!.message, /environments\[\]\.name is "staging"; allowed: one of dev, prod/);
  t.regex(t.throws(() => configuredBuilds(['--environment'], withModels))!.message, /--environment is unset; allowed: the name of an environment in infra\/config\.ts: dev, prod/);
});

test('the planned builds of a two-model environment write one build record per model, each in its own folder', async (t) => {
  const dir = await mkdtemp(path.join(tmpdir(), 'model-builds-'));
  t.teardown(() => rm(dir, { recursive: true, force: true }));
  const config: AppConfig = { ...DEFAULT_CONFIG, environments: [{ ...dev, distDir: dir, models: [{ name: 'iris' }, { name: 'diabetes', packaging: 's3' }] }] };
  const lines: string[] = [];
  await runBuilds(plannedBuilds(config), (line) => lines.push(line));
  const record = async (name: string) => JSON.parse(await readFile(path.join(dir, name, 'build.json'), 'utf8')) as BuildRecord;
  const [iris, diabetes] = await Promise.all([record('iris'), record('diabetes')]);
  t.like(iris.model, { name: 'iris', packaging: 'zip' });
  t.like(diabetes.model, { name: 'diabetes', packaging: 's3' });
  t.true(lines.some((line) => line.startsWith('== build 2 of 2, for dev/diabetes: npm run build -- --model')));
});
