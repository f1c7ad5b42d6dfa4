/**
 * `npm run drift -- <capture location> ...`: compares the captured requests of a time window with the bundle's
 * training baseline and reports the population stability index per feature and for the prediction, as a table (or
 * JSON) and an SVG chart. The exit code lets a scheduled workflow fail on drift (docs/DRIFT.md): 0 no PSI above the
 * threshold, 3 drift, 1 bad input or an unreadable location or baseline, 4 no record in the window or fewer rows than
 * --min-rows (too little to tell drift from chance).
 */
import { writeFileSync } from 'node:fs';
import { EXIT, parseDriftArgs, STDOUT, USAGE } from './args.js';
import { driftChart } from './chart.js';
import { DriftError, NoRecordsError } from './errors.js';
import { reportText } from './report.js';
import { runDrift } from './run-drift.js';

function write(flag: string, file: string, text: string): void {
  try {
    writeFileSync(file, text);
  } catch (error) {
    throw new DriftError(`--${flag} ${JSON.stringify(file)} could not be written (${(error as Error).message}); expected a writable file path`);
  }
}

async function main(argv: readonly string[]): Promise<number> {
  try {
    const parsed = parseDriftArgs(argv);
    if (parsed.help) {
      process.stdout.write(`${USAGE}\n`);
      return EXIT.stable;
    }
    const report = await runDrift(parsed);
    if (parsed.svg !== undefined) write('svg', parsed.svg, await driftChart(report));
    const json = `${JSON.stringify(report, null, 2)}\n`;
    if (parsed.json === STDOUT) process.stdout.write(json);
    else {
      if (parsed.json !== undefined) write('json', parsed.json, json);
      process.stdout.write(reportText(report));
    }
    return report.verdict === 'drift' ? EXIT.drift : report.verdict === 'too little' ? EXIT.tooLittle : EXIT.stable;
  } catch (error) {
    if (!(error instanceof DriftError)) throw error;
    process.stderr.write(`drift: ${error.message}\n`);
    return error instanceof NoRecordsError ? EXIT.tooLittle : EXIT.badInput;
  }
}

process.exitCode = await main(process.argv.slice(2));
