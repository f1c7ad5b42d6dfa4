/**
 * `npx tsx infra/image-target.ts <environment> [--json]`: what the deploy workflow needs before `cdktf deploy`: the
 * models the environment deploys and, for each container-image build, where to push it.
 *
 * With --json, one JSON array on stdout, one object per model (modelDeployments' order):
 *
 *   { "model": <its name in models, or the single model's build record name>, "dist_dir": <build folder>,
 *     "packaging": "image"|"zip"|"s3",
 *     and for "image" only: "registry", "repository", "tag" (build.json's image.sha256: the tag the service stack
 *     deploys), "image_uri", "context", "platform", "base_image" (the tag of AWS's base image) }
 *
 * Without --json, for an environment that deploys one model: the same keys as `key=value` lines for
 * `$GITHUB_OUTPUT` (without model and dist_dir), as before environments listed models.
 *
 * It reads the same configuration and build records as synth, so the workflow pushes exactly the URIs the functions
 * will run. Exit 1 with `image-target: <message>` when the environment or a build is not there.
 */
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { readBuildRecord } from './build-record.js';
import { imageSettings, loadAppConfig, modelDeployments, type AppConfig, type EnvironmentConfig, type ModelDeployment } from './config.js';
import { imageUri } from './constructs/image-repository.js';

function environmentNamed(config: AppConfig, environmentName: string): EnvironmentConfig {
  const env = config.environments.find((e) => e.name === environmentName);
  if (env === undefined) throw new Error(`environment ${JSON.stringify(environmentName)} is not in infra/config.ts; use one of ${config.environments.map((e) => e.name).join(', ')}`);
  return env;
}

function deploymentTarget(config: AppConfig, env: EnvironmentConfig, model: ModelDeployment): Record<string, string> & { readonly model: string } {
  const where = model.name === undefined ? `environments[${env.name}]` : `environments[${env.name}].models[${model.name}]`;
  const build = readBuildRecord(model.distDir, { arch: env.arch, runtime: env.runtime, where, allowMissingGolden: env.allowMissingGolden === true });
  const name = model.name ?? build.model.name;
  if (build.image === undefined) return { model: name, dist_dir: model.distDir, packaging: build.model.packaging };
  const { repositoryName } = imageSettings(config.project, env);
  const uri = imageUri({ accountId: env.accountId, region: env.region, repositoryName, tag: build.image.sha256 });
  return {
    model: name,
    dist_dir: model.distDir,
    packaging: 'image',
    registry: uri.slice(0, uri.indexOf('/')),
    repository: repositoryName,
    tag: build.image.sha256,
    image_uri: uri,
    context: build.image.file,
    platform: build.image.platform,
    base_image: build.image.baseImage,
  };
}

/** One entry per model the environment deploys, in configuration order. */
export function imageTargets(config: AppConfig, environmentName: string): readonly (Record<string, string> & { readonly model: string })[] {
  const env = environmentNamed(config, environmentName);
  return modelDeployments(env).map((model) => deploymentTarget(config, env, model));
}

/** The image target of an environment that deploys one model (the `key=value` form). */
export function imageTarget(config: AppConfig, environmentName: string): Record<string, string> {
  const env = environmentNamed(config, environmentName);
  const deployments = modelDeployments(env);
  if (deployments.length !== 1) {
    throw new Error(`environment ${env.name} deploys ${deployments.length} models (${deployments.map((m) => m.name).join(', ')}); use --json for one entry per model`);
  }
  const { model: _model, dist_dir: _distDir, ...target } = deploymentTarget(config, env, deployments[0]!);
  return target;
}

if (process.argv[1] !== undefined && path.resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  try {
    const args = process.argv.slice(2);
    const json = args.includes('--json');
    const [name, ...rest] = args.filter((arg) => arg !== '--json');
    if (name === undefined || rest.length > 0) throw new Error('usage: npx tsx infra/image-target.ts <environment> [--json], one environment of infra/config.ts');
    const config = loadAppConfig();
    if (json) process.stdout.write(`${JSON.stringify(imageTargets(config, name))}\n`);
    else for (const [key, value] of Object.entries(imageTarget(config, name))) process.stdout.write(`${key}=${value}\n`);
  } catch (error) {
    process.stderr.write(`image-target: ${error instanceof Error ? error.message : String(error)}\n`);
    process.exitCode = 1;
  }
}
