/**
 * Where capture records are read from: a local folder (every file under it, at any depth, or one file) or an S3
 * prefix (`s3://bucket/prefix`, listed page by page). Files may be gzipped (Firehose writes gzip): they are recognised
 * by their first two bytes, whatever their name. The S3 client honours AWS_ENDPOINT_URL (AWS_ENDPOINT_URL_S3 first)
 * and then addresses buckets path-style, as moto and other local endpoints need.
 */
import { readdir, readFile, stat } from 'node:fs/promises';
import path from 'node:path';
import { gunzipSync } from 'node:zlib';
import type { S3Client } from '@aws-sdk/client-s3';
import type { CaptureRecord } from '../../functions/contract/capture.js';
import { parseCaptureText } from './capture-lines.js';
import { CaptureSourceError } from './errors.js';

/** What reading a location found, before the window and the model are applied. */
export interface CaptureRead {
  readonly records: CaptureRecord[];
  /** Files (or S3 objects) read. */
  readonly files: number;
  /** S3 objects not read because they were last written before the window began (they cannot hold its records). */
  readonly skippedFiles: number;
  readonly malformed: number;
  readonly reasons: string[];
}

export interface S3Location {
  readonly bucket: string;
  readonly prefix: string;
}

const S3_URL = /^s3:\/\/([^/]+)\/?(.*)$/;

/** `s3://bucket/prefix` as bucket and prefix, or undefined for anything else. */
export function parseS3Url(location: string): S3Location | undefined {
  const match = S3_URL.exec(location);
  return match === null ? undefined : { bucket: match[1]!, prefix: match[2]! };
}

function isGzip(bytes: Uint8Array): boolean {
  return bytes.length >= 2 && bytes[0] === 0x1f && bytes[1] === 0x8b;
}

/** A file's text: gunzipped when it is gzip (every member of a multi-member file). */
export function fileText(bytes: Uint8Array, where: string): string {
  if (!isGzip(bytes)) return Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString('utf8');
  try {
    return gunzipSync(bytes).toString('utf8');
  } catch (error) {
    throw new CaptureSourceError(`${where} starts like gzip but does not unzip (${(error as Error).message}); remove it or replace it with a whole file`);
  }
}

class Collector {
  readonly records: CaptureRecord[] = [];
  readonly reasons: string[] = [];
  files = 0;
  skippedFiles = 0;
  malformed = 0;

  add(bytes: Uint8Array, where: string): void {
    const parsed = parseCaptureText(fileText(bytes, where), where);
    this.files++;
    for (const record of parsed.records) this.records.push(record);
    this.malformed += parsed.malformed;
    for (const reason of parsed.reasons) if (this.reasons.length < 5) this.reasons.push(reason);
  }

  result(): CaptureRead {
    return { records: this.records, files: this.files, skippedFiles: this.skippedFiles, malformed: this.malformed, reasons: this.reasons };
  }
}

/** Every regular file under `dir`, sorted, hidden ones (a leading ".") left out. */
async function filesUnder(dir: string): Promise<string[]> {
  const found: string[] = [];
  for (const entry of await readdir(dir, { withFileTypes: true })) {
    if (entry.name.startsWith('.')) continue;
    const full = path.join(dir, entry.name);
    if (entry.isDirectory()) found.push(...(await filesUnder(full)));
    else if (entry.isFile()) found.push(full);
  }
  return found.sort();
}

/** Reads every file under a local folder, or one file. */
export async function readFolder(location: string): Promise<CaptureRead> {
  const info = await stat(location).catch(() => undefined);
  if (info === undefined) throw new CaptureSourceError(`capture location ${location} does not exist; give a folder of capture files, a file, or s3://bucket/prefix`);
  const files = info.isDirectory() ? await filesUnder(location) : [location];
  const collector = new Collector();
  for (const file of files) collector.add(await readFile(file), file);
  return collector.result();
}

export interface S3ReadOptions {
  /** Objects last modified before this are not read. */
  readonly since?: Date;
  /** Keys per ListObjectsV2 page (S3's own maximum is 1,000). @default 1000 */
  readonly pageSize?: number;
  /** @default a client for AWS_REGION (us-east-1 when unset), honouring AWS_ENDPOINT_URL */
  readonly client?: S3Client;
}

/** The S3 client the command uses: the endpoint from AWS_ENDPOINT_URL_S3 or AWS_ENDPOINT_URL, path-style then. */
export async function s3Client(region: string | undefined): Promise<S3Client> {
  const { S3Client: Client } = await import('@aws-sdk/client-s3');
  const endpoint = process.env['AWS_ENDPOINT_URL_S3'] ?? process.env['AWS_ENDPOINT_URL'];
  return new Client({
    region: region ?? process.env['AWS_REGION'] ?? process.env['AWS_DEFAULT_REGION'] ?? 'us-east-1',
    forcePathStyle: endpoint !== undefined && endpoint !== '',
    followRegionRedirects: true,
  });
}

function awsMessage(error: unknown): string {
  const e = error as { name?: string; message?: string };
  return `${e.name ?? 'Error'}: ${e.message ?? String(error)}`;
}

/**
 * Reads every object under an S3 prefix, page by page. An object last written before `since` is skipped: a record
 * is written before the object that holds it, so such an object holds no record of the window.
 */
export async function readS3(location: S3Location, options: S3ReadOptions = {}): Promise<CaptureRead> {
  const { ListObjectsV2Command, GetObjectCommand } = await import('@aws-sdk/client-s3');
  const client = options.client ?? (await s3Client(undefined));
  const url = `s3://${location.bucket}/${location.prefix}`;
  const collector = new Collector();
  let token: string | undefined;
  do {
    let page;
    try {
      page = await client.send(
        new ListObjectsV2Command({ Bucket: location.bucket, Prefix: location.prefix, MaxKeys: options.pageSize ?? 1000, ...(token === undefined ? {} : { ContinuationToken: token }) }),
      );
    } catch (error) {
      throw new CaptureSourceError(`cannot list ${url} (${awsMessage(error)}); check the bucket name, the region (AWS_REGION) and that your credentials may s3:ListBucket`, { cause: error });
    }
    for (const object of page.Contents ?? []) {
      const key = object.Key;
      if (key === undefined || key.endsWith('/')) continue;
      if (options.since !== undefined && object.LastModified !== undefined && object.LastModified < options.since) {
        collector.skippedFiles++;
        continue;
      }
      let bytes: Uint8Array;
      try {
        const got = await client.send(new GetObjectCommand({ Bucket: location.bucket, Key: key }));
        bytes = (await got.Body?.transformToByteArray()) ?? new Uint8Array();
      } catch (error) {
        throw new CaptureSourceError(`cannot read s3://${location.bucket}/${key} (${awsMessage(error)}); check that your credentials may s3:GetObject (and kms:Decrypt for a KMS-encrypted bucket)`, { cause: error });
      }
      collector.add(bytes, `s3://${location.bucket}/${key}`);
    }
    token = page.IsTruncated === true ? page.NextContinuationToken : undefined;
  } while (token !== undefined);
  return collector.result();
}
