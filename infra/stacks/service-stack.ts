import { AwsProvider } from '@cdktf/provider-aws/lib/provider/index.js';
import { S3Backend, TerraformOutput, TerraformStack } from 'cdktf';
import { Construct } from 'constructs';
import { LIVE_ALIAS, serviceNames } from '../../functions/contract/aws-names.js';
import { readBuildRecord, zipBuild, type DeployableBuild } from '../build-record.js';
import { modelDeployments, validateEnvironment, type AppConfig, type EnvironmentConfig, type ModelDeployment } from '../config.js';
import { AlarmTopic } from '../constructs/alarms.js';
import { CapturePipeline } from '../constructs/capture-pipeline.js';
import { Dashboard } from '../constructs/dashboard.js';
import { ModelStore, type StoredModel } from '../constructs/model-store.js';
import { RuntimeLayer } from '../constructs/runtime-layer.js';
import { fail } from '../validators.js';
import { serveModel } from './served-model.js';

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
 * One environment of the service: its model store, runtime layer, dashboard and, per model it serves (the build in
 * `distDir`, or each of `models`), a function, `live` alias and endpoint with alarms (infra/stacks/served-model.ts),
 * and, when a model captures predictions, the capture pipeline, with its state in the bootstrap stack's bucket (S3
 * backend, S3-native locking).
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

    const deployments = modelDeployments(env);
    const builds = deployments.map((model) =>
      readBuildRecord(model.distDir, {
        arch: env.arch,
        runtime: env.runtime,
        where: model.name === undefined ? `environments[${env.name}]` : `environments[${env.name}].models[${model.name}]`,
        allowMissingGolden: env.allowMissingGolden === true,
      }),
    );

    const store = new ModelStore(this, 'model-store', { bucketPrefix: names.modelBucketPrefix });
    const layer = this.runtimeLayer(builds, deployments, names.layerName);
    const stored = new Map<string, StoredModel>();
    const serve = (i: number, topic: { readonly topicArn?: string; readonly topicPrefix?: string }) => {
      const model = deployments[i]!;
      const build = builds[i]!;
      let object;
      if (build.model.packaging === 's3') {
        // Two listed models may deploy the same bundle: one object serves both. The store keys an object by the
        // model's name and version, so two different files under one name and version cannot share it.
        const key = `${build.model.name}@${build.model.version}`;
        const earlier = stored.get(key);
        if (earlier !== undefined && earlier.sha256 !== build.model.shippedSha256) {
          fail(this, `models[${model.name ?? ''}].distDir`, model.distDir, `a build whose model ${key} is the file the other model deploying ${key} ships (sha256 ${earlier.sha256.slice(0, 12)}), not another (${build.model.shippedSha256.slice(0, 12)})`, 'Give the bundles different names or versions in model.json');
        }
        object = earlier ?? store.addModel(build.model);
        stored.set(key, object);
      }
      return serveModel(model.keepsEnvironmentFunction ? this : new Construct(this, `model-${model.name}`), {
        project: props.project,
        environment: env,
        model,
        build,
        layerArn: build.image === undefined ? layer?.arn : undefined,
        storedModel: object,
        topicArn: topic.topicArn,
        topicPrefix: topic.topicPrefix,
      });
    };
    // The model that keeps the environment's function keeps its alarm topic too (its Alarms' own, under the
    // environment's name, with its subscriptions), and the other models notify it. Without one, a listed model's
    // alarms share the environment's AlarmTopic, so subscribers confirm once.
    const kept = deployments.findIndex((model) => model.keepsEnvironmentFunction);
    const keeper = kept < 0 ? undefined : serve(kept, env.models === undefined ? {} : { topicPrefix: names.alarmPrefix });
    const topicArn = keeper?.alarms.topicArn ?? new AlarmTopic(this, 'alarm-topic', { prefix: names.alarmPrefix, subscribers: env.alarmSubscribers }).topicArn;
    const served = deployments.map((_, i) => (i === kept ? keeper! : serve(i, { topicArn })));

    // One pipeline for the environment, collecting from every model that captures (a sample rate above 0).
    const capturing = served.filter((s) => s.model.captureSampleRate > 0);
    const capture =
      capturing.length === 0
        ? undefined
        : new CapturePipeline(this, 'capture', {
            bucketPrefix: names.captureBucketPrefix,
            streamName: names.captureStreamName,
            logsRoleName: names.captureLogsRoleName,
            deliveryRoleName: names.captureDeliveryRoleName,
            region: env.region,
            accountId: env.accountId,
            // The kept function's filter keeps the address it had before the environment listed models.
            sources: capturing.map((s) => ({ id: s.model.keepsEnvironmentFunction ? 'function' : s.model.name!, logGroupName: s.fn.logGroup.name, logGroupArn: s.fn.logGroup.arn })),
            retentionDays: env.capture?.retentionDays,
            kmsKeyArn: env.capture?.kmsKeyArn,
            bufferSeconds: env.capture?.bufferSeconds,
            logRetentionDays: env.logRetentionDays,
            logsKmsKeyArn: env.logsKmsKeyArn,
          });

    const alarmArns = served.flatMap((s) => s.alarms.alarmNames).map((name) => `arn:${partition(env.region)}:cloudwatch:${env.region}:${env.accountId}:alarm:${name}`);
    const dashboard = new Dashboard(this, 'dashboard', {
      name: names.dashboardName,
      region: env.region,
      functionName: served[0]!.names.functionName,
      ...(env.models === undefined ? {} : { models: served.map((s) => ({ name: s.model.name!, functionName: s.names.functionName })) }),
      aliasName: LIVE_ALIAS,
      metricsNamespace: env.metricsNamespace,
      // Written out rather than referenced: the body then holds no Terraform references, which cdktf's HCL output
      // would mangle inside a JSON string.
      alarmArns,
    });

    const output = (id: string, value: string, description: string) => new TerraformOutput(this, id, { value, description });
    if (env.models === undefined) {
      const only = served[0]!;
      output('endpoint_url', only.endpoint.url, 'Base URL of the inference endpoint');
      output('function_name', only.fn.functionName, 'The inference function (npm run rollout -- --function)');
      output('function_version', only.fn.version, 'The version this apply published: the rollout target (--to)');
      output('alias_name', only.alias.name, 'The serving alias (npm run rollout -- --alias)');
      output('alarm_prefix', names.alarmPrefix, 'Prefix of this environment\'s alarm names (npm run rollout -- --alarm-prefix)');
      output('alarm_topic_arn', only.alarms.topicArn, 'SNS topic the alarms notify (alarmSubscribers in infra/config.ts subscribe to it)');
      if (only.imageUri !== undefined) output('image_uri', only.imageUri, 'The container image the function runs (the deploy workflow pushed it before this apply)');
      if (only.provisioned !== undefined) {
        output('scalable_target_resource_id', only.provisioned.resourceId, 'Application Auto Scaling resource id of the alias\'s provisioned concurrency (service namespace lambda)');
      }
    } else {
      output('alarm_topic_arn', topicArn, 'SNS topic every model\'s alarms notify (alarmSubscribers in infra/config.ts subscribe to it)');
    }
    // Every model the environment serves, the single one included, by the same keys: the deploy workflow rolls out
    // each of them.
    new TerraformOutput(this, 'models', {
      value: Object.fromEntries(served.map((s) => [s.model.name ?? s.build.model.name, s.outputs()])),
      description: 'Per model (its name in models, or the single model\'s own name): endpoint_url, function_name, function_version (the rollout target), alias_name, alarm_prefix, image_uri for an image',
    });
    output('metrics_namespace', env.metricsNamespace, 'CloudWatch namespace of the function\'s EMF metrics');
    output('model_bucket', store.bucket.name, 'Bucket holding model artifacts packaged for S3');
    output('dashboard_url', dashboard.consoleUrl, 'The CloudWatch dashboard of this environment');
    if (capture !== undefined) {
      output('capture_bucket', capture.bucketName, 'Bucket of the prediction captures, under captures/model=<name>@<version>/date=<yyyy-MM-dd>/ (npm run drift -- s3://<bucket>/captures/)');
      output('capture_stream', capture.streamName, 'Firehose stream that carries the capture log lines to capture_bucket');
    }
  }

  /**
   * One runtime layer for the environment, published from the first zip build: every zip build of one architecture and
   * runtime carries the same layer zip, byte for byte. Builds whose layers differ (made by different versions of the
   * project) are refused, so no model runs on a runtime it was not built with.
   */
  private runtimeLayer(builds: readonly DeployableBuild[], deployments: readonly ModelDeployment[], layerName: string): RuntimeLayer | undefined {
    const zips = builds.flatMap((build, i) => (build.image === undefined ? [{ build: zipBuild(build, this.node.path), model: deployments[i]! }] : []));
    const first = zips[0];
    if (first === undefined) return undefined;
    for (const other of zips.slice(1)) {
      if (other.build.layerZip.sha256 !== first.build.layerZip.sha256) {
        fail(
          this,
          `models[${other.model.name ?? ''}].distDir`,
          other.model.distDir,
          `a build whose runtime layer is that of ${first.model.distDir} (sha256 ${first.build.layerZip.sha256.slice(0, 12)}, not ${other.build.layerZip.sha256.slice(0, 12)})`,
          'Rebuild every model of the environment with the same checkout: npm run build',
        );
      }
    }
    return new RuntimeLayer(this, 'runtime-layer', { build: first.build, layerName });
  }
}
