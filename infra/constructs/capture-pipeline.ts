/**
 * Where captured predictions go (issue 17, SPEC "Infrastructure": capture pipeline). The function writes a sampled
 * request's inputs and outputs as one log line of its own type (functions/contract/capture.ts), which costs no network
 * call on the request path; this construct routes those lines, and only those, from the functions' log groups to S3.
 */
import { CloudwatchLogGroup } from '@cdktf/provider-aws/lib/cloudwatch-log-group/index.js';
import { CloudwatchLogStream } from '@cdktf/provider-aws/lib/cloudwatch-log-stream/index.js';
import { CloudwatchLogSubscriptionFilter } from '@cdktf/provider-aws/lib/cloudwatch-log-subscription-filter/index.js';
import { DataAwsIamPolicyDocument, type DataAwsIamPolicyDocumentStatement } from '@cdktf/provider-aws/lib/data-aws-iam-policy-document/index.js';
import { IamRole } from '@cdktf/provider-aws/lib/iam-role/index.js';
import { IamRolePolicy } from '@cdktf/provider-aws/lib/iam-role-policy/index.js';
import { KinesisFirehoseDeliveryStream } from '@cdktf/provider-aws/lib/kinesis-firehose-delivery-stream/index.js';
import { Construct } from 'constructs';
import { firehoseLogGroup } from '../../functions/contract/aws-names.js';
import { CAPTURE_RECORD_TYPE } from '../../functions/contract/capture.js';
import { skipCheck } from '../checkov.js';
import { fail, KMS_KEY_ARN, logRetention, matching, numberInRange, ONE_YEAR_DAYS, wholeNumber, type Where } from '../validators.js';
import { SecureBucket } from './secure-bucket.js';

/** An environment's capture settings (infra/config.ts `capture`). */
export interface CaptureSettings {
  /** Share of requests captured, from 0 (off) to 1 (every request): the function's CAPTURE_SAMPLE_RATE. */
  readonly sampleRate: number;
  /**
   * Days a capture is kept in the bucket before it expires.
   * @default DEFAULT_CAPTURE_RETENTION_DAYS (90)
   */
  readonly retentionDays?: number;
  /**
   * KMS key ARN for the bucket (SSE-KMS) and the stream. Its key policy must let Firehose use it; whoever reads the
   * captures (npm run drift) needs kms:Decrypt on it.
   * @default SSE-S3 for the bucket and an AWS-owned key for the stream
   */
  readonly kmsKeyArn?: string;
  /**
   * Seconds Firehose buffers a partition before writing an object: captures reach S3 up to about 1.5 times this late.
   * @default DEFAULT_CAPTURE_BUFFER_SECONDS (300)
   */
  readonly bufferSeconds?: number;
}

/** A function whose capture lines the pipeline collects. */
export interface CaptureSource {
  /** Names the subscription filter's construct: the model's name, or "function" for an environment's single model. */
  readonly id: string;
  readonly logGroupName: string;
  /** The log group's ARN (Terraform's, without the trailing `:*`). */
  readonly logGroupArn: string;
}

export interface CapturePipelineProps {
  /** The bucket's name prefix; Terraform appends a unique suffix (serviceNames' captureBucketPrefix). */
  readonly bucketPrefix: string;
  readonly streamName: string;
  /** The role CloudWatch Logs assumes to put records into the stream. */
  readonly logsRoleName: string;
  /** The role Firehose assumes to write the bucket. */
  readonly deliveryRoleName: string;
  /** The environment's region and account, for the roles' conditions. */
  readonly region: string;
  readonly accountId: string;
  /** The functions to collect from: one subscription filter each. */
  readonly sources: readonly CaptureSource[];
  /** @default DEFAULT_CAPTURE_RETENTION_DAYS (90) */
  readonly retentionDays?: number | undefined;
  /** @default SSE-S3 for the bucket, an AWS-owned key for the stream */
  readonly kmsKeyArn?: string | undefined;
  /** @default DEFAULT_CAPTURE_BUFFER_SECONDS (300) */
  readonly bufferSeconds?: number | undefined;
  /**
   * Days the stream's error log group keeps its logs.
   * @default 30
   */
  readonly logRetentionDays?: number;
  /**
   * KMS key ARN for the stream's error log group.
   * @default none: CloudWatch Logs' own encryption at rest
   */
  readonly logsKmsKeyArn?: string | undefined;
}

