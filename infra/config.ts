/**
 * The deployment's configuration: one entry per environment, typed and validated before any construct sees it.
 *
 * Before the first deploy, set `state.bucket` to a globally unique bucket name and `github.repository` to the
 * repository whose workflows deploy (see infra/stacks/bootstrap-stack.ts). Settings that are construct props
 * (memorySizeMb, timeoutSeconds, ...) keep the props' names, and the constructs check them: an error names the
 * stack (the environment), the setting, the value and the allowed range.
 */
import path from 'node:path';
import { PACKAGE_CHOICES, type PackageChoice } from '../commands/build/packaging.js';
import { FUNCTION_NAME_PATTERN, FUNCTION_NAME_RULE, MODEL_NAME_PATTERN, MODEL_NAME_RULE, modelServiceNames, serviceNames, type ServiceNames } from '../functions/contract/aws-names.js';
import { ARCHES, DEFAULT_ARCH, DEFAULT_DIST_DIR, DEFAULT_RUNTIME, RUNTIMES, type Arch, type Runtime } from '../functions/contract/build-record.js';
import { DEFAULT_LOG_LEVEL, DEFAULT_METRICS_NAMESPACE, LOG_LEVELS, type LogLevel } from '../functions/contract/env.js';
import { ONE_VCPU_MEMORY_MB } from '../functions/contract/lambda-limits.js';
import type { AlarmSubscriber, AlarmThresholds } from './constructs/alarms.js';
import { checkCaptureSettings, checkSampleRate, type CaptureSettings } from './constructs/capture-pipeline.js';
import { DEFAULT_KEEP_IMAGES, defaultImageRepositoryName } from './constructs/image-repository.js';
import type { FunctionUrlAuthorization } from './constructs/function-url.js';
import type { HttpAuthorization, Throttling } from './constructs/http-endpoint.js';
import type { AsyncInvokeSettings } from './constructs/live-alias.js';
import type { ProvisionedConcurrencySettings } from './constructs/provisioned-concurrency.js';
import { fail, matching, oneOf } from './validators.js';

export type EndpointConfig =
  | {
      readonly kind: 'http-api';
      readonly authorization: HttpAuthorization;
      readonly throttling: Throttling;
      readonly accessLogRetentionDays: number;
    }
  | { readonly kind: 'function-url'; readonly authorization: FunctionUrlAuthorization };

