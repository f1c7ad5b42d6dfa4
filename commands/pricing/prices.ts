/**
 * Every price the project's commands and bench compute with, in one file, each with its date and source. Prices
 * change: check the sources, change the numbers and the date here, and every table and chart follows.
 */

/** AWS Lambda, us-east-1, first pricing tier. Source: https://aws.amazon.com/lambda/pricing/ */
export const LAMBDA_PRICES = Object.freeze({
  /** The date of the prices below, as given to this project. */
  asOf: '2026-11-27',
  source: 'https://aws.amazon.com/lambda/pricing/',
  region: 'us-east-1',
  /** USD per GB-second of duration (the first pricing tier). */
  gbSecond: Object.freeze({ arm64: 0.0000133334, x86_64: 0.0000166667 }),
  /** USD per million requests. */
  perMillionRequests: 0.2,
  /** USD per GB of CloudWatch Logs ingested (standard log class), which the EMF lines cost too. */
  logsPerGb: 0.5,
  /** Since 1 August 2025 the INIT phase of on-demand functions is billed like the invocation itself. */
  initBilled: true,
});

/** Lambda bills GB-seconds of 1,024 MB. */
export const MB_PER_GB = 1024;

/** Hours in the month AWS's pricing examples use (365 x 24 / 12): what an always-on resource is billed for. */
export const HOURS_PER_MONTH = 730;

/**
 * Lambda provisioned concurrency, us-east-1: a charge per GB-second for every second the concurrency is configured
 * (billed in 5-minute units), and a lower duration price for invocations that run on it. Requests cost as on demand.
 * The stored copy of the AWS page renders its price table client-side, so the figures were checked against public
 * transcriptions of the AWS Price List API (SKUs BMKCD2ZCEYKTYYCB, MV7PTBS82AVCMXJJ, ZZF88MXYPS4DGSEZ,
 * 3Z4YRQ6XJRDK27UP, queried 2025-10-28) that agree with each other; the AWS page itself was not read.
 */
export const LAMBDA_PC_PRICES = Object.freeze({
  asOf: '2025-10-28',
  source: 'https://aws.amazon.com/lambda/pricing/',
  region: 'us-east-1',
  /** USD per GB-second of configured provisioned concurrency, used or not. */
  pcGbSecond: Object.freeze({ arm64: 0.0000033334, x86_64: 0.0000041667 }),
  /** USD per GB-second of duration for invocations served by provisioned concurrency. */
  durationGbSecond: Object.freeze({ arm64: 0.0000077778, x86_64: 0.0000097222 }),
});

/**
 * Amazon SageMaker Serverless Inference, us-east-1, on demand: compute per second of inference at the endpoint's
 * memory size (1024 to 6144 MB in 1 GB steps), billed by the millisecond, plus data processed. No request fee.
 */
export const SAGEMAKER_SERVERLESS_PRICES = Object.freeze({
  asOf: '2026-02-12',
  source: 'https://aws.amazon.com/sagemaker/pricing/',
  region: 'us-east-1',
  /** The memory sizes an endpoint can have (AWS::SageMaker::EndpointConfig ServerlessConfig MemorySizeInMB). */
  memorySizesMb: Object.freeze([1024, 2048, 3072, 4096, 5120, 6144] as const),
  /**
   * USD per second of inference per GB of the endpoint's memory: $0.00002 at 1024 MB up to $0.00012 at 6144 MB.
   * Verified only against public write-ups quoting AWS (a 2026-02-12 guide and cost references giving "$0.0000200 per
   * second per GB"); the stored AWS pricing page shows no figures.
   */
  perSecondPerGb: 0.00002,
  /**
   * USD per GB of data processed in and out. UNVERIFIED: the SageMaker hosting figure as remembered, not found in any
   * stored source. It is not small: at a 2 ms inference a request's data can cost as much as its compute (about 40%
   * of the SageMaker total in docs/COST.md's example), so the advisor and the docs flag it beside every figure.
   */
  dataProcessedPerGb: 0.016,
  dataProcessedVerified: false,
  /**
   * Serverless Inference with provisioned concurrency has its own prices (per second of configured concurrency and a
   * lower inference price). Not found in any stored source, so not priced here: the cost advisor leaves it out and
   * says so.
   */
  provisionedConcurrency: null,
});

/**
 * AWS Fargate on demand, us-east-1, Linux: per vCPU-hour and per GB-hour of a task's configured size, billed per
 * second (one-minute minimum), the first 20 GB of ephemeral storage included. x86_64 from a 2026-03-10 guide and
 * Vantage's Fargate pricing guide, arm64 (Graviton) from Vantage's guide, both quoting the AWS page for us-east-1.
 */
export const FARGATE_PRICES = Object.freeze({
  asOf: '2026-03-10',
  source: 'https://aws.amazon.com/fargate/pricing/',
  region: 'us-east-1',
  vcpuHour: Object.freeze({ arm64: 0.03238, x86_64: 0.04048 }),
  gbHour: Object.freeze({ arm64: 0.00356, x86_64: 0.004445 }),
});