export const DEFAULT_CAPTURE_RETENTION_DAYS = 90;
export const DEFAULT_CAPTURE_BUFFER_SECONDS = 300;
/** The smallest buffer Firehose takes with dynamic partitioning, in MiB; at capture rates the interval fires first. */
export const CAPTURE_BUFFER_MB = 64;

/** CloudWatch Logs' JSON filter pattern that selects the capture lines and nothing else of the function's logs. */
export const CAPTURE_FILTER_PATTERN = `{ $._type = "${CAPTURE_RECORD_TYPE}" }`;

/** Top-level folder of the delivered captures; `npm run drift -- s3://<capture_bucket>/captures/` reads them all. */
export const CAPTURE_KEY_ROOT = 'captures/';
/**
 * Where an object of captures lands: per model version (`<name>@<version>`, the record's `model`) and per UTC day of
 * arrival at Firehose. A drift run over one model and a window lists only those folders.
 */
export const CAPTURE_OBJECT_PREFIX = `${CAPTURE_KEY_ROOT}model=!{partitionKeyFromQuery:model}/date=!{timestamp:yyyy-MM-dd}/`;
/** Records Firehose could not process or partition, apart from the captures so that no reader mistakes them for data. */
export const CAPTURE_ERROR_ROOT = 'capture-errors/';
export const CAPTURE_ERROR_PREFIX = `${CAPTURE_ERROR_ROOT}!{firehose:error-output-type}/date=!{timestamp:yyyy-MM-dd}/`;

/** Days a replaced or deleted capture version stays recoverable (a mistaken delete; an expired capture). */
const NONCURRENT_DAYS = 7;
/** The log stream Firehose writes delivery errors to, as the console names it. */
const ERROR_LOG_STREAM = 'DestinationDelivery';

/** A sample rate: 0 (off) to 1 (every request). */
export function checkSampleRate(where: Where, setting: string, value: number): number {
  return numberInRange(where, setting, value, 0, 1, 'the share of requests captured: 0 is off, 1 every request');
}

/** Where and how long captures are kept: the settings the pipeline applies. */
type CaptureStorage = { readonly [K in 'retentionDays' | 'kmsKeyArn' | 'bufferSeconds']?: CaptureSettings[K] | undefined };

/** Checks an environment's `capture` where it is written (infra/config.ts), so a bad value fails even while capture is off. */
export function checkCaptureSettings(where: Where, settings: CaptureSettings, prefix: string): void {
  if (typeof settings !== 'object' || settings === null) {
    fail(where, prefix.replace(/\.$/, ''), settings, '{ sampleRate } and optionally retentionDays, kmsKeyArn, bufferSeconds');
  }
  checkSampleRate(where, `${prefix}sampleRate`, settings.sampleRate);
  checkCaptureStorage(where, settings, prefix);
}

/** Checks the settings the pipeline applies; the construct checks its own props with it too. */
function checkCaptureStorage(where: Where, settings: CaptureStorage, prefix: string): void {
  if (settings.retentionDays !== undefined) wholeNumber(where, `${prefix}retentionDays`, settings.retentionDays, 1, 36_500, 'days');
  if (settings.bufferSeconds !== undefined) {
    // Firehose's zero buffering is not available with dynamic partitioning; 900 s is its longest interval.
    wholeNumber(where, `${prefix}bufferSeconds`, settings.bufferSeconds, 60, 900, 'seconds (Firehose buffers a partition that long before writing it)');
  }
  if (settings.kmsKeyArn !== undefined) matching(where, `${prefix}kmsKeyArn`, settings.kmsKeyArn, KMS_KEY_ARN, 'a KMS key ARN (arn:aws:kms:<region>:<account>:key/<id>), not an alias');
}

