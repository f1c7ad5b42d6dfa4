/**
 * The S3 download alone, in a fresh process (cold-start-curve.ts runs it):
 *   node --import tsx bench/cold-start-curve-download.ts '{"bucket":"b","key":"k","partBytes":0,"runs":3}'
 * with AWS_ENDPOINT_URL pointing at the S3 emulator. `partBytes` 0 takes the function's default part size; a size at
 * least the object's makes it one GET. Writes one JSON line to stderr: ms per run, the parts, and the process's
 * peak RSS before and after the downloads (the parts stream to the file, so the object never sits in memory).
 */
import { readFileSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { DEFAULT_PART_BYTES, download } from '../functions/predict/s3-download.js';
import { sampled, type Sampled } from './bench-data.js';

export interface DownloadResult {
  readonly ms: Sampled;
  readonly bytes: number;
  readonly parts: number;
  /** Peak RSS of the process, MB, after the downloads and before the first one (the SDK and tsx loaded). */
  readonly peakRssMb: number;
  readonly startRssMb: number;
}

/** The peak RSS of this process image, MB: VmHWM (getrusage's maxrss survives exec, so it starts at the parent's size). */
function peakRssMb(): number {
  const hwm = /^VmHWM:\s+(\d+) kB/m.exec(readFileSync('/proc/self/status', 'utf8'));
  return Math.round((hwm === null ? process.resourceUsage().maxRSS : Number(hwm[1])) / 1024);
}

const args = JSON.parse(process.argv[2] ?? '{}') as { bucket: string; key: string; partBytes: number; runs: number };
const partBytes = args.partBytes > 0 ? args.partBytes : DEFAULT_PART_BYTES;
await import('@aws-sdk/client-s3');
const startRssMb = peakRssMb();
const times: number[] = [];
let bytes = 0;
for (let i = 0; i < Math.max(1, args.runs); i++) {
  const dir = await mkdtemp(path.join(tmpdir(), 'curve-download-'));
  try {
    const t0 = performance.now();
    const artifact = await download({ kind: 's3', bucket: args.bucket, key: args.key, versionId: undefined }, dir, undefined, { partBytes });
    times.push(performance.now() - t0);
    bytes = artifact.bytes;
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}
const result: DownloadResult = { ms: sampled(times), bytes, parts: Math.ceil(bytes / partBytes), peakRssMb: peakRssMb(), startRssMb };
process.stderr.write(`${JSON.stringify(result)}\n`);
