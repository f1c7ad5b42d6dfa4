import { AwsProvider } from '@cdktf/provider-aws/lib/provider/index.js';
import { S3Backend, TerraformOutput, TerraformStack } from 'cdktf';
import type { Construct } from 'constructs';
import { LIVE_ALIAS, serviceNames } from '../../functions/contract/aws-names.js';
import { readBuildRecord } from '../build-record.js';
import { imageSettings, validateEnvironment, type AppConfig, type EnvironmentConfig } from '../config.js';
import { Alarms } from '../constructs/alarms.js';
import { Dashboard } from '../constructs/dashboard.js';
import { FunctionUrlEndpoint } from '../constructs/function-url.js';
import { HttpEndpoint } from '../constructs/http-endpoint.js';
import { imageUri } from '../constructs/image-repository.js';
import { InferenceFunction } from '../constructs/inference-function.js';
import { LiveAlias } from '../constructs/live-alias.js';
import { ModelStore } from '../constructs/model-store.js';
import { ProvisionedConcurrency } from '../constructs/provisioned-concurrency.js';
import { RuntimeLayer } from '../constructs/runtime-layer.js';

/** The ARN partition of a region. */
function partition(region: string): string {
  if (region.startsWith('cn-')) return 'aws-cn';
  if (region.startsWith('us-gov-')) return 'aws-us-gov';
  return 'aws';
}

export interface ServiceStackProps {
  /** Prefix of every resource name (AppConfig.project). */
  readonly project: string;
  /** Where Terraform keeps this environment's state (the bootstrap stack's bucket). */
  readonly state: AppConfig['state'];
  readonly environment: EnvironmentConfig;
}

/**
 * One environment of the service: the build in `distDir` deployed as model store, runtime layer, function, `live`
 * alias and endpoint, with its state in the bootstrap stack's bucket (S3 backend, S3-native locking).
 */
export class ServiceStack extends TerraformStack {
  constructor(scope: Construct, id: string, props: ServiceStackProps) {
    super(scope, id);
    const env = validateEnvironment(props.environment);
    const names = serviceNames(props.project, env.name);

    new AwsProvider(this, 'aws', {
      region: env.region,
      allowedAccountIds: [env.accountId],
      defaultTags: [{ tags: { Project: props.project, Environment: env.name, ManagedBy: 'cdktf' } }],
    });
    const backend = new S3Backend(this, { bucket: props.state.bucket, key: names.stateKey, region: props.state.region, encrypt: true });
    // S3-native state locking (Terraform 1.10+); cdktf 0.21's S3BackendConfig predates the option.
    backend.addOverride('use_lockfile', true);

    const build = readBuildRecord(env.distDir, { arch: env.arch, runtime: env.runtime, where: `environments[${env.name}]`, allowMissingGolden: env.allowMissingGolden === true });

    const store = new ModelStore(this, 'model-store', { bucketPrefix: names.modelBucketPrefix });
    const model = build.model.packaging === 's3' ? store.addModel(build.model) : undefined;
    // An image holds onnxruntime and the model: no layer. Its repository is the bootstrap stack's, where the deploy
    // workflow pushed the image (tagged by the build's content sha256) before this apply.
    const image =
      build.image === undefined
        ? undefined
        : imageUri({ accountId: env.accountId, region: env.region, repositoryName: imageSettings(props.project, env).repositoryName, tag: build.image.sha256 });
    const layer = build.image === undefined ? new RuntimeLayer(this, 'runtime-layer', { build, layerName: names.layerName }) : undefined;
    const fn = new InferenceFunction(this, 'function', {
      build,
      functionName: names.functionName,
      roleName: names.functionRoleName,
      layers: layer === undefined ? [] : [layer.arn],
      imageUri: image,
      model,
      memorySizeMb: env.memorySizeMb,
      timeoutSeconds: env.timeoutSeconds,
      ephemeralStorageMb: env.ephemeralStorageMb,
      logRetentionDays: env.logRetentionDays,
      logsKmsKeyArn: env.logsKmsKeyArn,
      logLevel: env.logLevel,
      metricsNamespace: env.metricsNamespace,
      reservedConcurrency: env.reservedConcurrency,
    });
    // The endpoint, alarms and dashboard use the live alias; the rollout shifts its weights.
    const alias = new LiveAlias(this, 'live-alias', { fn, aliasName: LIVE_ALIAS, asyncInvoke: env.asyncInvoke });
    const provisioned = env.provisionedConcurrency === undefined ? undefined : new ProvisionedConcurrency(this, 'provisioned-concurrency', { alias, ...env.provisionedConcurrency });
    const endpoint =
      env.endpoint.kind === 'http-api'
        ? new HttpEndpoint(this, 'endpoint', {
            alias,
            apiName: names.apiName,
            authorization: env.endpoint.authorization,
            throttling: env.endpoint.throttling,
            accessLogRetentionDays: env.endpoint.accessLogRetentionDays,
            accessLogsKmsKeyArn: env.logsKmsKeyArn,
          })
        : new FunctionUrlEndpoint(this, 'endpoint', { alias, authorization: env.endpoint.authorization });

    // Every alarm name starts with names.alarmPrefix: the rollout finds them by it. The model-aware alarms
    // (p99 InferenceLatency, low confidence) watch the model this apply deploys, and the per-version alarms the
    // version it publishes: both are what a canary serves.
    const alarms = new Alarms(this, 'alarms', {
      prefix: names.alarmPrefix,
      functionName: names.functionName,
      aliasName: LIVE_ALIAS,
      metricsNamespace: env.metricsNamespace,
      modelVersion: `${build.model.name}@${build.model.version}`,
      functionVersion: fn.version,
      thresholds: env.alarms,
      subscribers: env.alarmSubscribers,
    });
    const dashboard = new Dashboard(this, 'dashboard', {
      name: names.dashboardName,
      region: env.region,
      functionName: names.functionName,
      aliasName: LIVE_ALIAS,
      metricsNamespace: env.metricsNamespace,
      // Written out rather than referenced: the body then holds no Terraform references, which cdktf's HCL output
      // would mangle inside a JSON string.
      alarmArns: alarms.alarmNames.map((name) => `arn:${partition(env.region)}:cloudwatch:${env.region}:${env.accountId}:alarm:${name}`),
    });

    const output = (id: string, value: string, description: string) => new TerraformOutput(this, id, { value, description });
    output('endpoint_url', endpoint.url, 'Base URL of the inference endpoint');
    output('function_name', fn.functionName, 'The inference function (npm run rollout -- --function)');
    output('function_version', fn.version, 'The version this apply published: the rollout target (--to)');
    output('alias_name', alias.name, 'The serving alias (npm run rollout -- --alias)');
    output('alarm_prefix', names.alarmPrefix, 'Prefix of this environment\'s alarm names (npm run rollout -- --alarm-prefix)');
    output('metrics_namespace', fn.metricsNamespace, 'CloudWatch namespace of the function\'s EMF metrics');
    output('model_bucket', store.bucket.name, 'Bucket holding model artifacts packaged for S3');
    output('alarm_topic_arn', alarms.topicArn, 'SNS topic the alarms notify (alarmSubscribers in infra/config.ts subscribe to it)');
    output('dashboard_url', dashboard.consoleUrl, 'The CloudWatch dashboard of this environment');
    if (image !== undefined) output('image_uri', image, 'The container image the function runs (the deploy workflow pushed it before this apply)');
    if (provisioned !== undefined) {
      output('scalable_target_resource_id', provisioned.resourceId, 'Application Auto Scaling resource id of the alias\'s provisioned concurrency (service namespace lambda)');
    }
  }
}
