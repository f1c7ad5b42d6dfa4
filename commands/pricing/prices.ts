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
