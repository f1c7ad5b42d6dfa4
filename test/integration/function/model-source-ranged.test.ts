// The ranged, parallel S3 download against moto, through a local HTTP proxy that counts, cuts, corrupts or delays
// chosen requests. AWS_ENDPOINT_URL is process-wide, so the tests run one at a time.
import test, { type ExecutionContext } from 'ava';
import { CreateBucketCommand, PutBucketVersioningCommand, PutObjectCommand, S3Client } from '@aws-sdk/client-s3';
import { createHash, randomBytes } from 'node:crypto';
import { readFile, readdir, symlink } from 'node:fs/promises';
import { createServer, request, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import path from 'node:path';
import { ModelSourceError } from '../../../functions/predict/errors.js';
import type { DownloadOptions, S3ArtifactSource } from '../../../functions/predict/model-artifact.js';
import { fetchModelArtifact } from '../../../functions/predict/model-source.js';
import { DEFAULT_PART_ATTEMPTS, downloadPath } from '../../../functions/predict/s3-download.js';
import { MODELS, functionFor, json } from '../../helpers/function.js';
import { startMoto, type Moto } from '../../helpers/moto.js';
import { tempDir } from '../../helpers/temp-dir.js';

const BUCKET = 'ranged';
const PART = 64 * 1024;
const OPTIONS: DownloadOptions = { partBytes: PART, concurrency: 3, idleTimeoutMs: 2000 };
let moto: Moto;

/** What the proxy does with one request: pass it on, or change what goes back. */
interface Hook {
  /** Runs before the request is forwarded (e.g. to replace the object in between two parts). */
  readonly before?: () => Promise<void>;
  /** Sends this many body bytes and then resets the connection. */
  readonly cutAfter?: number;
  /** Flips the bits of the body byte at this offset of the response. */
  readonly corruptAt?: number;
}

interface Proxy {
  /** The Range header of every GET, in arrival order ('' for none). */
  readonly ranges: string[];
  close(): Promise<void>;
}

function s3(): S3Client {
  return new S3Client({ endpoint: moto.endpoint, forcePathStyle: true });
}

async function put(key: string, body: Buffer): Promise<string | undefined> {
  const client = s3();
  try {
    return (await client.send(new PutObjectCommand({ Bucket: BUCKET, Key: key, Body: body }))).VersionId;
  } finally {
    client.destroy();
  }
}

/** A proxy to moto on a free port, which AWS_ENDPOINT_URL points at; `hook` picks what to do with the nth GET (from 0). */
async function proxy(hook: (range: string, n: number) => Hook | undefined = () => undefined): Promise<Proxy> {
  const target = new URL(moto.endpoint);
  const ranges: string[] = [];
  const server: Server = createServer((req: IncomingMessage, res: ServerResponse) => {
    const range = req.method === 'GET' ? String(req.headers['range'] ?? '') : undefined;
    const action = range === undefined ? undefined : hook(range, ranges.push(range) - 1);
    void (async () => {
      await action?.before?.();
      const upstream = request({ host: target.hostname, port: target.port, method: req.method, path: req.url, headers: req.headers }, (answer) => {
        res.writeHead(answer.statusCode ?? 502, answer.headers);
        // The headers go out at once, so a cut below breaks the body rather than the answer (which the SDK retries).
        res.flushHeaders();
        let sent = 0;
        let cut = false;
        answer.on('data', (chunk: Buffer) => {
          if (cut) return;
          const from = sent;
          sent += chunk.length;
          if (action?.corruptAt !== undefined && action.corruptAt >= from && action.corruptAt < sent) {
            chunk = Buffer.from(chunk);
            chunk[action.corruptAt - from] = chunk[action.corruptAt - from]! ^ 0xff;
          }
          if (action?.cutAfter !== undefined && sent > action.cutAfter) {
            cut = true;
            answer.destroy();
            res.write(chunk.subarray(0, Math.max(0, action.cutAfter - from)), () => res.socket?.destroy());
            return;
          }
          res.write(chunk);
        });
        answer.on('end', () => res.end());
      });
      req.pipe(upstream);
    })();
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  process.env['AWS_ENDPOINT_URL'] = `http://127.0.0.1:${(server.address() as { port: number }).port}`;
  return {
    ranges,
    async close() {
      server.closeAllConnections();
      await new Promise((resolve) => server.close(resolve));
    },
  };
}

function sha(bytes: Buffer): string {
  return createHash('sha256').update(bytes).digest('hex');
}

function source(key: string, versionId?: string): S3ArtifactSource {
  return { kind: 's3', bucket: BUCKET, key, versionId };
}

async function settle(t: ExecutionContext, from: S3ArtifactSource, expected: string | undefined, options: DownloadOptions = OPTIONS) {
  const dir = await tempDir(t, 'model-ranged-');
  const outcome = await fetchModelArtifact(from, dir, expected, options).then(
    (artifact) => ({ artifact, error: undefined }),
    (error: unknown) => ({ artifact: undefined, error }),
  );
  return { ...outcome, dir };
}

test.before(async () => {
  Object.assign(process.env, { AWS_ACCESS_KEY_ID: 'testing', AWS_SECRET_ACCESS_KEY: 'testing', AWS_REGION: 'us-east-1' });
  delete process.env['AWS_PROFILE'];
  delete process.env['AWS_ENDPOINT_URL_S3'];
  moto = await startMoto();
  const client = s3();
  await client.send(new CreateBucketCommand({ Bucket: BUCKET }));
  await client.send(new PutBucketVersioningCommand({ Bucket: BUCKET, VersioningConfiguration: { Status: 'Enabled' } }));
  client.destroy();
});

test.after.always(async () => {
  await moto?.stop();
});

for (const size of [0, 1, PART - 1, PART, PART + 1, 3 * PART - 1, 3 * PART, 3 * PART + 1, 7 * PART + 17]) {
  const gets = Math.ceil(size / PART);
  const how = size === 0 ? 'an empty object arrives after its refused range, by one plain GET' : `an object of ${size} byte${size === 1 ? '' : 's'} arrives whole in ${gets === 1 ? 'one ranged GET' : `${gets} ranged GETs`}`;
  test.serial(`${how}, with its sha256`, async (t) => {
    const body = randomBytes(size);
    await put(`sizes/${size}`, body);
    const via = await proxy();
    try {
      const { artifact, error } = await settle(t, source(`sizes/${size}`), sha(body));
      t.is(error, undefined, String(error));
      t.is(artifact?.bytes, size);
      t.is(artifact?.sha256, sha(body));
      t.true((await readFile(artifact!.file)).equals(body));
      const expected = size === 0 ? ['bytes=0-65535', ''] : Array.from({ length: Math.ceil(size / PART) }, (_, i) => `bytes=${i * PART}-${(i === 0 ? PART : Math.min((i + 1) * PART, size)) - 1}`);
      t.deepEqual([...via.ranges].sort(), [...expected].sort());
    } finally {
      await via.close();
    }
  });
}

test.serial('a part whose body breaks off is fetched again alone, and the file is still whole', async (t) => {
  const body = randomBytes(5 * PART + 100);
  await put('retry/once', body);
  const cut = `bytes=${2 * PART}-${3 * PART - 1}`;
  let cuts = 0;
  const via = await proxy((range) => (range === cut && cuts++ === 0 ? { cutAfter: 1000 } : undefined));
  try {
    const { artifact, error } = await settle(t, source('retry/once'), sha(body));
    t.is(error, undefined, String(error));
    t.true((await readFile(artifact!.file)).equals(body));
    t.is(via.ranges.filter((r) => r === cut).length, 2);
    t.is(via.ranges.length, 7);
  } finally {
    await via.close();
  }
});

test.serial('a part that breaks off on every attempt fails the download after its attempts, naming its bytes, and leaves no file', async (t) => {
  const body = randomBytes(4 * PART);
  await put('retry/always', body);
  const cut = `bytes=${PART}-${2 * PART - 1}`;
  const via = await proxy((range) => (range === cut ? { cutAfter: 1000 } : undefined));
  try {
    const { error, dir } = await settle(t, source('retry/always'), undefined);
    t.true(error instanceof ModelSourceError, String(error));
    const message = (error as Error).message;
    t.true(message.startsWith(`model s3://${BUCKET}/retry/always could not be downloaded: bytes ${PART}-${2 * PART - 1} of ${4 * PART} failed ${DEFAULT_PART_ATTEMPTS} attempts; the last: `), message);
    t.false(message.includes(dir));
    t.is(via.ranges.filter((r) => r === cut).length, DEFAULT_PART_ATTEMPTS);
    t.deepEqual(await readdir(dir), []);
  } finally {
    await via.close();
  }
});

test.serial('a part corrupted in transit fails the sha256 check at the end and the file is removed', async (t) => {
  const body = randomBytes(4 * PART);
  await put('corrupt', body);
  const via = await proxy((range) => (range === `bytes=${2 * PART}-${3 * PART - 1}` ? { corruptAt: 12_345 } : undefined));
  try {
    const { error, dir } = await settle(t, source('corrupt'), sha(body));
    t.true(error instanceof ModelSourceError, String(error));
    t.regex((error as Error).message, new RegExp(`^model file s3://${BUCKET}/corrupt has sha256 [0-9a-f]{64} but MODEL_SHA256 expects ${sha(body)}; `));
    t.deepEqual(await readdir(dir), []);
  } finally {
    await via.close();
  }
});

test.serial('an object replaced during the download fails it clearly instead of mixing versions, and leaves no file', async (t) => {
  const before = randomBytes(4 * PART);
  const after = randomBytes(4 * PART);
  await put('changing', before);
  // The second GET (a later part) is forwarded only once a new version of the same size has replaced the object.
  const via = await proxy((_range, n) => (n === 1 ? { before: async () => void (await put('changing', after)) } : undefined));
  try {
    const { error, dir } = await settle(t, source('changing'), undefined, { ...OPTIONS, concurrency: 1 });
    t.true(error instanceof ModelSourceError, String(error));
    const message = (error as Error).message;
    t.regex(message, /^model s3:\/\/ranged\/changing could not be downloaded: the object changed during the download \(it had ETag "[0-9a-f]+" when the download began\); redeploy after the upload finishes, or pin MODEL_VERSION_ID to one version$/);
    t.deepEqual(await readdir(dir), []);
  } finally {
    await via.close();
  }
});

test.serial('with MODEL_VERSION_ID pinned, an object replaced during the download still arrives as the pinned version', async (t) => {
  const before = randomBytes(4 * PART);
  const versionId = await put('pinned', before);
  const via = await proxy((_range, n) => (n === 1 ? { before: async () => void (await put('pinned', randomBytes(4 * PART))) } : undefined));
  try {
    const { artifact, error } = await settle(t, source('pinned', versionId), sha(before), { ...OPTIONS, concurrency: 1 });
    t.is(error, undefined, String(error));
    t.true((await readFile(artifact!.file)).equals(before));
  } finally {
    await via.close();
  }
});

// A full /tmp, simulated at the file layer so it needs no mount: the download's file name is a symbolic link to
// /dev/full, where every write fails with ENOSPC as on a full file system. Removing the "partial file" removes the link.
test.serial('a download dir that fills during a ranged download fails with ENOSPC and leaves no file', async (t) => {
  const body = randomBytes(4 * PART);
  await put('full', body);
  const via = await proxy();
  try {
    const dir = await tempDir(t, 'model-full-');
    await symlink('/dev/full', downloadPath(source('full'), dir));
    const error = await fetchModelArtifact(source('full'), dir, undefined, OPTIONS).catch((e: unknown) => e);
    t.true(error instanceof ModelSourceError, String(error));
    t.is((error as Error).message, `model s3://${BUCKET}/full could not be downloaded: the file could not be written (ENOSPC): MODEL_DOWNLOAD_DIR is full; raise the function's ephemeral storage (the object is ${4 * PART} bytes; set at least 2 MB) or free the folder`);
    t.deepEqual(await readdir(dir), []);
  } finally {
    await via.close();
  }
});

test.serial('the function answers 503 with the cause logged when /tmp fills during the download, and no file is left', async (t) => {
  const iris = await readFile(path.join(MODELS, 'iris', 'model.onnx'));
  await put('iris/model.onnx', iris);
  const via = await proxy();
  try {
    const dir = await tempDir(t, 'model-full-');
    await symlink('/dev/full', downloadPath(source('iris/model.onnx'), dir));
    const fn = functionFor({ MODEL_DIR: path.join(MODELS, 'iris'), MODEL_BUCKET: BUCKET, MODEL_KEY: 'iris/model.onnx', MODEL_DOWNLOAD_DIR: dir });
    const response = await fn.invoke('POST', '/predict', '{"features":[5.1,3.5,1.4,0.2]}');
    t.is(response.statusCode, 503);
    t.is(json(response)['error'], 'Model unavailable: the model file could not be fetched; see the function log for the cause');
    const logged = String(fn.records().find((r) => r['level'] === 'ERROR')?.['error']);
    t.true(logged.includes('could not be downloaded: the file could not be written (ENOSPC): MODEL_DOWNLOAD_DIR is full'), logged);
    t.deepEqual(await readdir(dir), []);
  } finally {
    await via.close();
  }
});
