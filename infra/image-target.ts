/**
 * `npx tsx infra/image-target.ts <environment>`: what the deploy workflow needs to push an environment's container
 * image before `cdktf deploy`, as `key=value` lines for `$GITHUB_OUTPUT`:
 *
 *   packaging=image|zip|s3          (from the environment's build.json; the other keys only for "image")
 *   registry=<account>.dkr.ecr.<region>.amazonaws.com
 *   repository=<repository name>    (the environment's image.repositoryName, created by the bootstrap stack)
 *   tag=<content sha256>            (build.json's image.sha256: the tag the service stack deploys)
 *   image_uri=<registry>/<repository>:<tag>
 *   context=<build context folder>  platform=<linux/arm64|linux/amd64>  base_image=<tag of AWS's base image>
 *
 * It reads the same configuration and build record as synth, so the workflow pushes exactly the URI the function
 * will run. Exit 1 with `image-target: <message>` when the environment or its build is not there.
 */
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { readBuildRecord } from './build-record.js';
import { imageSettings, loadAppConfig, type AppConfig } from './config.js';
import { imageUri } from './constructs/image-repository.js';

export function imageTarget(config: AppConfig, environmentName: string): Record<string, string> {
  const env = config.environments.find((e) => e.name === environmentName);
  if (env === undefined) throw new Error(`environment ${JSON.stringify(environmentName)} is not in infra/config.ts; use one of ${config.environments.map((e) => e.name).join(', ')}`);
  const build = readBuildRecord(env.distDir, { arch: env.arch, runtime: env.runtime, where: `environments[${env.name}]`, allowMissingGolden: env.allowMissingGolden === true });
  if (build.image === undefined) return { packaging: build.model.packaging };
  const { repositoryName } = imageSettings(config.project, env);
  const uri = imageUri({ accountId: env.accountId, region: env.region, repositoryName, tag: build.image.sha256 });
  return {
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

if (process.argv[1] !== undefined && path.resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  try {
    const [name, ...rest] = process.argv.slice(2);
    if (name === undefined || rest.length > 0) throw new Error('usage: npx tsx infra/image-target.ts <environment>, one environment of infra/config.ts');
    for (const [key, value] of Object.entries(imageTarget(loadAppConfig(), name))) process.stdout.write(`${key}=${value}\n`);
  } catch (error) {
    process.stderr.write(`image-target: ${error instanceof Error ? error.message : String(error)}\n`);
    process.exitCode = 1;
  }
}
