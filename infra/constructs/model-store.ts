import { S3Object } from '@cdktf/provider-aws/lib/s3-object/index.js';
import { AssetType, TerraformAsset } from 'cdktf';
import { Construct } from 'constructs';
import type { ModelArtifact } from '../build-record.js';
import { skipCheck } from '../checkov.js';
import { fail, matching } from '../validators.js';
import { SecureBucket } from './secure-bucket.js';

export interface ModelStoreProps {
  /**
   * Prefix of the bucket's name; Terraform appends a unique suffix (bucket names are global).
   * @default Terraform's own "terraform-" prefix
   */
  readonly bucketPrefix?: string;
  /**
   * Days a replaced model version is kept. A published Lambda version pins its model's version id, so this bounds
   * how far back a rollback can go once a model has been replaced under the same key.
   * @default 90
   */
  readonly noncurrentVersionExpirationDays?: number;
  /**
   * Replaced model versions kept however old they are.
   * @default 10
   */
  readonly noncurrentVersionsToKeep?: number;
  /**
   * KMS key for SSE-KMS; the function's role then gets kms:Decrypt on it.
   * @default SSE-S3 (AES256)
   */
  readonly kmsKeyArn?: string;
  /**
   * Let `terraform destroy` delete the bucket with its models.
   * @default false
   */
  readonly forceDestroy?: boolean;
}

/** A model artifact in the store, pinned to one object version: what the function needs to load and verify it. */
export interface StoredModel {
  readonly bucketName: string;
  readonly bucketArn: string;
  /** Ends with the shipped file's name (model.onnx or model.ort), from which the function reads its format. */
  readonly key: string;
  /** The uploaded object's version id (known after apply); the function loads exactly this version. */
  readonly versionId: string;
  /** Hex sha256 of the uploaded file (build.json's model.shippedSha256): what MODEL_SHA256 checks. */
  readonly sha256: string;
  readonly bytes: number;
  readonly kmsKeyArn: string | undefined;
}

const KEY_SEGMENT = /^[A-Za-z0-9._-]+$/;

/**
 * The S3 bucket for model artifacts (a SecureBucket: versioned, encrypted, private, TLS-only, noncurrent versions
 * expired) and the models uploaded to it from `dist/`. Each model goes to `models/<name>/<version>/<file>`, the file
 * the build shipped (model.ort in ORT format, or model.onnx); re-uploading different bytes under the same name and version makes a new object version, and the function that
 * pins the old version id keeps loading the old bytes.
 */
export class ModelStore extends Construct {
  readonly bucket: SecureBucket;

  constructor(scope: Construct, id: string, props: ModelStoreProps = {}) {
    super(scope, id);
    this.bucket = new SecureBucket(this, 'bucket', props);
    const bucket = this.bucket.bucket;
    skipCheck(bucket, 'CKV_AWS_18', 'Model objects are written only by terraform apply (the deploy role) and read only by the function\'s role at cold start, by pinned version id; server access logs would need a log bucket per environment, and CloudTrail S3 data events answer who read a model');
    skipCheck(bucket, 'CKV2_AWS_62', 'Nothing reacts to a model upload: the same terraform apply that uploads a model publishes the Lambda version pinning its version id, and the rollout moves traffic');
    skipCheck(bucket, 'CKV_AWS_144', 'Models are rebuilt from git (models/<name>) and re-uploaded by terraform apply; the only reader is the function in the same region, so a replica in another region would have no reader');
    if (props.kmsKeyArn === undefined) {
      skipCheck(bucket, 'CKV_AWS_145', 'SSE-S3 by default: the bucket is private and TLS-only and its only reader is the function\'s role; a model that must stay confidential sets ModelStore kmsKeyArn (SSE-KMS, kms:Decrypt granted to the function), which passes this check');
    }
  }

  /** Uploads a model the build packaged for S3 (`build.json` `model.packaging: "s3"`). */
  addModel(model: ModelArtifact): StoredModel {
    if (model.packaging !== 's3' || model.path === undefined) {
      fail(this, 'model.packaging', model.packaging, '"s3" (a model packaged in the function zip is not uploaded)', 'Build with --package s3');
    }
    const name = matching(this, 'model.name', model.name, KEY_SEGMENT, 'letters, digits, ".", "_" and "-" (it becomes part of the S3 key)');
    const version = matching(this, 'model.version', model.version, KEY_SEGMENT, 'letters, digits, ".", "_" and "-" (it becomes part of the S3 key)');
    const key = `models/${name}/${version}/${model.shippedName}`;

    // The build already hashed the file; the asset reuses that instead of hashing a possibly large model again.
    const asset = new TerraformAsset(this, `${name}-${version}-file`, { path: model.path, type: AssetType.FILE, assetHash: model.shippedSha256 });
    const object = new S3Object(this, `${name}-${version}`, {
      bucket: this.bucket.versionedBucket,
      key,
      source: asset.path,
      // Triggers a new upload when the bytes change, like etag, but also correct under SSE-KMS (etag is not an MD5 there).
      sourceHash: model.shippedSha256,
      contentType: 'application/octet-stream',
      checksumAlgorithm: 'SHA256',
      // The object's own sha256, and for a model.ort the model.onnx it was made from (the model's identity).
      metadata: { sha256: model.shippedSha256, model: `${name}@${version}`, ...(model.format === 'onnx' ? {} : { 'onnx-sha256': model.sha256 }) },
    });
    return Object.freeze({
      bucketName: this.bucket.bucket.bucket,
      bucketArn: this.bucket.bucket.arn,
      key,
      versionId: object.versionId,
      sha256: model.shippedSha256,
      bytes: model.bytes,
      kmsKeyArn: this.bucket.kmsKeyArn,
    });
  }
}
