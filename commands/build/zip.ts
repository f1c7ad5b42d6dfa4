/**
 * Byte-reproducible zips with fflate: entries sorted by path, one fixed timestamp, fixed Unix modes, fixed
 * compression level. The same inputs give the same bytes on any machine, so Terraform sees no change to deploy.
 */
import { createHash } from 'node:crypto';
import { unzipSync, zipSync, type Zippable } from 'fflate';

/**
 * Zip timestamps are local-time DOS fields, and fflate reads them with the local-time getters: built with the
 * local-time constructor, the fields are 1980-01-02 00:00:00 in every time zone. (1980-01-01 is the earliest a
 * zip can hold; a day later stays clear of edge cases.)
 */
export const FIXED_MTIME = new Date(1980, 0, 2, 0, 0, 0);

export interface ZipEntry {
  /** Forward-slash path inside the zip. */
  readonly path: string;
  readonly data: Uint8Array;
  /** Whether the file is executable (0755); otherwise 0644. */
  readonly executable?: boolean;
}

export interface ZipResult {
  readonly bytes: Uint8Array;
  readonly unzippedBytes: number;
  readonly sha256: string;
  readonly entries: number;
}

const UNIX = 3;

export function deterministicZip(entries: readonly ZipEntry[]): ZipResult {
  const sorted = [...entries].sort((a, b) => (a.path < b.path ? -1 : a.path > b.path ? 1 : 0));
  const tree: Zippable = {};
  let unzippedBytes = 0;
  for (const entry of sorted) {
    if (entry.path in tree) throw new Error(`zip entry ${entry.path} is listed twice`);
    const mode = entry.executable === true ? 0o100755 : 0o100644;
    tree[entry.path] = [entry.data, { mtime: FIXED_MTIME, os: UNIX, attrs: (mode << 16) >>> 0, level: 9 }];
    unzippedBytes += entry.data.length;
  }
  const bytes = zipSync(tree);
  return { bytes, unzippedBytes, sha256: createHash('sha256').update(bytes).digest('hex'), entries: sorted.length };
}

/** The files of a zip, by path (for tests and `npm run invoke`). */
export function readZip(bytes: Uint8Array): Record<string, Uint8Array> {
  return unzipSync(bytes);
}
