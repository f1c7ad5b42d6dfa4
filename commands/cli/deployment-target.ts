/**
 * `--environment <env> [--model <name>]`, shared by `npm run rollout` and `npm run tune`: one model's deployment in
 * infra/config.ts, and the names, region, build folder, bundle and memory size the commands take from it, so that
 * nobody copies a function name or an alarm prefix by hand (and none is spelled twice: they come from
 * deploymentNames, as the service stack's do).
 *
 * An environment that lists models needs `--model` when it lists several. One without a models list serves the
 * single model its build record names: `--model` may be left out, and when given must be that name, read from
 * `<distDir>/build.json` (the stack's `models` output keys it the same way).
 */
import { readFileSync } from 'node:fs';
import path from 'node:path';
import type { ServiceNames } from '../../functions/contract/aws-names.js';
import { BUILD_RECORD_FILE } from '../../functions/contract/build-record.js';
import { PROJECT_ROOT } from '../../infra/build-record.js';
import { deploymentNames, findModel, modelDeployments, type AppConfig, type EnvironmentConfig, type ModelDeployment } from '../../infra/config.js';

/** Makes a command's own usage error from the flag, the value it got and what it expects. */
export type Refuse = (flag: string, value: unknown, expected: string) => Error;

export interface DeploymentTarget {
  readonly environment: EnvironmentConfig;
  readonly deployment: ModelDeployment;
  /** The model's name: its name in `models`, or the single model's as its build record names it (when --model was given). */
  readonly model: string | undefined;
  /** How messages name the deployment: `dev/iris`, or `dev` for an environment's single model. */
  readonly label: string;
  readonly names: ServiceNames;
  readonly region: string;
  /** The deployment's build folder, absolute. */
  readonly distDir: string;
  /** The bundle `npm run build` builds for it, absolute; undefined for an environment's single model (the default bundle, or whatever was built into distDir). */
  readonly bundle: string | undefined;
  readonly memorySizeMb: number;
}

/** The model name a build record holds, or why it cannot be read. */
function recordedModelName(distDir: string): { readonly name: string } | { readonly reason: string } {
  const file = path.join(distDir, BUILD_RECORD_FILE);
  try {
    const record = JSON.parse(readFileSync(file, 'utf8')) as { model?: { name?: unknown } };
    const name = record.model?.name;
    return typeof name === 'string' && name !== '' ? { name } : { reason: `${file} names no model.name` };
  } catch (error) {
    return { reason: `${file} cannot be read (${error instanceof Error ? error.message : String(error)})` };
  }
}

/**
 * The deployment `--environment <environment> [--model <model>]` names in `config`. Refuses (through `refuse`, so each
 * command throws its own usage error) an unknown environment or model with the choices, a missing --model where the
 * environment lists several, and a --model that is not the single model's name.
 */
export function resolveDeploymentTarget(config: AppConfig, environmentName: string, model: string | undefined, refuse: Refuse): DeploymentTarget {
  const environment = config.environments.find((e) => e.name === environmentName);
  if (environment === undefined) {
    throw refuse('environment', environmentName, `one of the environments in infra/config.ts: ${config.environments.map((e) => e.name).join(', ')}`);
  }
  if (environment.models !== undefined) {
    const names = modelDeployments(environment).map((m) => m.name!);
    if (model === undefined || !names.includes(model)) {
      throw refuse('model', model, `one of the models environment ${environment.name} serves (infra/config.ts): ${names.join(', ')}`);
    }
  }
  const deployment = findModel(environment, model);
  const distDir = path.resolve(PROJECT_ROOT, deployment.distDir);
  let name = deployment.name;
  if (deployment.name === undefined && model !== undefined) {
    const recorded = recordedModelName(distDir);
    if ('reason' in recorded) {
      throw refuse('model', model, `the model environment ${environment.name} serves, named by its build record, and ${recorded.reason}; run npm run build, or leave --model out (the environment lists no models)`);
    }
    if (recorded.name !== model) {
      throw refuse('model', model, `${JSON.stringify(recorded.name)}, the model environment ${environment.name} serves (${path.join(deployment.distDir, BUILD_RECORD_FILE)}), or leave --model out (the environment lists no models)`);
    }
    name = recorded.name;
  }
  return Object.freeze({
    environment,
    deployment,
    model: name,
    label: deployment.name === undefined ? environment.name : `${environment.name}/${deployment.name}`,
    names: deploymentNames(config.project, environment.name, deployment),
    region: environment.region,
    distDir,
    bundle: deployment.bundle === undefined ? undefined : path.resolve(PROJECT_ROOT, deployment.bundle),
    memorySizeMb: deployment.memorySizeMb,
  });
}

/** A path as a command prints it: relative to the working folder when inside it, else absolute. */
export function displayPath(absolute: string): string {
  const relative = path.relative(process.cwd(), absolute);
  return relative === '' ? '.' : relative.startsWith('..') || path.isAbsolute(relative) ? absolute : relative;
}