export interface EnvironmentConfig {
  /** Names the stack (`cdktf.out/stacks/<name>`) and prefixes every resource (`<project>-<name>-...`). */
  readonly name: string;
  readonly region: string;
  /**
   * The AWS account this environment deploys to (12 digits). The provider refuses any other account's credentials,
   * and the dashboard names its alarms by ARN without a lookup.
   */
  readonly accountId: string;
  /** The build to deploy: a folder holding build.json, relative to the project root. */
  readonly distDir: string;
  /** Must match the build's (`npm run build -- --arch ...`). */
  readonly arch: Arch;
  /** Must match the build's (`npm run build -- --runtime ...`). */
  readonly runtime: Runtime;
  /**
   * Deploy a build made with `--allow-missing-golden`, whose model nothing checked against the training
   * framework's outputs. Unset: such a build fails synth.
   */
  readonly allowMissingGolden?: boolean;
  readonly memorySizeMb: number;
  readonly timeoutSeconds: number;
  /** Unset: sized from the model. */
  readonly ephemeralStorageMb?: number;
  /** Days the function's logs are kept; below 365, checkov's one-year check is skipped as this environment's choice. */
  readonly logRetentionDays: number;
  /**
   * KMS key ARN for the function's and the API's log groups; its key policy must let `logs.<region>.amazonaws.com`
   * use it. Unset: CloudWatch Logs' own encryption at rest.
   */
  readonly logsKmsKeyArn?: string;
  readonly logLevel: LogLevel;
  readonly metricsNamespace: string;
  /** Unset: the function shares the account's unreserved concurrency. */
  readonly reservedConcurrency?: number;
  /**
   * Provisioned concurrency on the `live` alias, from `min` to `max`, scaled by target tracking on its utilization
   * and by optional schedules (the ProvisionedConcurrency construct checks and documents each field). Unset: none;
   * every cold start loads the model in the init phase.
   */
  readonly provisionedConcurrency?: ProvisionedConcurrencySettings;
  /** Asynchronous invocations of the alias; unset fields take the defaults: no retries, events dropped after 60 s. */
  readonly asyncInvoke?: AsyncInvokeSettings;
  readonly endpoint: EndpointConfig;
  /** For the Alarms construct, which checks them; unset thresholds take its defaults. */
  readonly alarms: AlarmThresholds;
  /**
   * The ECR repository of this environment's container images, used when its build packages an image
   * (`npm run build -- --package image`, or `auto` for a model beyond /tmp): the packaging itself comes from the build
   * record. The bootstrap stack creates the repository for every environment, so it exists before the deploy
   * workflow pushes the first image. Unset fields take the defaults.
   */
  readonly image?: ImageSettings;
  /**
   * The models this environment serves, each with its own function, `live` alias, endpoint, alarms (under
   * `<project>-<environment>-<model>-`) and dashboard rows, and its own build in `<distDir>/<model>/` (`npm run build`
   * builds every listed bundle there). The environment's runtime layer, model store, alarm topic and dashboard are
   * shared. A model's unset settings take the environment's.
   * Unset: one model, the build in `distDir` itself, under the environment's own names (`<project>-<environment>-predict`);
   * listing models gives every model its name in its resources, so the first listing replaces that function, unless
   * one listed model sets `keepsEnvironmentFunction`.
   */
  readonly models?: readonly ModelConfig[];
  /**
   * Who the alarm topic notifies: `{ protocol: 'email', endpoint: 'oncall@example.com' }` (confirmed from the mail)
   * or `{ protocol: 'https', endpoint: 'https://...', autoConfirms?: true }`. Unset: nobody; subscribe to the
   * `alarm_topic_arn` output by other means.
   */
  readonly alarmSubscribers?: readonly AlarmSubscriber[];
  /**
   * Prediction capture: the share of requests whose inputs and outputs the function writes as capture log lines
   * (`sampleRate`, 0 to 1), and where they are kept: a CloudWatch Logs subscription filter sends those lines through
   * Firehose to an S3 bucket, partitioned by model version and date (CapturePipeline). Unset, or a rate of 0: no
   * capture and no pipeline, unless a listed model sets its own `captureSampleRate`.
   */
  readonly capture?: CaptureSettings;
}

/** One model of an environment's `models` list. Unset settings take the environment's. */
export interface ModelConfig {
  /** Names the model's resources (`<project>-<environment>-<name>-predict`, ...) and its build folder; unique in the environment. */
  readonly name: string;
  /** The bundle `npm run build` builds for this model, relative to the project root. @default `models/<name>` */
  readonly bundle?: string;
  /** The build to deploy: a folder holding build.json, relative to the project root. @default `<environment distDir>/<name>` */
  readonly distDir?: string;
  /** `npm run build -- --package`: zip, s3, image, or auto to choose by size. @default "auto" */
  readonly packaging?: PackageChoice;
  readonly memorySizeMb?: number;
  readonly timeoutSeconds?: number;
  readonly ephemeralStorageMb?: number;
  readonly reservedConcurrency?: number;
  /** `false`: none for this model, whatever the environment sets. @default the environment's */
  readonly provisionedConcurrency?: ProvisionedConcurrencySettings | false;
  /** Merged over the environment's thresholds, field by field. */
  readonly alarms?: AlarmThresholds;
  /** Share of this model's requests captured, 0 to 1. @default the environment's `capture.sampleRate`, or 0 */
  readonly captureSampleRate?: number;
  /**
   * `true`: this model takes over what the environment served before it listed models: the function
   * `<project>-<environment>-predict` with its role, versions and `live` alias, the provisioned concurrency, the
   * endpoint (its URL stays), the alarm topic with its subscriptions and the capture filter, at the same Terraform
   * addresses, so listing models replaces none of them. Its alarms move under `<project>-<environment>-<name>-`, apart
   * from the other models'. One model at most. @default false
   */
  readonly keepsEnvironmentFunction?: boolean;
}