/**
 * The capture pipeline of one environment: a subscription filter on each capturing function's log group sends the
 * capture lines (CAPTURE_FILTER_PATTERN) to a Firehose stream, which gunzips CloudWatch Logs' batches, keeps only the
 * log messages (the capture records' JSON), reads each record's `model` to partition by it, and writes gzipped JSON
 * lines under CAPTURE_OBJECT_PREFIX in a SecureBucket (versioned, encrypted, private, TLS-only) whose captures expire
 * after `retentionDays`. CloudWatch Logs may put records only into this stream, and Firehose may only write under the
 * bucket's two prefixes and its own error log.
 */
export class CapturePipeline extends Construct {
  readonly bucket: SecureBucket;
  readonly stream: KinesisFirehoseDeliveryStream;
  readonly errorLogs: CloudwatchLogGroup;
  readonly filters: readonly CloudwatchLogSubscriptionFilter[];
  readonly retentionDays: number;

  constructor(scope: Construct, id: string, props: CapturePipelineProps) {
    super(scope, id);
    checkCaptureStorage(this, props, '');
    if (props.sources.length === 0) fail(this, 'sources', props.sources, 'one or more functions whose capture lines to collect');
    this.retentionDays = props.retentionDays ?? DEFAULT_CAPTURE_RETENTION_DAYS;
    const bufferSeconds = props.bufferSeconds ?? DEFAULT_CAPTURE_BUFFER_SECONDS;
    const logRetentionDays = logRetention(this, 'logRetentionDays', props.logRetentionDays ?? 30);
    if (props.logsKmsKeyArn !== undefined) matching(this, 'logsKmsKeyArn', props.logsKmsKeyArn, KMS_KEY_ARN, 'a KMS key ARN (arn:aws:kms:<region>:<account>:key/<id>), not an alias');
    const { region, accountId } = props;

    // Captures live retentionDays; the version an expiry leaves behind is gone NONCURRENT_DAYS later.
    this.bucket = new SecureBucket(this, 'bucket', {
      bucketPrefix: props.bucketPrefix,
      expirationDays: this.retentionDays,
      noncurrentVersionExpirationDays: NONCURRENT_DAYS,
      ...(props.kmsKeyArn === undefined ? {} : { kmsKeyArn: props.kmsKeyArn }),
    });
    const bucket = this.bucket.bucket;
    skipCheck(bucket, 'CKV_AWS_18', 'Only Firehose writes this bucket (its delivery role, two key prefixes) and only the drift report reads it; server access logs would need a log bucket per environment, and CloudTrail S3 data events answer who read a capture');
    skipCheck(bucket, 'CKV2_AWS_62', 'Nothing reacts to a new capture object: npm run drift reads a time window of them when someone or a schedule runs it');
    skipCheck(bucket, 'CKV_AWS_144', 'Captures are a sample kept for drift analysis and expire after retentionDays; losing a region\'s captures loses no service, and a replica would copy clients\' inputs into a second region');
    if (props.kmsKeyArn === undefined) {
      skipCheck(bucket, 'CKV_AWS_145', 'SSE-S3 by default: the bucket is private and TLS-only and only the delivery role writes it; captures that must stay under a customer-managed key set capture.kmsKeyArn (SSE-KMS), which passes this check');
    }

    const streamName = props.streamName;
    this.errorLogs = new CloudwatchLogGroup(this, 'error-logs', {
      name: firehoseLogGroup(streamName),
      retentionInDays: logRetentionDays,
      ...(props.logsKmsKeyArn === undefined ? {} : { kmsKeyId: props.logsKmsKeyArn }),
    });
    if (props.logsKmsKeyArn === undefined) {
      skipCheck(this.errorLogs, 'CKV_AWS_158', 'Firehose logs delivery errors here (error codes, S3 keys), never the captured records, and CloudWatch Logs encrypts them at rest; logsKmsKeyArn sets a customer-managed key where policy demands one');
    }
    if (logRetentionDays < ONE_YEAR_DAYS) {
      skipCheck(this.errorLogs, 'CKV_AWS_338', `Retention is configured per environment (logRetentionDays, ${logRetentionDays} days here): delivery errors matter while someone investigates them, and the failed records themselves are kept in the bucket under ${CAPTURE_ERROR_ROOT}`);
    }
    const errorStream = new CloudwatchLogStream(this, 'error-log-stream', { name: ERROR_LOG_STREAM, logGroupName: this.errorLogs.name });

    const deliveryRole = new IamRole(this, 'delivery-role', {
      name: props.deliveryRoleName,
      description: `Firehose ${streamName}: writes prediction captures to the capture bucket`,
      assumeRolePolicy: new DataAwsIamPolicyDocument(this, 'delivery-trust', {
        statement: [
          {
            effect: 'Allow',
            actions: ['sts:AssumeRole'],
            principals: [{ type: 'Service', identifiers: ['firehose.amazonaws.com'] }],
            // Firehose passes the account as the external id (AWS's documented trust for an S3 destination role).
            condition: [{ test: 'StringEquals', variable: 'sts:ExternalId', values: [accountId] }],
          },
        ],
      }).json,
    });
    const deliveryPolicy = new IamRolePolicy(this, 'delivery-policy', {
      name: 'deliver-captures',
      role: deliveryRole.id,
      policy: new DataAwsIamPolicyDocument(this, 'delivery-permissions', { statement: this.deliveryStatements(errorStream, props) }).json,
    });

    this.stream = new KinesisFirehoseDeliveryStream(this, 'stream', {
      name: streamName,
      destination: 'extended_s3',
      // CloudWatch Logs puts records with PutRecordBatch (a Direct PUT source), whose buffer Firehose encrypts.
      serverSideEncryption:
        props.kmsKeyArn === undefined ? { enabled: true, keyType: 'AWS_OWNED_CMK' } : { enabled: true, keyType: 'CUSTOMER_MANAGED_CMK', keyArn: props.kmsKeyArn },
      extendedS3Configuration: {
        roleArn: deliveryRole.arn,
        bucketArn: bucket.arn,
        prefix: CAPTURE_OBJECT_PREFIX,
        errorOutputPrefix: CAPTURE_ERROR_PREFIX,
        customTimeZone: 'UTC',
        // Dynamic partitioning needs a buffer of at least 64 MiB; the interval decides when a partition is written.
        bufferingSize: CAPTURE_BUFFER_MB,
        bufferingInterval: bufferSeconds,
        compressionFormat: 'GZIP',
        dynamicPartitioningConfiguration: { enabled: true, retryDuration: 300 },
        processingConfiguration: {
          enabled: true,
          processors: [
            // CloudWatch Logs sends gzipped batches of log events; keep each event's message, the record's JSON.
            { type: 'Decompression', parameters: [{ parameterName: 'CompressionFormat', parameterValue: 'GZIP' }] },
            { type: 'CloudWatchLogProcessing', parameters: [{ parameterName: 'DataMessageExtraction', parameterValue: 'true' }] },
            {
              type: 'MetadataExtraction',
              parameters: [
                { parameterName: 'JsonParsingEngine', parameterValue: 'JQ-1.6' },
                { parameterName: 'MetadataExtractionQuery', parameterValue: '{model: .model}' },
              ],
            },
            // One record per line: the objects are JSON lines.
            { type: 'AppendDelimiterToRecord' },
          ],
        },
        cloudwatchLoggingOptions: { enabled: true, logGroupName: this.errorLogs.name, logStreamName: errorStream.name },
      },
      // Firehose checks its role when the stream is created: the role's permissions come first.
      dependsOn: [deliveryPolicy],
    });
    if (props.kmsKeyArn === undefined) {
      skipCheck(this.stream, 'CKV_AWS_241', 'The stream is encrypted (an AWS-owned key) and holds each record only until its buffer is written, a few minutes; capture.kmsKeyArn puts the stream and the bucket under a customer-managed key, which passes this check');
    }

    const logsRole = new IamRole(this, 'logs-role', {
      name: props.logsRoleName,
      description: `CloudWatch Logs: puts the functions' capture lines into Firehose ${streamName}`,
      assumeRolePolicy: new DataAwsIamPolicyDocument(this, 'logs-trust', {
        statement: [
          {
            effect: 'Allow',
            actions: ['sts:AssumeRole'],
            principals: [{ type: 'Service', identifiers: [`logs.${region}.amazonaws.com`] }],
            condition: [
              { test: 'StringEquals', variable: 'aws:SourceAccount', values: [accountId] },
              // Only for the capturing functions' log groups (the ARN with and without the `:*` CloudWatch shows).
              { test: 'ArnLike', variable: 'aws:SourceArn', values: props.sources.flatMap((source) => [source.logGroupArn, `${source.logGroupArn}:*`]) },
            ],
          },
        ],
      }).json,
    });
    const logsPolicy = new IamRolePolicy(this, 'logs-policy', {
      name: 'put-capture-records',
      role: logsRole.id,
      policy: new DataAwsIamPolicyDocument(this, 'logs-permissions', {
        statement: [{ sid: 'PutCaptureRecords', effect: 'Allow', actions: ['firehose:PutRecord', 'firehose:PutRecordBatch'], resources: [this.stream.arn] }],
      }).json,
    });

    // CloudWatch Logs sends a test record when a filter is created: the role must already be allowed to put it.
    this.filters = props.sources.map(
      (source) =>
        new CloudwatchLogSubscriptionFilter(this, `filter-${source.id}`, {
          name: CAPTURE_RECORD_TYPE,
          logGroupName: source.logGroupName,
          filterPattern: CAPTURE_FILTER_PATTERN,
          destinationArn: this.stream.arn,
          roleArn: logsRole.arn,
          dependsOn: [logsPolicy],
        }),
    );
  }

