import { DataAwsIamPolicyDocument } from '@cdktf/provider-aws/lib/data-aws-iam-policy-document/index.js';
import { S3Bucket } from '@cdktf/provider-aws/lib/s3-bucket/index.js';
import { S3BucketLifecycleConfiguration } from '@cdktf/provider-aws/lib/s3-bucket-lifecycle-configuration/index.js';
import { S3BucketOwnershipControls } from '@cdktf/provider-aws/lib/s3-bucket-ownership-controls/index.js';
import { S3BucketPolicy } from '@cdktf/provider-aws/lib/s3-bucket-policy/index.js';
import { S3BucketPublicAccessBlock } from '@cdktf/provider-aws/lib/s3-bucket-public-access-block/index.js';
import { S3BucketServerSideEncryptionConfigurationA } from '@cdktf/provider-aws/lib/s3-bucket-server-side-encryption-configuration/index.js';
import { S3BucketVersioningA } from '@cdktf/provider-aws/lib/s3-bucket-versioning/index.js';
import { Construct } from 'constructs';
import { fail, matching, wholeNumber } from '../validators.js';

export interface SecureBucketProps {
  /**
   * The bucket's exact (globally unique) name.
   * @default a unique name Terraform derives from `bucketPrefix`
   */
  readonly bucketName?: string;
  /**
   * Prefix of a name Terraform makes unique; used when `bucketName` is not set.
   * @default Terraform's own "terraform-" prefix
   */
  readonly bucketPrefix?: string;
  /**
   * Days a replaced or deleted object version is kept before it expires.
   * @default 90
   */
  readonly noncurrentVersionExpirationDays?: number;
  /**
   * Replaced versions that are kept however old they are, so a rollback always finds the recent ones.
   * @default 10
   */
  readonly noncurrentVersionsToKeep?: number;
  /**
   * Days after which every object expires, for data kept for a while only (captured requests). Its noncurrent
   * versions then go `noncurrentVersionExpirationDays` after, and none is kept beyond that: keeping the newest ones
   * would hold expired data forever.
   * @default none: objects are kept, and `noncurrentVersionsToKeep` replaced versions with them
   */
  readonly expirationDays?: number;
  /**
   * KMS key for server-side encryption (SSE-KMS); readers then also need kms:Decrypt on it.
   * @default SSE-S3 (AES256), which needs no key policy
   */
  readonly kmsKeyArn?: string;
  /**
   * Let `terraform destroy` delete the bucket with its objects.
   * @default false
   */
  readonly forceDestroy?: boolean;
}