/**
 * What one model of an environment deploys with: a listed model's settings over the environment's, or, for an
 * environment that lists none, the environment's own single model (`name` undefined: its resources keep the
 * environment's names).
 */
export interface ModelDeployment {
  /** The model's name in `models`; undefined for the environment's single model. */
  readonly name: string | undefined;
  /** The bundle to build; undefined for the single model, which deploys whatever `npm run build` put in distDir. */
  readonly bundle: string | undefined;
  readonly distDir: string;
  readonly packaging: PackageChoice;
  readonly memorySizeMb: number;
  readonly timeoutSeconds: number;
  readonly ephemeralStorageMb: number | undefined;
  readonly reservedConcurrency: number | undefined;
  readonly provisionedConcurrency: ProvisionedConcurrencySettings | undefined;
  readonly alarms: AlarmThresholds;
  /** Share of requests captured, 0 to 1; 0 is off (no CAPTURE_SAMPLE_RATE, no subscription filter). */
  readonly captureSampleRate: number;
  /**
   * Its function, alias, endpoint and alarm topic are the environment's own (names and Terraform addresses): the single
   * model, or the listed model that sets `keepsEnvironmentFunction`.
   */
  readonly keepsEnvironmentFunction: boolean;
}

/** The models an environment deploys, in the order it lists them (SPEC "Infrastructure": a function per model). */
export function modelDeployments(environment: EnvironmentConfig): readonly ModelDeployment[] {
  const shared = {
    memorySizeMb: environment.memorySizeMb,
    timeoutSeconds: environment.timeoutSeconds,
    ephemeralStorageMb: environment.ephemeralStorageMb,
    reservedConcurrency: environment.reservedConcurrency,
    provisionedConcurrency: environment.provisionedConcurrency,
    alarms: environment.alarms,
    captureSampleRate: environment.capture?.sampleRate ?? 0,
  };
  if (environment.models === undefined) {
    return [Object.freeze({ ...shared, name: undefined, bundle: undefined, distDir: environment.distDir, packaging: 'auto' as const, keepsEnvironmentFunction: true })];
  }
  return environment.models.map((model) =>
    Object.freeze({
      name: model.name,
      bundle: model.bundle ?? path.posix.join('models', model.name),
      distDir: model.distDir ?? path.posix.join(environment.distDir, model.name),
      packaging: model.packaging ?? 'auto',
      memorySizeMb: model.memorySizeMb ?? shared.memorySizeMb,
      timeoutSeconds: model.timeoutSeconds ?? shared.timeoutSeconds,
      ephemeralStorageMb: model.ephemeralStorageMb ?? shared.ephemeralStorageMb,
      reservedConcurrency: model.reservedConcurrency ?? shared.reservedConcurrency,
      provisionedConcurrency: model.provisionedConcurrency === false ? undefined : (model.provisionedConcurrency ?? shared.provisionedConcurrency),
      alarms: { ...shared.alarms, ...model.alarms },
      captureSampleRate: model.captureSampleRate ?? shared.captureSampleRate,
      keepsEnvironmentFunction: model.keepsEnvironmentFunction === true,
    }),
  );
}

/**
 * The AWS names of one model's resources: the environment's own for its single model, the model's for a listed one.
 * A listed model that keeps the environment's function keeps its function, role and API names; its alarms are its own.
 */
export function deploymentNames(project: string, environment: string, model: ModelDeployment): ServiceNames {
  const own = serviceNames(project, environment);
  if (model.name === undefined) return own;
  const named = modelServiceNames(project, environment, model.name);
  if (!model.keepsEnvironmentFunction) return named;
  return Object.freeze({ ...named, functionName: own.functionName, functionRoleName: own.functionRoleName, apiName: own.apiName });
}

/**
 * The deployment of the model named `name` in an environment (`npm run rollout -- --environment <e> --model <name>`).
 * An environment that lists no models has one deployment, returned for any name or none: its build record names its
 * model, and the caller checks `name` against that.
 */
