/**
 * Lambda's documented quotas and facts that the build, the infrastructure and the bench check against
 * (https://docs.aws.amazon.com/lambda/latest/dg/gettingstarted-limits.html).
 */

export const MB = 1024 * 1024;

export const LAMBDA_LIMITS = Object.freeze({
  /** A zip uploaded directly with the function (not through S3). */
  directUploadZippedBytes: 50 * MB,
  /** Function code plus all layers, unzipped. */
  unzippedBytes: 250 * MB,
  layers: 5,
  /** /tmp: configurable from 512 MB to 10,240 MB. */
  minEphemeralMb: 512,
  maxEphemeralMb: 10_240,
  /** Memory: 128 MB to 10,240 MB in 1 MB steps. */
  minMemoryMb: 128,
  maxMemoryMb: 10_240,
  /** Timeout: 1 second to 15 minutes. */
  minTimeoutSeconds: 1,
  maxTimeoutSeconds: 900,
  /** A synchronous invocation's request and response payloads. */
  syncPayloadBytes: 6 * MB,
});

/** The memory size at which a function has the equivalent of one full vCPU; CPU grows in proportion to memory. */
export const ONE_VCPU_MEMORY_MB = 1769;

/** The share of /tmp the model may take; the rest is left for onnxruntime and the function's own use. */
export const MODEL_TMP_SHARE = 0.8;

/**
 * Lambda's limit on a container image: 10 GB uncompressed, the base image's layers included
 * (https://docs.aws.amazon.com/lambda/latest/dg/gettingstarted-limits.html).
 */
export const IMAGE_MAX_BYTES = 10 * 1024 * 1024 * 1024;
