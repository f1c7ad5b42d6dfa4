/**
 * The curl examples of the README and docs/HTTP-API.md, run against `npm start` started as the text starts it, each
 * answer compared with the JSON block the text shows after the command, so the docs cannot drift from what the
 * function answers. `npm start` builds each event with the project's own event builder (tools/http-api-event.ts):
 * these tests simulate API Gateway rather than go through it.
 */
import test from 'ava';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { ROOT } from '../../helpers/function.js';
import { startServer, type Server } from '../../helpers/serve.js';

/** The files whose curl examples are checked. */
const FILES = ['README.md', 'docs/HTTP-API.md'];

interface Example {
  readonly file: string;
  /** The arguments of the `npm start` the file runs before this example. */
  readonly args: readonly string[];
  readonly path: string;
  readonly body: string;
  /** The JSON block that follows the command. */
  readonly answer: string;
}

interface Block {
  readonly lang: string;
  readonly text: string;
}

/** The fenced code blocks of a Markdown text, in order. */
function codeBlocks(markdown: string): Block[] {
  return [...markdown.matchAll(/^```(\w*)\n([\s\S]*?)^```$/gm)].map((m) => ({ lang: m[1]!, text: m[2]! }));
}

const START = /^npm (?:ci && npm )?start(?: -- (.*?))?\s*(?:#.*)?$/m;
const CURL = /curl -s localhost:3000(\/\S*) -d '([^']*)'/;

function examplesOf(file: string): Example[] {
  const blocks = codeBlocks(readFileSync(path.join(ROOT, file), 'utf8'));
  const examples: Example[] = [];
  let args: string[] | undefined;
  for (let i = 0; i < blocks.length; i++) {
    const block = blocks[i]!;
    if (block.lang !== 'sh') continue;
    const start = START.exec(block.text);
    if (start !== null) args = start[1] === undefined ? [] : start[1].trim().split(/\s+/);
    const curl = CURL.exec(block.text);
    if (curl === null) continue;
    const next = blocks[i + 1];
    if (next?.lang !== 'json') throw new Error(`${file}: the curl example for ${curl[1]} is not followed by a json block`);
    if (args === undefined) throw new Error(`${file}: the curl example for ${curl[1]} comes before any npm start`);
    examples.push({ file, args, path: curl[1]!, body: curl[2]!, answer: next.text.trim() });
  }
  return examples;
}

/**
 * Where `actual` differs from `expected`: keys, strings and array lengths exactly; numbers within a relative 1e-5
 * (float32 results may differ in their last bit on another CPU).
 */
function differences(actual: unknown, expected: unknown, where = '$'): string[] {
  if (typeof expected === 'number') {
    const close = typeof actual === 'number' && Math.abs(actual - expected) <= 1e-5 * Math.abs(expected);
    return close ? [] : [`${where}: ${JSON.stringify(actual)}, the text shows ${expected}`];
  }
  if (Array.isArray(expected)) {
    if (!Array.isArray(actual) || actual.length !== expected.length) return [`${where}: ${JSON.stringify(actual)}, the text shows ${JSON.stringify(expected)}`];
    return expected.flatMap((item, i) => differences(actual[i], item, `${where}[${i}]`));
  }
  if (expected !== null && typeof expected === 'object') {
    if (actual === null || typeof actual !== 'object' || Array.isArray(actual)) return [`${where}: ${JSON.stringify(actual)}, the text shows an object`];
    const keys = Object.keys(expected);
    const extra = Object.keys(actual).filter((key) => !keys.includes(key));
    const extraText = extra.length === 0 ? [] : [`${where}: keys the text does not show: ${extra.join(', ')}`];
    return [...extraText, ...keys.flatMap((key) => differences((actual as Record<string, unknown>)[key], (expected as Record<string, unknown>)[key], `${where}.${key}`))];
  }
  return actual === expected ? [] : [`${where}: ${JSON.stringify(actual)}, the text shows ${JSON.stringify(expected)}`];
}

const examples = FILES.flatMap(examplesOf);
const servers = new Map<string, Server>();
const keyOf = (args: readonly string[]) => args.join(' ');

test.before(async () => {
  const distinct = [...new Map(examples.map((e) => [keyOf(e.args), e.args])).values()];
  const started = await Promise.all(distinct.map(async (args) => [keyOf(args), await startServer(args)] as const));
  for (const [key, server] of started) servers.set(key, server);
});

test.after.always(async () => {
  await Promise.all([...servers.values()].map((server) => server.stop()));
});

test('the README shows a curl example for the default model and one for the CNN', (t) => {
  const readme = examples.filter((e) => e.file === 'README.md');
  t.true(
    readme.some((e) => e.args.length === 0),
    'an example after `npm start` with no arguments',
  );
  t.true(
    readme.some((e) => keyOf(e.args) === '--model models/digits-cnn' && e.body.includes('"instances"')),
    'an instances example after `npm start -- --model models/digits-cnn`',
  );
});

test('docs/HTTP-API.md shows tabular, tensor, error and Open Inference Protocol examples', (t) => {
  const docs = examples.filter((e) => e.file === 'docs/HTTP-API.md');
  t.true(docs.some((e) => e.answer.includes('"prediction"')), 'a tabular answer');
  t.true(docs.some((e) => e.answer.includes('"outputs":{')), 'a tensor answer');
  t.true(docs.some((e) => e.answer.includes('"error"')), 'an error');
  t.true(docs.some((e) => e.path.endsWith('/infer')), 'an infer request');
});

for (const [index, example] of examples.entries()) {
  test(`${example.file} example ${index + 1} (${example.path} on npm start ${keyOf(example.args) || 'with no arguments'}) answers what the text shows`, async (t) => {
    const server = servers.get(keyOf(example.args))!;
    const response = await fetch(`${server.url}${example.path}`, {
      method: 'POST',
      // What `curl -d` sends.
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: example.body,
    });
    const text = await response.text();
    const shown = JSON.parse(example.answer) as Record<string, unknown>;
    // An example that shows an error shows a 4xx; any other shows a 200.
    if ('error' in shown) t.true(response.status >= 400 && response.status < 500, `status ${response.status}: ${text}`);
    else t.is(response.status, 200, text);
    t.deepEqual(differences(JSON.parse(text), shown), [], `answer: ${text}`);
  });
}
