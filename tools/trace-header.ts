/**
 * X-Ray trace headers for local runs, as Lambda hands one to each invocation: `npm start` and `npm run invoke` give
 * every request one when AWS_XRAY_DAEMON_ADDRESS is set, so a UDP listener there receives what Lambda's daemon would.
 * The format is X-Ray's: `Root=1-<8 hex digits of epoch seconds>-<24 hex digits>;Parent=<16 hex digits>;Sampled=1`
 * (X-Ray Developer Guide, "Tracing header").
 */
import { randomBytes } from 'node:crypto';

/** A new sampled trace header; `Parent` stands for the function segment Lambda would have opened. */
export function newTraceHeader(now: number = Date.now()): string {
  const epoch = Math.floor(now / 1000).toString(16).padStart(8, '0');
  return `Root=1-${epoch}-${randomBytes(12).toString('hex')};Parent=${randomBytes(8).toString('hex')};Sampled=1`;
}
