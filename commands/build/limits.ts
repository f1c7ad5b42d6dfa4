/**
 * Lambda's size limits, checked before AWS sees anything. Pure: the build hands in what it measured and gets back
 * the breaches, each with the number, the limit and what to do. The limits themselves are the contract's
 * (functions/contract/lambda-limits.ts), which the infrastructure checks too.
 */
import { LAMBDA_LIMITS, MB, MODEL_TMP_SHARE } from '../../functions/contract/lambda-limits.js';

export interface MeasuredArtifact {
  readonly name: string;
  readonly file: string;
  readonly bytes: number;
  readonly unzippedBytes: number;
  readonly kind: 'function' | 'layer' | 'model';
}

export interface Breach {
  readonly what: string;
  readonly bytes: number;
  readonly limit: number;
  readonly fix: string;
}

function mb(bytes: number): string {
  return `${(bytes / MB).toFixed(1)} MB`;
}

/**
 * Checks the artifacts against Lambda's limits. `extraLayers` counts layers attached beyond this build's own;
 * `ephemeralMb` is the function's /tmp size, which an S3-packaged model must fit into.
 */
export function checkBudgets(artifacts: readonly MeasuredArtifact[], options: { readonly ephemeralMb: number; readonly extraLayers?: number }): Breach[] {
  const breaches: Breach[] = [];
  const code = artifacts.filter((a) => a.kind !== 'model');
  for (const artifact of code) {
    if (artifact.bytes > LAMBDA_LIMITS.directUploadZippedBytes) {
      breaches.push({
        what: `${artifact.name} (${artifact.file}) is ${mb(artifact.bytes)} zipped`,
        bytes: artifact.bytes,
        limit: LAMBDA_LIMITS.directUploadZippedBytes,
        fix:
          artifact.kind === 'function'
            ? 'package the model for S3 (--package s3) or lower --zip-model-limit-mb so the model leaves the zip'
            : 'build for one architecture only (it is) and drop unneeded files; a layer over 50 MB must be uploaded through S3',
      });
    }
  }
  const unzipped = code.reduce((sum, a) => sum + a.unzippedBytes, 0);
  if (unzipped > LAMBDA_LIMITS.unzippedBytes) {
    breaches.push({
      what: `function plus layers unzip to ${mb(unzipped)} (${code.map((a) => `${a.name} ${mb(a.unzippedBytes)}`).join(', ')})`,
      bytes: unzipped,
      limit: LAMBDA_LIMITS.unzippedBytes,
      fix: 'package the model for S3 (--package s3), build for arm64 (its onnxruntime binary is about half the x86_64 one), or quantize the model',
    });
  }
  const layers = code.filter((a) => a.kind === 'layer').length + (options.extraLayers ?? 0);
  if (layers > LAMBDA_LIMITS.layers) {
    breaches.push({ what: `${layers} layers`, bytes: layers, limit: LAMBDA_LIMITS.layers, fix: `merge layers; Lambda attaches at most ${LAMBDA_LIMITS.layers}` });
  }
  const model = artifacts.find((a) => a.kind === 'model');
  const tmpBudget = Math.floor(options.ephemeralMb * MB * MODEL_TMP_SHARE);
  if (model !== undefined && model.unzippedBytes > tmpBudget) {
    breaches.push({
      what: `the model (${model.file}) is ${mb(model.unzippedBytes)}, downloaded to /tmp at init`,
      bytes: model.unzippedBytes,
      limit: tmpBudget,
      fix: `raise --ephemeral-storage-mb (now ${options.ephemeralMb}; up to ${LAMBDA_LIMITS.maxEphemeralMb}) so the model takes at most ${MODEL_TMP_SHARE * 100}% of /tmp, or quantize the model`,
    });
  }
  return breaches;
}

export function formatBreach(breach: Breach): string {
  const unit = (n: number) => (breach.what.endsWith('layers') ? String(n) : mb(n));
  return `${breach.what}; the limit is ${unit(breach.limit)}. Fix: ${breach.fix}.`;
}

/** The size table the build prints: zipped, unzipped, the limit that applies, and the headroom left. */
export function sizeTable(artifacts: readonly MeasuredArtifact[], ephemeralMb: number): string {
  const code = artifacts.filter((a) => a.kind !== 'model');
  const unzippedTotal = code.reduce((sum, a) => sum + a.unzippedBytes, 0);
  const rows: string[][] = [['artifact', 'file', 'zipped', 'unzipped', 'limit', 'headroom']];
  for (const a of artifacts) {
    if (a.kind === 'model') {
      const budget = Math.floor(ephemeralMb * MB * MODEL_TMP_SHARE);
      rows.push([a.name, a.file, mb(a.bytes), mb(a.unzippedBytes), `${mb(budget)} of /tmp`, mb(budget - a.unzippedBytes)]);
    } else {
      rows.push([a.name, a.file, mb(a.bytes), mb(a.unzippedBytes), `${mb(LAMBDA_LIMITS.directUploadZippedBytes)} zipped`, mb(LAMBDA_LIMITS.directUploadZippedBytes - a.bytes)]);
    }
  }
  rows.push(['function + layers', '', '', mb(unzippedTotal), `${mb(LAMBDA_LIMITS.unzippedBytes)} unzipped`, mb(LAMBDA_LIMITS.unzippedBytes - unzippedTotal)]);
  const widths = rows[0]!.map((_, c) => Math.max(...rows.map((r) => r[c]!.length)));
  return rows.map((r) => r.map((cell, c) => (c >= 2 ? cell.padStart(widths[c]!) : cell.padEnd(widths[c]!))).join('  ')).join('\n');
}
