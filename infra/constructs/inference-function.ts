import { CloudwatchLogGroup } from '@cdktf/provider-aws/lib/cloudwatch-log-group/index.js';
import { DataAwsIamPolicyDocument, type DataAwsIamPolicyDocumentStatement } from '@cdktf/provider-aws/lib/data-aws-iam-policy-document/index.js';
import { IamRole } from '@cdktf/provider-aws/lib/iam-role/index.js';
import { IamRolePolicy } from '@cdktf/provider-aws/lib/iam-role-policy/index.js';
import { LambdaFunction } from '@cdktf/provider-aws/lib/lambda-function/index.js';
import { Annotations, AssetType, TerraformAsset } from 'cdktf';
import { Construct } from 'constructs';
import { FUNCTION_NAME_PATTERN, FUNCTION_NAME_RULE, lambdaLogGroup } from '../../functions/contract/aws-names.js';
import {
  DEFAULT_INTRA_OP_THREADS,
  DEFAULT_LOG_LEVEL,
  DEFAULT_METRICS_NAMESPACE,
  DEFAULT_MODEL_FILE,
  ENV,
  LAMBDA_ENV,
  LOG_LEVELS,
  MAX_INTRA_OP_THREADS,
  METRICS_NAMESPACE_PATTERN,
  METRICS_NAMESPACE_RULE,
  type LogLevel,
} from '../../functions/contract/env.js';
import { LAMBDA_LIMITS, MB, MODEL_TMP_SHARE } from '../../functions/contract/lambda-limits.js';
import { MEMORY_FLOOR_FILE } from '../../functions/contract/build-record.js';
import { base64Sha256, type DeployableBuild, type ModelArtifact } from '../build-record.js';
import { skipCheck } from '../checkov.js';
import { fail, KMS_KEY_ARN, logRetention, matching, ONE_YEAR_DAYS, oneOf, wholeNumber } from '../validators.js';
import type { StoredModel } from './model-store.js';

export interface InferenceFunctionProps {
  /**
   * The build to deploy: its function zip, handler, runtime (npm run build's default is nodejs24.x; nodejs22.x with
   * `--runtime`), architecture and model.
   */
  readonly build: DeployableBuild;
  /** The function's name; its log group is `/aws/lambda/<functionName>`. */
  readonly functionName: string;
  /**
   * The execution role's name.
   * @default the function's name
   */
  readonly roleName?: string;
  /**
   * Layer version ARNs, in order (the runtime layer first); more with `addLayer`. Refused for an image build: Lambda
   * attaches no layers to container images (the image holds onnxruntime).
   * @default none
   */
  readonly layers?: readonly string[];
  /**
   * The image to run when the build is a container image (build.json's model.packaging "image"): the repository URL
   * and the build's content sha256 as the tag (`imageUri` in image-repository.ts). Required then, refused otherwise.
   * @default none: the build's function zip
   */
  readonly imageUri?: string | undefined;
  /**
   * Where the model lives when the build packaged it for S3 (`ModelStore.addModel`); required then, refused otherwise.
   * @default none: the model ships in the function zip
   */
  readonly model?: StoredModel | undefined;
  /**
   * Memory in MB; Lambda gives CPU in proportion (one full vCPU at 1769 MB).
   * @default 1024
   */
  readonly memorySizeMb?: number;
  /**
   * Timeout in seconds. Behind API Gateway a request waits at most 30 s whatever this says.
   * @default 30
   */
  readonly timeoutSeconds?: number;
  /**
   * `/tmp` size in MB. A model from S3 is downloaded there at init and may take at most 80% of it (the build's rule).
   * @default sized from the model: the smallest size (at least 512) that holds an S3 model; 512 for a zipped model
   */
  readonly ephemeralStorageMb?: number | undefined;
  /**
   * Days the function's log group keeps its logs (EMF metrics are extracted on arrival, so they are unaffected).
   * @default 30
   */
  readonly logRetentionDays?: number;
  /**
   * KMS key ARN that encrypts the function's log group; its key policy must let `logs.<region>.amazonaws.com` use it.
   * @default none: CloudWatch Logs' own encryption at rest
   */
  readonly logsKmsKeyArn?: string | undefined;
  /**
   * The function's LOG_LEVEL.
   * @default DEFAULT_LOG_LEVEL ("info")
   */
  readonly logLevel?: LogLevel;
  /**
   * CloudWatch namespace of the function's EMF metrics (METRICS_NAMESPACE); alarms and dashboards read it.
   * @default DEFAULT_METRICS_NAMESPACE, the function's own default
   */
  readonly metricsNamespace?: string;
  /**
   * onnxruntime intra-op threads (ORT_INTRA_OP_THREADS); more than 1 pays only for large models on large functions.
   * @default 1
   */
  readonly intraOpThreads?: number;
  /**
   * Reserved concurrency: a ceiling for this function and a floor taken from the account's pool. 0 stops it.
   * @default none (the function shares the account's unreserved concurrency)
   */
  readonly reservedConcurrency?: number | undefined;
  /**
   * More environment variables; the ones this construct sets itself, and Lambda's reserved ones, are refused.
   * @default none
   */
  readonly environment?: Readonly<Record<string, string>>;
}

