/**
 * The command line of `npm run bench`: `[--quick] [--only <section>]`. A section that can run alone does so and
 * rewrites only its own table in docs/PERFORMANCE.md; the full run rewrites every table and latest.json.
 */
import { parseArgs } from 'node:util';
import { usageMessage } from '../commands/cli/usage.js';

/** The sections `--only` runs alone. */
export const ALONE_SECTIONS = ['observe'] as const;
export type AloneSection = (typeof ALONE_SECTIONS)[number];

export const BENCH_USAGE = `usage: npm run bench [-- [--quick] [--only <section>]]
  --quick            fewer requests, invocations and cold starts
  --only <section>   run one section alone: ${ALONE_SECTIONS.join(', ')}`;

export class BenchUsageError extends Error {
  override readonly name = 'BenchUsageError';
}

export interface BenchArgs {
  readonly quick: boolean;
  readonly only: AloneSection | undefined;
}

export function benchArgs(argv: readonly string[]): BenchArgs {
  let values: { quick?: boolean; only?: string };
  try {
    values = parseArgs({ args: [...argv], options: { quick: { type: 'boolean', default: false }, only: { type: 'string' } }, strict: true, allowPositionals: false }).values;
  } catch (error) {
    throw new BenchUsageError(error instanceof Error ? error.message : String(error));
  }
  const only = values.only;
  if (only !== undefined && !(ALONE_SECTIONS as readonly string[]).includes(only)) {
    throw new BenchUsageError(usageMessage('only', only, `one of the sections that run alone: ${ALONE_SECTIONS.join(', ')}`));
  }
  return { quick: values.quick === true, only: only as AloneSection | undefined };
}