export function findModel(environment: EnvironmentConfig, name: string | undefined): ModelDeployment {
  const models = modelDeployments(environment);
  if (environment.models === undefined) return models[0]!;
  const listed = models.map((m) => m.name!).join(', ');
  if (name === undefined) fail(`environments[${environment.name}]`, 'model', name, `one of the models this environment serves: ${listed}`);
  const found = models.find((m) => m.name === name);
  if (found === undefined) fail(`environments[${environment.name}]`, 'model', name, `one of the models this environment serves: ${listed}`);
  return found;
}

export interface ImageSettings {
  /** @default `<project>-<environment>-predict` (defaultImageRepositoryName), which the deploy role may push to */
  readonly repositoryName?: string;
  /** Images the lifecycle policy keeps, newest first. @default DEFAULT_KEEP_IMAGES (10) */
  readonly keepImages?: number;
  /** KMS key ARN for the images. @default ECR's AWS-managed KMS key */
  readonly kmsKeyArn?: string;
}

/** An environment's image settings with the defaults filled in. */
export interface ResolvedImageSettings {
  readonly repositoryName: string;
  readonly keepImages: number;
  readonly kmsKeyArn: string | undefined;
}

export function imageSettings(project: string, environment: EnvironmentConfig): ResolvedImageSettings {
  return Object.freeze({
    repositoryName: environment.image?.repositoryName ?? defaultImageRepositoryName(project, environment.name),
    keepImages: environment.image?.keepImages ?? DEFAULT_KEEP_IMAGES,
    kmsKeyArn: environment.image?.kmsKeyArn,
  });
}

export interface GitHubConfig {
  /** `owner/name` of the repository whose workflows may assume the deploy role. */
  readonly repository: string;
  /** The only branch whose workflows may deploy. */
  readonly branch: string;
  /** An account has one GitHub OIDC provider; set false when it already exists and the role should reference it. */
  readonly createOidcProvider: boolean;
}

export interface AppConfig {
  /** Prefix of every resource name; short, because names carry the environment and a suffix too. */
  readonly project: string;
  /** The Terraform state bucket (created by the bootstrap stack) and its region. */
  readonly state: { readonly bucket: string; readonly region: string };
  readonly github: GitHubConfig;
  readonly environments: readonly EnvironmentConfig[];
}

/** What both environments share. */
const shared = {
  region: 'us-east-1',
  accountId: '123456789012',
  distDir: DEFAULT_DIST_DIR,
  arch: DEFAULT_ARCH,
  runtime: DEFAULT_RUNTIME,
  timeoutSeconds: 30,
  metricsNamespace: DEFAULT_METRICS_NAMESPACE,
  logLevel: DEFAULT_LOG_LEVEL,
} as const;

export const DEFAULT_CONFIG: AppConfig = {
  project: 'onnx-lambda',
  state: { bucket: 'onnx-lambda-terraform-state', region: 'us-east-1' },
  github: { repository: 'example-org/onnx-lambda-kit', branch: 'main', createOidcProvider: true },
  environments: [
    {
      ...shared,
      name: 'dev',
      memorySizeMb: 1024,
      logRetentionDays: 14,
      endpoint: { kind: 'http-api', authorization: { mode: 'iam' }, throttling: { rateLimit: 20, burstLimit: 40 }, accessLogRetentionDays: 14 },
      alarms: { errorRatePercent: 5, durationP99Ms: 1000, throttles: 10 },
      // One request in 20: dev's test traffic is light, and a drift report needs some hundreds of rows per window,
      // which a full sample would give at a cost per request no team notices. Prod leaves capture off until a team
      // chooses its rate and retention (captures hold clients' inputs).
      capture: { sampleRate: 0.05 },
    },
    {
      ...shared,
      name: 'prod',
      // One full vCPU: onnxruntime and the JSON work of large batches are CPU-bound.
      memorySizeMb: ONE_VCPU_MEMORY_MB,
      logRetentionDays: 90,
      // Warm capacity for a latency-sensitive endpoint: one instance always, up to ten as traffic grows.
      provisionedConcurrency: { min: 1, max: 10, targetUtilization: 0.7 },
      endpoint: { kind: 'http-api', authorization: { mode: 'iam' }, throttling: { rateLimit: 200, burstLimit: 400 }, accessLogRetentionDays: 90 },
      alarms: { errorRatePercent: 1, durationP99Ms: 500, throttles: 0 },
    },
  ],
};