const ROLE_NAME = /^[\w+=,.@-]{1,64}$/;
const ENV_NAME = /^[A-Za-z][A-Za-z0-9_]*$/;

/** Variables this construct owns (the function reads them; NODE_OPTIONS is Node's), and those Lambda reserves. */
const OWN_VARIABLES: readonly string[] = [
  ENV.MODEL_DIR, ENV.MODEL_FILE, ENV.MODEL_BUCKET, ENV.MODEL_KEY, ENV.MODEL_VERSION_ID, ENV.MODEL_SHA256, ENV.MODEL_DOWNLOAD_DIR,
  ENV.METRICS_NAMESPACE, ENV.LOG_LEVEL, ENV.ORT_INTRA_OP_THREADS, 'NODE_OPTIONS',
];
const LAMBDA_RESERVED: readonly string[] = [
  ...Object.values(LAMBDA_ENV), '_HANDLER', '_X_AMZN_TRACE_ID', 'AWS_DEFAULT_REGION', 'AWS_REGION', 'AWS_EXECUTION_ENV',
  'AWS_LAMBDA_INITIALIZATION_TYPE', 'AWS_LAMBDA_LOG_GROUP_NAME', 'AWS_LAMBDA_LOG_STREAM_NAME', 'AWS_ACCESS_KEY', 'AWS_ACCESS_KEY_ID',
  'AWS_SECRET_ACCESS_KEY', 'AWS_SESSION_TOKEN', 'AWS_LAMBDA_RUNTIME_API', 'LAMBDA_RUNTIME_DIR',
];

/**
 * The smallest `/tmp` (MB) that holds the model under the build's rule (the model takes at most 80% of it): the
 * 512 MB minimum for a model in the zip, which never touches `/tmp`.
 */
export function requiredEphemeralStorageMb(model: ModelArtifact): number {
  if (model.packaging !== 's3') return LAMBDA_LIMITS.minEphemeralMb;
  return Math.max(LAMBDA_LIMITS.minEphemeralMb, Math.ceil(model.bytes / MODEL_TMP_SHARE / MB));
}

/** An image URI in a private ECR registry, tagged by the build's content sha256. */
const IMAGE_URI = /^\d{12}\.dkr\.ecr\.[a-z0-9-]+\.amazonaws\.com(?:\.cn)?\/[a-z0-9._/-]+:([0-9a-f]{64})$/;

/**
 * The inference function: the build's zip on the build's runtime and architecture (or, for an image build, the
 * container image with `package_type = "Image"`, whose base image brings the runtime), a published version per change
 * (`publish = true`; the rollout moves the `live` alias between versions), X-Ray tracing, its own log group with
 * retention, and an execution role allowed exactly: writing to that log group, X-Ray segments, and reading its one
 * model object version (plus kms:Decrypt when the model store uses a KMS key).
 */
export class InferenceFunction extends Construct {
  readonly function: LambdaFunction;
  readonly role: IamRole;
  readonly logGroup: CloudwatchLogGroup;
  readonly functionName: string;
  readonly reservedConcurrency: number | undefined;
  readonly metricsNamespace: string;
  readonly timeoutSeconds: number;
  private readonly layers: string[];
  /** The function runs a container image, which takes no layers. */
  private readonly image: boolean;
  private readonly variables: Record<string, string>;

