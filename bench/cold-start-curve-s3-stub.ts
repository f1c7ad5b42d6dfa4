/**
 * A file-backed stand-in for S3's GetObject on loopback, for the curve's timings: GET /<bucket>/<key>, whole or one
 * byte range (206 with Content-Range), ETag and If-Match, streamed from the file. moto, which the tests use, copies
 * the whole object to answer each range (measured: a 500 MB object in 63 parts of 8 MB took ten times as long as one
 * GET), so timing ranged GETs against it measures moto. Loopback has no per-connection limit either, so what this
 * shows is the cost per part (requests, the SDK, hashing by re-reading), not the gain on Lambda's network.
 */
import { createReadStream, statSync } from 'node:fs';
import { createServer, type Server } from 'node:http';

export interface S3Stub {
  readonly endpoint: string;
  /** Serves `file` at /<bucket>/<key>. */
  put(bucket: string, key: string, file: string): void;
  close(): Promise<void>;
}

export async function startS3Stub(): Promise<S3Stub> {
  const objects = new Map<string, { file: string; size: number; etag: string }>();
  const server: Server = createServer((req, res) => {
    const url = new URL(req.url ?? '/', 'http://stub');
    const object = objects.get(decodeURIComponent(url.pathname));
    if (req.method !== 'GET' || object === undefined) {
      res.writeHead(404, { 'content-type': 'application/xml' }).end('<?xml version="1.0" encoding="UTF-8"?><Error><Code>NoSuchKey</Code><Message>no such key</Message></Error>');
      return;
    }
    const ifMatch = req.headers['if-match'];
    if (ifMatch !== undefined && ifMatch !== object.etag) {
      res.writeHead(412, { 'content-type': 'application/xml' }).end('<?xml version="1.0" encoding="UTF-8"?><Error><Code>PreconditionFailed</Code><Message>If-Match</Message></Error>');
      return;
    }
    const range = /^bytes=(\d+)-(\d+)$/.exec(String(req.headers['range'] ?? ''));
    const start = range === null ? 0 : Number(range[1]);
    const end = range === null ? object.size - 1 : Math.min(Number(range[2]), object.size - 1);
    res.writeHead(range === null ? 200 : 206, {
      'content-length': String(end - start + 1),
      'content-type': 'application/octet-stream',
      etag: object.etag,
      ...(range === null ? {} : { 'content-range': `bytes ${start}-${end}/${object.size}` }),
    });
    createReadStream(object.file, { start, end, highWaterMark: 1024 * 1024 }).pipe(res);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as { port: number };
  return {
    endpoint: `http://127.0.0.1:${port}`,
    put(bucket, key, file) {
      const { size, mtimeMs } = statSync(file);
      objects.set(`/${bucket}/${key}`, { file, size, etag: `"${size.toString(16)}-${Math.round(mtimeMs).toString(16)}"` });
    },
    async close() {
      server.closeAllConnections();
      await new Promise((resolve) => server.close(resolve));
    },
  };
}
