/**
 * One drift run: the baseline of --model, the records at the location, the window, the report and its verdict.
 */
import type { DriftOptions } from './args.js';
import { loadBaseline, shownPath } from './baseline-file.js';
import { parseS3Url, readFolder, readS3, s3Client } from './capture-source.js';
import { NoRecordsError } from './errors.js';
import { driftReport, selectRecords, type DriftReport } from './report.js';

export async function runDrift(options: DriftOptions): Promise<DriftReport> {
  const { baseline, file, warnings } = await loadBaseline(options.modelDir);
  const s3 = parseS3Url(options.location);
  const read =
    s3 === undefined
      ? await readFolder(options.location)
      : await readS3(s3, { ...(options.since === undefined ? {} : { since: options.since }), client: await s3Client(options.region) });
  const model = `${baseline.model.name}@${baseline.model.version}`;
  const window = { since: options.since, until: options.until };
  const selection = selectRecords(read.records, model, window);
  if (selection.used.length === 0) {
    const others = Object.entries(selection.otherModels);
    const span = `${options.since?.toISOString() ?? 'the first record'} to ${options.until.toISOString()}`;
    const found = [
      `${read.files} file(s) read`,
      `${read.records.length} capture record(s) found`,
      ...(selection.outside > 0 ? [`${selection.outside} of ${model} outside the window`] : []),
      ...(others.length > 0 ? [`records of ${others.map(([m, n]) => `${m} (${n})`).join(', ')}`] : []),
      ...(read.malformed > 0 ? [`${read.malformed} unreadable (${read.reasons[0]})`] : []),
    ];
    throw new NoRecordsError(
      `no capture record of ${model} in ${options.location} from ${span} (${found.join('; ')}); widen the window with --since, check the location, ` +
        'or check that capture is on (capture.sampleRate above 0 for the environment in infra/config.ts, which sets the function\'s CAPTURE_SAMPLE_RATE)',
    );
  }
  return driftReport(baseline, selection, {
    baselineFile: shownPath(file),
    location: options.location,
    window,
    threshold: options.threshold,
    minRows: options.minRows,
    files: read.files,
    skippedFiles: read.skippedFiles,
    read: read.records.length,
    malformed: read.malformed,
    warnings,
  });
}