  constructor(scope: Construct, id: string, props: InferenceFunctionProps) {
    super(scope, id);
    const { build } = props;
    this.functionName = matching(this, 'functionName', props.functionName, FUNCTION_NAME_PATTERN, FUNCTION_NAME_RULE);
    const roleName = matching(this, 'roleName', props.roleName ?? props.functionName, ROLE_NAME, '1 to 64 letters, digits and +=,.@_-');
    const memorySize = wholeNumber(this, 'memorySizeMb', props.memorySizeMb ?? 1024, LAMBDA_LIMITS.minMemoryMb, LAMBDA_LIMITS.maxMemoryMb, 'MB');
    this.timeoutSeconds = wholeNumber(this, 'timeoutSeconds', props.timeoutSeconds ?? 30, LAMBDA_LIMITS.minTimeoutSeconds, LAMBDA_LIMITS.maxTimeoutSeconds, 'seconds');
    const floor = build.model.memoryFloorMb;
    if (floor !== undefined && memorySize < floor) {
      Annotations.of(this).addWarning(
        `memorySizeMb is ${memorySize}, under the memory floor of ${build.model.name}@${build.model.version}: its largest allowed request (maxBatch rows) completed only from ${floor} MB ` +
          `(npm run tune -- --floor, the bundle's ${MEMORY_FLOOR_FILE}); raise memorySizeMb to at least ${floor}, or lower the bundle's maxBatch`,
      );
    }
    const ephemeralStorage = this.ephemeralStorage(build.model, props.ephemeralStorageMb);
    const retention = logRetention(this, 'logRetentionDays', props.logRetentionDays ?? 30);
    const logLevel = oneOf(this, 'logLevel', props.logLevel ?? DEFAULT_LOG_LEVEL, LOG_LEVELS);
    this.metricsNamespace = matching(this, 'metricsNamespace', props.metricsNamespace ?? DEFAULT_METRICS_NAMESPACE, METRICS_NAMESPACE_PATTERN, METRICS_NAMESPACE_RULE);
    const threads = wholeNumber(this, 'intraOpThreads', props.intraOpThreads ?? DEFAULT_INTRA_OP_THREADS, 1, MAX_INTRA_OP_THREADS, 'threads');
    this.reservedConcurrency =
      props.reservedConcurrency === undefined ? undefined : wholeNumber(this, 'reservedConcurrency', props.reservedConcurrency, 0, 10_000, 'concurrent executions');
    const model = this.checkModel(build.model, props.model);

    this.variables = {
      NODE_OPTIONS: '--enable-source-maps',
      [ENV.METRICS_NAMESPACE]: this.metricsNamespace,
      [ENV.LOG_LEVEL]: logLevel,
      [ENV.ORT_INTRA_OP_THREADS]: String(threads),
      // A zipped model is covered by the zip's own hash; checking it again would load node:crypto at every cold start.
      // A packaged model.ort is named, though the function would find it without: the configuration says what runs.
      ...(model === undefined
        ? build.model.shippedName === DEFAULT_MODEL_FILE
          ? {}
          : { [ENV.MODEL_FILE]: build.model.shippedName }
        : { [ENV.MODEL_BUCKET]: model.bucketName, [ENV.MODEL_KEY]: model.key, [ENV.MODEL_VERSION_ID]: model.versionId, [ENV.MODEL_SHA256]: model.sha256 }),
    };
    for (const [name, value] of Object.entries(props.environment ?? {})) this.checkVariable(name, value);
    Object.assign(this.variables, props.environment ?? {});
    this.layers = [...(props.layers ?? [])];
    const image = this.checkImage(build, props.imageUri);
    this.image = image !== undefined;

    const logsKey =
      props.logsKmsKeyArn === undefined ? undefined : matching(this, 'logsKmsKeyArn', props.logsKmsKeyArn, KMS_KEY_ARN, 'a KMS key ARN (arn:aws:kms:<region>:<account>:key/<id>)');
    this.logGroup = new CloudwatchLogGroup(this, 'logs', {
      name: lambdaLogGroup(this.functionName),
      retentionInDays: retention,
      ...(logsKey === undefined ? {} : { kmsKeyId: logsKey }),
    });
    if (logsKey === undefined) {
      skipCheck(this.logGroup, 'CKV_AWS_158', 'The function logs model loads, errors with request ids and EMF metrics, never request bodies or secrets, and CloudWatch Logs encrypts them at rest; logsKmsKeyArn sets a customer-managed key where policy demands one');
    }
    if (retention < ONE_YEAR_DAYS) {
      skipCheck(this.logGroup, 'CKV_AWS_338', `Retention is configured per environment (logRetentionDays, ${retention} days here): EMF metrics, alarms and dashboards do not depend on it, so keeping logs a year is a compliance choice, not a rule`);
    }

    const assume = new DataAwsIamPolicyDocument(this, 'assume-role', {
      statement: [{ effect: 'Allow', actions: ['sts:AssumeRole'], principals: [{ type: 'Service', identifiers: ['lambda.amazonaws.com'] }] }],
    });
    this.role = new IamRole(this, 'role', {
      name: roleName,
      description: `Execution role of the ${this.functionName} Lambda function`,
      assumeRolePolicy: assume.json,
    });
    const permissions = new DataAwsIamPolicyDocument(this, 'permissions', { statement: this.statements(model) });
    const policy = new IamRolePolicy(this, 'policy', { name: 'inference', role: this.role.id, policy: permissions.json });

    const zip = build.functionZip;
    // An image carries its handler (CMD) and runtime (the base image); a zip names them, and its layers.
    const code =
      zip === undefined
        ? { packageType: 'Image', ...(image === undefined ? {} : { imageUri: image }) }
        : {
            handler: build.handler,
            runtime: build.runtime,
            filename: new TerraformAsset(this, 'zip', { path: zip.path, type: AssetType.FILE, assetHash: zip.sha256 }).path,
            sourceCodeHash: base64Sha256(zip.sha256),
            layers: [...this.layers],
          };
    this.function = new LambdaFunction(this, 'function', {
      functionName: this.functionName,
      description: `${build.model.name}@${build.model.version} on onnxruntime-node (${build.arch}${zip === undefined ? ', container image' : ''})`,
      role: this.role.arn,
      architectures: [build.arch],
      ...code,
      memorySize,
      timeout: this.timeoutSeconds,
      ephemeralStorage: { size: ephemeralStorage },
      environment: { variables: { ...this.variables } },
      tracingConfig: { mode: 'Active' },
      loggingConfig: { logFormat: 'Text', logGroup: this.logGroup.name },
      publish: true,
      ...(this.reservedConcurrency === undefined ? {} : { reservedConcurrentExecutions: this.reservedConcurrency }),
      // The role's permissions are a separate resource; without this the first cold start could race them and fail
      // to log. (The one depends_on here: cdktf's HCL writes it quoted, which Terraform accepts with a warning.)
      dependsOn: [policy],
    });
    skipCheck(this.function, 'CKV_AWS_116', 'Callers invoke the live alias synchronously (API Gateway or the Function URL) and get the prediction in the answer; the alias\'s event invoke config drops a failed or stale asynchronous event (no retries, at most 60 s old by default, LiveAlias asyncInvoke): nobody waits for the prediction of an asynchronous event, so a DLQ would hold requests no one needs answered');
    skipCheck(this.function, 'CKV_AWS_117', 'The function reaches only S3 (its model), CloudWatch and X-Ray, through public AWS endpoints with IAM; it has no private resources, and a VPC would add ENI setup to cold starts and NAT gateway or VPC endpoint cost');
    if (this.reservedConcurrency === undefined) {
      skipCheck(this.function, 'CKV_AWS_115', 'reservedConcurrency is set per environment and unset here: a reservation takes capacity from the account\'s pool (and fails on accounts with the default low quota), while the API stage\'s throttling already bounds the load');
    }
    skipCheck(
      this.function,
      'CKV_AWS_272',
      zip === undefined
        ? 'Lambda does not support code signing for container images; the image is pinned instead: its tag is the content sha256 of the files build.json lists, in a repository with immutable tags, pushed by the same workflow'
        : 'The deploy uploads the zip built in the same workflow, pinned by the sha256 in build.json (source_code_hash); enforcing code signing would need an AWS Signer profile and a signing step for the function and its layer that the build does not have',
    );
    skipCheck(this.function, 'CKV_AWS_173', 'The environment holds only non-secret settings (METRICS_NAMESPACE, LOG_LEVEL, the model file name, bucket, key, version id and sha256), which Lambda encrypts at rest with its own key; secrets belong in Secrets Manager, not here');

    this.node.addValidation({
      validate: () =>
        this.layers.length > LAMBDA_LIMITS.layers
          ? [`layers has ${this.layers.length} layer versions; allowed: at most ${LAMBDA_LIMITS.layers} (Lambda's limit). Merge layers or drop one`]
          : [],
    });
  }

