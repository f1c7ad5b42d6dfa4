/**
 * The baselines the bench holds the function to: the scripts in bench/entries/ (the floor of a cold start, the naive
 * function, the memory floor), which read their model, output and session options from the environment.
 */
import { mkdtemp } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { DEFAULT_INTRA_OP_THREADS } from '../functions/contract/env.js';
import { sessionOptions } from '../functions/predict/model-session.js';
import type { BenchBundle } from './bench-data.js';

export const ENTRIES = path.join(path.dirname(fileURLToPath(import.meta.url)), 'entries');

/** The environment of the baselines: the model, its served output, the function's session options. */
export function floorEnv(bundle: BenchBundle, model: string): Record<string, string> {
  return { BENCH_MODEL: model, BENCH_OUTPUT: bundle.output, BENCH_SESSION_OPTIONS: JSON.stringify(sessionOptions(DEFAULT_INTRA_OP_THREADS)) };
}

/** A folder outside the project, so that a script there finds onnxruntime-node only through NODE_PATH. */
export async function scratch(prefix: string): Promise<string> {
  return mkdtemp(path.join(tmpdir(), prefix));
}