const PROJECT = /^[a-z][a-z0-9-]{1,15}$/;
const ENVIRONMENT = /^[a-z][a-z0-9]{1,9}$/;
const REGION = /^[a-z]{2}(-gov|-iso[a-z]?)?-[a-z]+-\d$/;
const BUCKET = /^(?!xn--)[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$/;
const REPOSITORY = /^[A-Za-z0-9_.-]+\/[A-Za-z0-9_.-]+$/;
const BRANCH = /^(?!\/)(?!.*\/\/)(?!.*\.\.)[A-Za-z0-9._/-]+(?<!\/)$/;
const ENDPOINT_KINDS = ['http-api', 'function-url'] as const;

/**
 * Checks what only the configuration knows (names, regions, the build to use, the endpoint kind). Lambda, API
 * Gateway and alarm limits are checked by the constructs that apply them.
 */
export function validateEnvironment(environment: EnvironmentConfig): EnvironmentConfig {
  const where = `environments[${String(environment.name)}]`;
  matching(where, 'name', environment.name, ENVIRONMENT, '2 to 10 lowercase letters and digits, starting with a letter');
  if (environment.name === 'bootstrap') fail(where, 'name', environment.name, 'any name but "bootstrap", which is the bootstrap stack');
  matching(where, 'region', environment.region, REGION, 'an AWS region such as "us-east-1"');
  matching(where, 'accountId', environment.accountId, /^\d{12}$/, 'the 12-digit id of the AWS account to deploy to');
  matching(where, 'distDir', environment.distDir, /\S/, 'a folder holding build.json, relative to the project root');
  oneOf(where, 'arch', environment.arch, ARCHES);
  oneOf(where, 'runtime', environment.runtime, RUNTIMES);
  oneOf(where, 'logLevel', environment.logLevel, LOG_LEVELS);
  oneOf(where, 'endpoint.kind', environment.endpoint.kind, ENDPOINT_KINDS);
  if (environment.capture !== undefined) checkCaptureSettings(where, environment.capture, 'capture.');
  if (environment.models !== undefined) validateModels(where, environment);
  const provisioned: unknown = environment.provisionedConcurrency;
  if (provisioned !== undefined && (typeof provisioned !== 'object' || provisioned === null)) {
    const fixed = typeof provisioned === 'number' ? `{ min: ${provisioned}, max: ${provisioned} }` : '{ min: 1, max: 1 }';
    fail(where, 'provisionedConcurrency', provisioned, '{ min, max } and optionally targetUtilization, cooldowns and schedules', `For a fixed amount write ${fixed}`);
  }
  return environment;
}

/**
 * A models list: names that can name resources, each once, none the start of another's alarm names (the rollout
 * finds a model's alarms by the prefix `<...>-<model>-`, which would also match `<model>-<suffix>`'s), and a build
 * folder each.
 */
function validateModels(where: string, environment: EnvironmentConfig): void {
  const models: unknown = environment.models;
  if (!Array.isArray(models) || models.length === 0) fail(where, 'models', models, 'one or more models, e.g. [{ name: "iris" }]', 'Leave models unset for the zero-config single model');
  const names = new Set<string>();
  environment.models!.forEach((model, i) => {
    matching(where, `models[${i}].name`, model.name, MODEL_NAME_PATTERN, MODEL_NAME_RULE);
    if (names.has(model.name)) fail(where, `models[${i}].name`, model.name, 'a name used by one model only', 'Each model gets its own function and alarms named after it; rename one');
    names.add(model.name);
    if (model.packaging !== undefined) oneOf(where, `models[${i}].packaging`, model.packaging, PACKAGE_CHOICES);
    if (model.captureSampleRate !== undefined) checkSampleRate(where, `models[${i}].captureSampleRate`, model.captureSampleRate);
    const keeps: unknown = model.keepsEnvironmentFunction;
    if (keeps !== undefined && typeof keeps !== 'boolean') fail(where, `models[${i}].keepsEnvironmentFunction`, keeps, 'true or false');
    const provisioned: unknown = model.provisionedConcurrency;
    if (provisioned !== undefined && provisioned !== false && (typeof provisioned !== 'object' || provisioned === null)) {
      fail(where, `models[${i}].provisionedConcurrency`, provisioned, '{ min, max } and optionally targetUtilization, cooldowns and schedules, or false for none');
    }
  });
  for (const a of names) {
    for (const b of names) {
      if (b.startsWith(`${a}-`)) {
        fail(where, 'models[].name', b, `a name that does not start with "${a}-", another model's name and a dash`, `The rollout finds model ${a}'s alarms by the prefix <project>-${environment.name}-${a}-, which ${b}'s alarm names also start with; rename one`);
      }
    }
  }
  const keeping = environment.models!.filter((model) => model.keepsEnvironmentFunction === true).map((model) => model.name);
  if (keeping.length > 1) {
    fail(where, 'models[].keepsEnvironmentFunction', keeping.join(', '), 'true on one model at most', 'The environment has one function of its own to keep; set it on the model that served it before, and on no other');
  }
  const folders = new Map<string, string>();
  for (const model of modelDeployments(environment)) {
    const folder = path.posix.normalize(model.distDir).replace(/(.)\/$/, '$1');
    const other = folders.get(folder);
    if (other !== undefined) fail(where, `models[${model.name}].distDir`, model.distDir, `a build folder of its own (model ${other} deploys ${folder} already)`);
    folders.set(folder, model.name!);
  }
}

/** Validates the whole configuration and returns it frozen. */
export function validateAppConfig(config: AppConfig): AppConfig {
  matching('config', 'project', config.project, PROJECT, '2 to 16 lowercase letters, digits and "-", starting with a letter');
  matching('config', 'state.bucket', config.state.bucket, BUCKET, 'an S3 bucket name: 3 to 63 lowercase letters, digits, dots and hyphens');
  matching('config', 'state.region', config.state.region, REGION, 'an AWS region such as "us-east-1"');
  matching('config', 'github.repository', config.github.repository, REPOSITORY, '"owner/name" of a GitHub repository');
  matching('config', 'github.branch', config.github.branch, BRANCH, 'one branch name such as "main" (no wildcards)');
  if (config.environments.length === 0) fail('config', 'environments', config.environments, 'one or more environments');
  const names = new Set<string>();
  const repositories = new Set<string>();
  for (const environment of config.environments) {
    validateEnvironment(environment);
    if (names.has(environment.name)) fail('config', 'environments[].name', environment.name, 'a name used by one environment only');
    names.add(environment.name);
    for (const model of environment.models ?? []) {
      const functionName = modelServiceNames(config.project, environment.name, model.name).functionName;
      if (!FUNCTION_NAME_PATTERN.test(functionName)) {
        fail(`environments[${environment.name}]`, 'models[].name', model.name, `a shorter name: the function would be ${functionName} (${functionName.length} characters), and Lambda takes ${FUNCTION_NAME_RULE}`);
      }
    }
    const { repositoryName } = imageSettings(config.project, environment);
    if (repositories.has(repositoryName)) {
      fail(`environments[${environment.name}]`, 'image.repositoryName', repositoryName, 'a repository used by one environment only (each keeps its own images and lifecycle)');
    }
    repositories.add(repositoryName);
  }
  return deepFreeze(structuredClone(config));
}

/**
 * The configuration `npm run synth` uses: DEFAULT_CONFIG, with every environment's `distDir` replaced by
 * `INFRA_DIST_DIR` when that is set (CI and tests point synth at a build elsewhere without editing this file).
 */
export function loadAppConfig(env: Readonly<Record<string, string | undefined>> = process.env): AppConfig {
  const distDir = env['INFRA_DIST_DIR']?.trim();
  const config: AppConfig =
    distDir === undefined || distDir === ''
      ? DEFAULT_CONFIG
      : { ...DEFAULT_CONFIG, environments: DEFAULT_CONFIG.environments.map((e) => ({ ...e, distDir })) };
  return validateAppConfig(config);
}

function deepFreeze<T>(value: T): T {
  if (typeof value === 'object' && value !== null) {
    for (const child of Object.values(value)) deepFreeze(child);
    Object.freeze(value);
  }
  return value;
}