  /** Attaches another layer version after the ones given in props (zip builds only: images take no layers). */
  addLayer(arn: string): void {
    if (this.image) fail(this, 'layers', arn, 'no layers: Lambda attaches none to a container image; put what the layer holds into the image');
    this.layers.push(arn);
    this.function.layers = [...this.layers];
  }

  /** Sets another environment variable; the construct's own and Lambda's reserved names are refused. */
  addEnvironment(name: string, value: string): void {
    this.checkVariable(name, value);
    this.variables[name] = value;
    this.function.putEnvironment({ variables: { ...this.variables } });
  }

  /** The function's unqualified name, for permissions and aliases. */
  get name(): string {
    return this.function.functionName;
  }

  /** The version this deployment published (`publish = true`): what the rollout moves the alias to. */
  get version(): string {
    return this.function.version;
  }

  private ephemeralStorage(model: ModelArtifact, requested: number | undefined): number {
    const required = requiredEphemeralStorageMb(model);
    if (required > LAMBDA_LIMITS.maxEphemeralMb) {
      fail(this, 'model.bytes', model.bytes, `at most ${Math.floor(LAMBDA_LIMITS.maxEphemeralMb * MB * MODEL_TMP_SHARE)} bytes (${MODEL_TMP_SHARE * 100}% of the largest /tmp, ${LAMBDA_LIMITS.maxEphemeralMb} MB)`, 'Quantize or shrink the model');
    }
    if (requested === undefined) return required;
    const reason =
      model.packaging === 's3'
        ? `: the model ${model.name}@${model.version} (${(model.bytes / MB).toFixed(1)} MB) is downloaded to /tmp at init and may take at most ${MODEL_TMP_SHARE * 100}% of it`
        : '';
    if (!Number.isInteger(requested) || requested < required || requested > LAMBDA_LIMITS.maxEphemeralMb) {
      fail(this, 'ephemeralStorageMb', requested, `a whole number of MB from ${required} to ${LAMBDA_LIMITS.maxEphemeralMb}${reason}`);
    }
    return requested;
  }