const BUCKET_NAME = /^(?!xn--)(?!.*-s3alias$)[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$/;
const BUCKET_PREFIX = /^[a-z0-9][a-z0-9.-]{0,36}$/;

/**
 * An S3 bucket as every bucket here should be: versioned, encrypted at rest, ACLs disabled, public access blocked,
 * TLS-only (a bucket policy denies plain HTTP), noncurrent versions expired after a while, incomplete multipart
 * uploads cleaned up.
 */
export class SecureBucket extends Construct {
  readonly bucket: S3Bucket;
  readonly versioning: S3BucketVersioningA;
  /**
   * The bucket's name, taken from the versioning resource: whatever uses it is created after versioning is on (an
   * object uploaded before that gets the version id "null").
   */
  readonly versionedBucket: string;
  readonly kmsKeyArn: string | undefined;

  constructor(scope: Construct, id: string, props: SecureBucketProps = {}) {
    super(scope, id);
    if (props.bucketName !== undefined && props.bucketPrefix !== undefined) {
      fail(this, 'bucketPrefix', props.bucketPrefix, 'unset when bucketName is set (one or the other)');
    }
    if (props.bucketName !== undefined) {
      matching(this, 'bucketName', props.bucketName, BUCKET_NAME, '3 to 63 lowercase letters, digits, dots and hyphens, starting and ending with a letter or digit');
    }
    if (props.bucketPrefix !== undefined) {
      matching(this, 'bucketPrefix', props.bucketPrefix, BUCKET_PREFIX, '1 to 37 lowercase letters, digits, dots and hyphens (Terraform adds 26 characters)');
    }
    const noncurrentDays = wholeNumber(this, 'noncurrentVersionExpirationDays', props.noncurrentVersionExpirationDays ?? 90, 1, 36_500, 'days');
    const keep = wholeNumber(this, 'noncurrentVersionsToKeep', props.noncurrentVersionsToKeep ?? 10, 1, 100, 'versions');
    const expirationDays = props.expirationDays === undefined ? undefined : wholeNumber(this, 'expirationDays', props.expirationDays, 1, 36_500, 'days');
    this.kmsKeyArn = props.kmsKeyArn;

    this.bucket = new S3Bucket(this, 'bucket', {
      ...(props.bucketName === undefined ? {} : { bucket: props.bucketName }),
      ...(props.bucketPrefix === undefined ? {} : { bucketPrefix: props.bucketPrefix }),
      forceDestroy: props.forceDestroy ?? false,
    });
    const bucket = this.bucket.id;

    new S3BucketOwnershipControls(this, 'ownership', { bucket, rule: { objectOwnership: 'BucketOwnerEnforced' } });
    const publicAccess = new S3BucketPublicAccessBlock(this, 'public-access', {
      bucket,
      blockPublicAcls: true,
      blockPublicPolicy: true,
      ignorePublicAcls: true,
      restrictPublicBuckets: true,
    });
    this.versioning = new S3BucketVersioningA(this, 'versioning', { bucket, versioningConfiguration: { status: 'Enabled' } });
    this.versionedBucket = this.versioning.bucket;
    new S3BucketServerSideEncryptionConfigurationA(this, 'encryption', {
      bucket,
      rule: [
        {
          applyServerSideEncryptionByDefault:
            props.kmsKeyArn === undefined ? { sseAlgorithm: 'AES256' } : { sseAlgorithm: 'aws:kms', kmsMasterKeyId: props.kmsKeyArn },
          bucketKeyEnabled: props.kmsKeyArn !== undefined,
        },
      ],
    });

    const tlsOnly = new DataAwsIamPolicyDocument(this, 'tls-only', {
      statement: [
        {
          sid: 'DenyInsecureTransport',
          effect: 'Deny',
          principals: [{ type: '*', identifiers: ['*'] }],
          actions: ['s3:*'],
          resources: [this.bucket.arn, `${this.bucket.arn}/*`],
          condition: [{ test: 'Bool', variable: 'aws:SecureTransport', values: ['false'] }],
        },
      ],
    });
    // S3 rejects a policy written while the public access block is still being applied: taking the bucket name from
    // the block orders the two without a depends_on (which cdktf's HCL writes in the deprecated quoted form).
    new S3BucketPolicy(this, 'policy', { bucket: publicAccess.bucket, policy: tlsOnly.json });

    new S3BucketLifecycleConfiguration(this, 'lifecycle', {
      // The bucket's own id, not versionedBucket: checkov (CKV2_AWS_61) recognizes a bucket's lifecycle configuration
      // only by a direct reference to the aws_s3_bucket. Rules about noncurrent versions need versioning enabled
      // first, so depends_on orders them.
      bucket,
      dependsOn: [this.versioning],
      rule: [
        expirationDays === undefined
          ? {
              id: 'expire-noncurrent-versions',
              status: 'Enabled',
              filter: [{}],
              noncurrentVersionExpiration: [{ noncurrentDays, newerNoncurrentVersions: keep }],
              expiration: [{ expiredObjectDeleteMarker: true }],
              abortIncompleteMultipartUpload: [{ daysAfterInitiation: 7 }],
            }
          : {
              // S3 also removes the expired delete markers of a rule with `days`.
              id: 'expire-objects',
              status: 'Enabled',
              filter: [{}],
              expiration: [{ days: expirationDays }],
              noncurrentVersionExpiration: [{ noncurrentDays }],
              abortIncompleteMultipartUpload: [{ daysAfterInitiation: 7 }],
            },
      ],
    });
  }

  get arn(): string {
    return this.bucket.arn;
  }

  get name(): string {
    return this.bucket.bucket;
  }
}
