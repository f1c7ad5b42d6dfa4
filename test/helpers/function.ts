import { randomUUID } from 'node:crypto';
import { cp, readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import type { ExecutionContext } from 'ava';
import { createHandler, type LoadingHandler } from '../../functions/predict/app.js';
import { loadConfig } from '../../functions/predict/config.js';
import type { HttpResponse } from '../../functions/predict/http-event.js';
import { arrivesAsText, httpEvent } from '../../tools/http-api-event.js';
import { tempDir } from './temp-dir.js';

export const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..');
export const MODELS = path.join(ROOT, 'models');
export const FIXTURES = path.join(ROOT, 'test', 'fixtures');
/** Bundles with a feature list: one float32 input [batch, n_features]. */
export const BUNDLES = ['iris', 'breast-cancer', 'diabetes', 'wine-xgb', 'diabetes-keras'] as const;
/** Every committed bundle, tabular or not. */
export const ALL_BUNDLES = [...BUNDLES, 'digits-cnn', 'digits-cnn-int8'] as const;

export interface Golden {
  readonly inputs: number[][];
  readonly outputs: (number | number[])[];
  /** The largest absolute error allowed (default 1e-4). */
  readonly tolerance?: number;
  /** For a quantized bundle judged against its float model: the least share of rows whose best label agrees. */
  readonly minTop1Agreement?: number;
}

export async function readGolden(bundle: string): Promise<Golden> {
  return JSON.parse(await readFile(path.join(MODELS, bundle, 'golden.json'), 'utf8')) as Golden;
}

export async function readManifestJson(dir: string): Promise<Record<string, unknown>> {
  return JSON.parse(await readFile(path.join(dir, 'model.json'), 'utf8')) as Record<string, unknown>;
}

/**
 * A handler built from an environment, with its log lines collected instead of printed. `invoke` hands it simulated
 * API Gateway HTTP API payload 2.0 events (see `simulatedHttpApiEvent`).
 */
export interface TestFunction {
  readonly handler: LoadingHandler;
  readonly lines: string[];
  invoke(method: string, rawPath: string, body?: string | Buffer, headers?: Record<string, string>): Promise<HttpResponse>;
  /** The parsed JSON log lines, EMF records included. */
  records(): Record<string, unknown>[];
}

export function functionFor(env: Record<string, string>): TestFunction {
  const lines: string[] = [];
  const handler = createHandler(() => loadConfig(env), { write: (line) => lines.push(line) });
  return {
    handler,
    lines,
    async invoke(method, rawPath, body, headers = {}) {
      const response = await handler(simulatedHttpApiEvent(method, rawPath, body, headers), { awsRequestId: randomUUID() });
      // The handler writes its metrics line in the next turn of the event loop, as in Lambda after the response.
      await new Promise((resolve) => setImmediate(resolve));
      return response;
    },
    records: () => lines.map((line) => JSON.parse(line) as Record<string, unknown>),
  };
}

/**
 * A simulated API Gateway HTTP API payload 2.0 event, built by the project's own event builder
 * (tools/http-api-event.ts) the way `npm start` builds one from an HTTP request, not an event captured from AWS. A
 * body that is not UTF-8 text arrives base64-encoded, as API Gateway sends it.
 */
export function simulatedHttpApiEvent(method: string, rawPath: string, body: string | Buffer = '', headers: Record<string, string> = {}) {
  const allHeaders = { host: 'abc123.lambda-url.us-east-1.on.aws', 'content-type': 'application/json', ...headers };
  const bytes = typeof body === 'string' ? Buffer.from(body) : body;
  return httpEvent({ method, url: rawPath, headers: allHeaders }, bytes, randomUUID(), arrivesAsText(allHeaders['content-type'], bytes));
}

/**
 * Copies a bundle to a temp folder and rewrites its manifest, to make a bundle that disagrees with its model. The
 * copy is removed when the test `t` ends.
 */
export async function alteredBundle(t: ExecutionContext, from: string, change: (manifest: Record<string, unknown>) => void): Promise<string> {
  const dir = await tempDir(t, 'bundle-');
  await cp(from, dir, { recursive: true });
  const manifest = await readManifestJson(dir);
  change(manifest);
  await writeFile(path.join(dir, 'model.json'), JSON.stringify(manifest));
  return dir;
}

export function json(response: HttpResponse): Record<string, unknown> {
  return JSON.parse(response.body) as Record<string, unknown>;
}

export function maxAbsDiff(a: readonly number[], b: readonly number[]): number {
  if (a.length !== b.length) return Number.POSITIVE_INFINITY;
  let max = 0;
  for (let i = 0; i < a.length; i++) max = Math.max(max, Math.abs(a[i]! - b[i]!));
  return max;
}
