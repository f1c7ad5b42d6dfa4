// Simulates API Gateway HTTP API payload 2.0 events with the project's own event builder (test/helpers/function.ts).
import test, { type ExecutionContext } from 'ava';
import { createHash } from 'node:crypto';
import { readFile, readdir, stat } from 'node:fs/promises';
import { createServer, type Server, type Socket } from 'node:net';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { ModelSourceError } from '../../../functions/predict/errors.js';
import type { DownloadOptions, ModelArtifactSource } from '../../../functions/predict/model-artifact.js';
import { fetchModelArtifact } from '../../../functions/predict/model-source.js';
import { DEFAULT_ANSWER_TIMEOUT_MS, DEFAULT_MAX_ATTEMPTS } from '../../../functions/predict/s3-download.js';
import { MODELS, functionFor, json } from '../../helpers/function.js';
import { tempDir } from '../../helpers/temp-dir.js';

// The real S3 client against endpoints that misbehave on purpose: a local TCP server that accepts and never
// answers, or answers the headers and then stalls. AWS_ENDPOINT_URL is process-wide, so the tests run one at a time.
const SOURCE: ModelArtifactSource = { kind: 's3', bucket: 'models', key: 'iris/model.onnx', versionId: undefined };
const HINT = 'check the network path to S3 (VPC endpoint or NAT) and AWS_ENDPOINT_URL';
/** Lambda's limit on an on-demand function's init phase. */
const LAMBDA_INIT_MS = 10_000;

test.before(() => {
  Object.assign(process.env, { AWS_ACCESS_KEY_ID: 'testing', AWS_SECRET_ACCESS_KEY: 'testing', AWS_REGION: 'us-east-1' });
  delete process.env['AWS_PROFILE'];
  delete process.env['AWS_ENDPOINT_URL_S3'];
});

interface Endpoint {
  readonly connections: () => number;
  close(): Promise<void>;
}

/** A TCP server on 127.0.0.1 that AWS_ENDPOINT_URL points at; `onRequest` gets each socket once a request's headers are in. */
async function endpoint(onRequest: (socket: Socket) => void): Promise<Endpoint> {
  const sockets = new Set<Socket>();
  const server: Server = createServer((socket) => {
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
    socket.on('error', () => undefined);
    let head = '';
    const onData = (chunk: Buffer) => {
      head += chunk.toString('latin1');
      if (!head.includes('\r\n\r\n')) return;
      socket.off('data', onData);
      onRequest(socket);
    };
    socket.on('data', onData);
  });
  let connections = 0;
  server.on('connection', () => (connections += 1));
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const address = server.address();
  if (typeof address !== 'object' || address === null) throw new Error('no address');
  process.env['AWS_ENDPOINT_URL'] = `http://127.0.0.1:${address.port}`;
  return {
    connections: () => connections,
    async close() {
      for (const socket of sockets) socket.destroy();
      await new Promise((resolve) => server.close(resolve));
    },
  };
}

/** Starts the download into a fresh folder and returns how it settled and how long it took. */
async function attempt(t: ExecutionContext, options: DownloadOptions, whileRunning?: (dir: string) => Promise<unknown>) {
  const dir = await tempDir(t, 'model-stall-');
  const started = performance.now();
  const settled = fetchModelArtifact(SOURCE, dir, undefined, options).then(
    (artifact) => ({ artifact, error: undefined }),
    (error: unknown) => ({ artifact: undefined, error }),
  );
  const during = whileRunning === undefined ? undefined : await whileRunning(dir);
  const { artifact, error } = await settled;
  return { artifact, error, ms: performance.now() - started, dir, during };
}

/** Polls `dir` until a file with at least one byte appears in it (or the timeout passes). */
async function partialFileAppears(dir: string, timeoutMs = 5000): Promise<boolean> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    for (const name of await readdir(dir)) {
      if ((await stat(path.join(dir, name)).catch(() => undefined))?.size) return true;
    }
    await sleep(20);
  }
  return false;
}

function headers(length: number): string {
  return `HTTP/1.1 200 OK\r\nContent-Type: application/octet-stream\r\nContent-Length: ${length}\r\nETag: "x"\r\n\r\n`;
}

test.serial('an endpoint that accepts and never answers fails within the answer timeout, once per attempt', async (t) => {
  const silent = await endpoint(() => undefined);
  try {
    const { error, dir } = await attempt(t, { answerTimeoutMs: 300, maxAttempts: 2 });
    t.true(error instanceof ModelSourceError, String(error));
    const message = (error as Error).message;
    t.is(message, `model s3://models/iris/model.onnx could not be downloaded: S3 did not answer within 0.3 s (2 attempts); ${HINT}`);
    t.false(message.includes(dir));
    t.is(silent.connections(), 2);
    t.deepEqual(await readdir(dir), []);
  } finally {
    await silent.close();
  }
});

