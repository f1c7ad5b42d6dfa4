/**
 * The resources of one model in an environment, wired together: its function, `live` alias, provisioned concurrency,
 * endpoint and alarms. The service stack calls it once per model, in the stack itself for the model that keeps the
 * environment's function (the single model, or the listed one that says so: its resources keep the addresses and
 * names they had before the environment listed models) and in a scope of its own, `model-<name>`, for each other.
 */
import type { Construct } from 'constructs';
import { LIVE_ALIAS, type ServiceNames } from '../../functions/contract/aws-names.js';
import { ENV } from '../../functions/contract/env.js';
import type { DeployableBuild } from '../build-record.js';
import { deploymentNames, imageSettings, type EnvironmentConfig, type ModelDeployment } from '../config.js';
import { Alarms } from '../constructs/alarms.js';
import { FunctionUrlEndpoint } from '../constructs/function-url.js';
import { HttpEndpoint } from '../constructs/http-endpoint.js';
import { imageUri } from '../constructs/image-repository.js';
import { InferenceFunction } from '../constructs/inference-function.js';
import { LiveAlias } from '../constructs/live-alias.js';
import type { StoredModel } from '../constructs/model-store.js';
import { ProvisionedConcurrency } from '../constructs/provisioned-concurrency.js';

export interface ServedModelProps {
  readonly project: string;
  readonly environment: EnvironmentConfig;
  readonly model: ModelDeployment;
  readonly build: DeployableBuild;
  /** The environment's runtime layer; undefined for an image, which carries onnxruntime. */
  readonly layerArn: string | undefined;
  /** The model store's object, for a model packaged for S3. */
  readonly storedModel: StoredModel | undefined;
  /** The environment's shared alarm topic; undefined: the Alarms construct creates its own. */
  readonly topicArn: string | undefined;
  /** Start of the name of the topic the Alarms construct creates, where it is not the alarms' prefix. @default the alarm prefix */
  readonly topicPrefix?: string | undefined;
}

export interface ServedModel {
  readonly model: ModelDeployment;
  readonly build: DeployableBuild;
  readonly names: ServiceNames;
  readonly fn: InferenceFunction;
  readonly alias: LiveAlias;
  readonly provisioned: ProvisionedConcurrency | undefined;
  readonly endpoint: HttpEndpoint | FunctionUrlEndpoint;
  readonly alarms: Alarms;
  readonly imageUri: string | undefined;
  /** What the stack's `models` output says of this model. */
  outputs(): Record<string, string>;
}

export function serveModel(scope: Construct, props: ServedModelProps): ServedModel {
  const { environment: env, model, build } = props;
  const names = deploymentNames(props.project, env.name, model);
  // An image holds onnxruntime and the model: no layer. Its repository is the bootstrap stack's, where the deploy
  // workflow pushed the image (tagged by the build's content sha256) before this apply.
  const image =
    build.image === undefined
      ? undefined
      : imageUri({ accountId: env.accountId, region: env.region, repositoryName: imageSettings(props.project, env).repositoryName, tag: build.image.sha256 });
  const fn = new InferenceFunction(scope, 'function', {
    build,
    functionName: names.functionName,
    roleName: names.functionRoleName,
    layers: props.layerArn === undefined ? [] : [props.layerArn],
    imageUri: image,
    model: props.storedModel,
    memorySizeMb: model.memorySizeMb,
    timeoutSeconds: model.timeoutSeconds,
    ephemeralStorageMb: model.ephemeralStorageMb,
    logRetentionDays: env.logRetentionDays,
    logsKmsKeyArn: env.logsKmsKeyArn,
    logLevel: env.logLevel,
    metricsNamespace: env.metricsNamespace,
    reservedConcurrency: model.reservedConcurrency,
    // Capture off: no variable at all (the function's default is 0), so turning it on is the only change it shows.
    ...(model.captureSampleRate > 0 ? { environment: { [ENV.CAPTURE_SAMPLE_RATE]: String(model.captureSampleRate) } } : {}),
  });
  // The endpoint, alarms and dashboard use the live alias; the rollout shifts its weights.
  const alias = new LiveAlias(scope, 'live-alias', { fn, aliasName: LIVE_ALIAS, asyncInvoke: env.asyncInvoke });
  const provisioned = model.provisionedConcurrency === undefined ? undefined : new ProvisionedConcurrency(scope, 'provisioned-concurrency', { alias, ...model.provisionedConcurrency });
  const endpoint =
    env.endpoint.kind === 'http-api'
      ? new HttpEndpoint(scope, 'endpoint', {
          alias,
          apiName: names.apiName,
          authorization: env.endpoint.authorization,
          throttling: env.endpoint.throttling,
          accessLogRetentionDays: env.endpoint.accessLogRetentionDays,
          accessLogsKmsKeyArn: env.logsKmsKeyArn,
        })
      : new FunctionUrlEndpoint(scope, 'endpoint', { alias, authorization: env.endpoint.authorization });

  // Every alarm name starts with names.alarmPrefix: the rollout finds them by it. The model-aware alarms
  // (p99 InferenceLatency, low confidence) watch the model this apply deploys, and the per-version alarms the
  // version it publishes: both are what a canary serves.
  const alarms = new Alarms(scope, 'alarms', {
    prefix: names.alarmPrefix,
    functionName: names.functionName,
    aliasName: LIVE_ALIAS,
    metricsNamespace: env.metricsNamespace,
    modelVersion: `${build.model.name}@${build.model.version}`,
    functionVersion: fn.version,
    thresholds: model.alarms,
    ...(props.topicArn === undefined ? { subscribers: env.alarmSubscribers, topicPrefix: props.topicPrefix } : { topicArn: props.topicArn }),
  });
  return {
    model,
    build,
    names,
    fn,
    alias,
    provisioned,
    endpoint,
    alarms,
    imageUri: image,
    outputs: () => ({
      endpoint_url: endpoint.url,
      function_name: fn.functionName,
      function_version: fn.version,
      alias_name: alias.name,
      alarm_prefix: names.alarmPrefix,
      ...(image === undefined ? {} : { image_uri: image }),
    }),
  };
}