  get bucketName(): string {
    return this.bucket.name;
  }

  get streamName(): string {
    return this.stream.name;
  }

  /**
   * Firehose's role: put and abort uploads under the two prefixes, find the bucket, log its delivery errors, and with
   * a KMS key, encrypt through S3 for this bucket only.
   */
  private deliveryStatements(errorStream: CloudwatchLogStream, props: CapturePipelineProps): DataAwsIamPolicyDocumentStatement[] {
    const bucketArn = this.bucket.arn;
    const statements: DataAwsIamPolicyDocumentStatement[] = [
      {
        sid: 'WriteCaptures',
        effect: 'Allow',
        actions: ['s3:PutObject', 's3:AbortMultipartUpload'],
        resources: [`${bucketArn}/${CAPTURE_KEY_ROOT}*`, `${bucketArn}/${CAPTURE_ERROR_ROOT}*`],
      },
      { sid: 'FindBucket', effect: 'Allow', actions: ['s3:GetBucketLocation', 's3:ListBucket', 's3:ListBucketMultipartUploads'], resources: [bucketArn] },
      { sid: 'LogDeliveryErrors', effect: 'Allow', actions: ['logs:PutLogEvents'], resources: [`${this.errorLogs.arn}:log-stream:${errorStream.name}`] },
    ];
    if (props.kmsKeyArn !== undefined) {
      statements.push({
        sid: 'EncryptCaptures',
        effect: 'Allow',
        // Decrypt too: S3 needs it to complete a multipart upload under SSE-KMS.
        actions: ['kms:GenerateDataKey', 'kms:Decrypt'],
        resources: [props.kmsKeyArn],
        condition: [
          { test: 'StringEquals', variable: 'kms:ViaService', values: [`s3.${props.region}.amazonaws.com`] },
          // The bucket's ARN with an S3 Bucket Key (SecureBucket enables one with KMS), the object's without.
          { test: 'StringLike', variable: 'kms:EncryptionContext:aws:s3:arn', values: [bucketArn, `${bucketArn}/*`] },
        ],
      });
    }
    return statements;
  }
}