test.serial("with the default bounds, a silent endpoint fails inside Lambda's 10 s init", async (t) => {
  const silent = await endpoint(() => undefined);
  try {
    const { error, ms } = await attempt(t, {});
    t.true(error instanceof ModelSourceError, String(error));
    t.is(silent.connections(), DEFAULT_MAX_ATTEMPTS);
    t.true((error as Error).message.includes(`S3 did not answer within ${DEFAULT_ANSWER_TIMEOUT_MS / 1000} s (${DEFAULT_MAX_ATTEMPTS} attempts)`), (error as Error).message);
    t.true(ms < LAMBDA_INIT_MS - 2000, `took ${ms} ms, leaving too little of the init for the runtime and the log line`);
  } finally {
    await silent.close();
  }
});

test.serial('a body that starts and then stalls fails within the idle timeout and its partial file is removed', async (t) => {
  const stalling = await endpoint((socket) => {
    socket.write(headers(1024 * 1024));
    socket.write(Buffer.alloc(1024, 7));
  });
  try {
    const { error, dir, during } = await attempt(t, { idleTimeoutMs: 500 }, (dir) => partialFileAppears(dir));
    t.true(during, 'the partial file was written before the stall');
    t.true(error instanceof ModelSourceError, String(error));
    const message = (error as Error).message;
    t.is(message, `model s3://models/iris/model.onnx could not be downloaded: S3 stopped sending the object after 1024 of 1048576 bytes and sent nothing for 0.5 s; ${HINT}`);
    t.false(message.includes(dir));
    t.deepEqual(await readdir(dir), []);
  } finally {
    await stalling.close();
  }
});

test.serial('a slow body that keeps arriving is not cut off, however long it takes in total', async (t) => {
  // 12 chunks 150 ms apart, each gap under the 400 ms idle timeout: the whole body takes 1.8 s, longer than the
  // idle and answer timeouts together.
  const chunks = 12;
  const size = 10;
  const body = Buffer.from(Array.from({ length: chunks }, (_, i) => `chunk ${String(i).padStart(3, '0')};`).join(''));
  const trickling = await endpoint((socket) => {
    socket.write(headers(body.length));
    void (async () => {
      for (let i = 0; i < chunks; i += 1) {
        await sleep(150);
        if (socket.destroyed) return;
        socket.write(body.subarray(i * size, (i + 1) * size));
      }
    })();
  });
  try {
    const { artifact, error } = await attempt(t, { answerTimeoutMs: 300, idleTimeoutMs: 400 });
    t.is(error, undefined);
    t.is(artifact?.bytes, body.length);
    t.is(artifact?.sha256, createHash('sha256').update(body).digest('hex'));
    t.deepEqual(await readFile(artifact!.file), body);
  } finally {
    await trickling.close();
  }
});

test.serial('while the model hangs on a stalled S3, liveness and readiness answer at once and predictions get a 503 once the bound passes', async (t) => {
  const silent = await endpoint(() => undefined);
  try {
    const fn = functionFor({ MODEL_DIR: path.join(MODELS, 'iris'), MODEL_BUCKET: 'models', MODEL_KEY: 'iris/model.onnx', MODEL_DOWNLOAD_DIR: await tempDir(t, 'model-'), MODEL_S3_ANSWER_TIMEOUT_MS: '500', MODEL_S3_MAX_ATTEMPTS: '1' });
    let loaded = false;
    void fn.handler.ready.then(() => (loaded = true));
    const live = await fn.invoke('GET', '/v2/health/live');
    t.is(live.statusCode, 200);
    const ready = await fn.invoke('GET', '/v2/health/ready');
    t.is(ready.statusCode, 503);
    t.false(loaded, 'both answered while the load was still waiting on S3');
    const predict = await fn.invoke('POST', '/predict', '{"features":[5.1,3.5,1.4,0.2]}');
    t.is(predict.statusCode, 503);
    t.regex(json(predict)['error'] as string, /^Model unavailable: the model file could not be fetched/);
    t.false(predict.body.includes('127.0.0.1'));
    t.regex(String(fn.records().find((r) => r['level'] === 'ERROR')?.['error']), /S3 did not answer within 0\.5 s/);
  } finally {
    await silent.close();
  }
});