  private checkImage(build: DeployableBuild, uri: string | undefined): string | undefined {
    if (build.image === undefined) {
      if (uri !== undefined) fail(this, 'imageUri', uri, 'unset, because build.json packages a function zip (model.packaging "zip" or "s3")');
      return undefined;
    }
    if (uri === undefined) fail(this, 'imageUri', uri, `the image's URI in ECR, tagged ${build.image.sha256} (build.json's image.sha256), because build.json packages a container image`);
    const tag = IMAGE_URI.exec(uri)?.[1];
    if (tag === undefined) fail(this, 'imageUri', uri, '<account>.dkr.ecr.<region>.amazonaws.com/<repository>:<64 hex digits>, an ECR image tagged by content sha256');
    if (tag !== build.image.sha256) fail(this, 'imageUri', uri, `a tag of "${build.image.sha256}", build.json's image.sha256 (deploy the image this build made)`);
    if (this.layers.length > 0) fail(this, 'layers', this.layers, 'none: Lambda attaches no layers to a container image, which holds onnxruntime itself');
    return uri;
  }

  private checkModel(model: ModelArtifact, stored: StoredModel | undefined): StoredModel | undefined {
    if (model.packaging === 's3' && stored === undefined) {
      fail(this, 'model', stored, 'the StoredModel from ModelStore.addModel, because build.json packages the model for S3');
    }
    if (model.packaging !== 's3' && stored !== undefined) {
      fail(this, 'model', stored.key, `unset, because build.json packages the model in the ${model.packaging === 'image' ? 'container image' : 'function zip'}`);
    }
    if (stored !== undefined && stored.sha256 !== model.shippedSha256) {
      fail(this, 'model.sha256', stored.sha256, `"${model.shippedSha256}", the sha256 of the ${model.shippedName} in build.json (upload the model this build packaged)`);
    }
    return stored;
  }

  private checkVariable(name: string, value: string): void {
    matching(this, `environment.${name}`, name, ENV_NAME, 'a name of letters, digits and "_", starting with a letter');
    if (OWN_VARIABLES.includes(name) || LAMBDA_RESERVED.includes(name)) {
      fail(this, `environment.${name}`, value, `a variable other than ${name}, which ${OWN_VARIABLES.includes(name) ? 'this construct sets from its props' : 'Lambda reserves'}`);
    }
  }

  private statements(model: StoredModel | undefined): DataAwsIamPolicyDocumentStatement[] {
    const statements: DataAwsIamPolicyDocumentStatement[] = [
      { sid: 'WriteOwnLogs', effect: 'Allow', actions: ['logs:CreateLogStream', 'logs:PutLogEvents'], resources: [`${this.logGroup.arn}:*`] },
      // X-Ray has no resource-level permissions; these two actions are what the Lambda service's tracing needs.
      { sid: 'Tracing', effect: 'Allow', actions: ['xray:PutTraceSegments', 'xray:PutTelemetryRecords'], resources: ['*'] },
    ];
    if (model !== undefined) {
      // GetObject with a versionId is authorized by s3:GetObjectVersion; the function always pins the version.
      statements.push({ sid: 'ReadModel', effect: 'Allow', actions: ['s3:GetObject', 's3:GetObjectVersion'], resources: [`${model.bucketArn}/${model.key}`] });
      if (model.kmsKeyArn !== undefined) {
        statements.push({ sid: 'DecryptModel', effect: 'Allow', actions: ['kms:Decrypt'], resources: [model.kmsKeyArn] });
      }
    }
    return statements;
  }
}
