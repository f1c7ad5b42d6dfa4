/**
 * `npm run cost -- ...`: what a traffic profile costs a month on Lambda on demand, Lambda with provisioned
 * concurrency, SageMaker Serverless Inference and Fargate, and at which average rate each alternative becomes
 * cheaper than Lambda on demand (docs/COST.md). Prints a table (or --json) and draws a chart with --svg.
 */
import { writeFileSync } from 'node:fs';
import { adviceJson, adviceText, advise } from './advice.js';
import { parseCostArgs, USAGE } from './args.js';
import { costAdvisorChart } from './chart.js';
import { CostError } from './errors.js';

async function main(argv: readonly string[]): Promise<number> {
  let parsed;
  try {
    parsed = parseCostArgs(argv);
  } catch (error) {
    if (!(error instanceof CostError)) throw error;
    process.stderr.write(`cost: ${error.message}\n`);
    return 1;
  }
  if (parsed.help) {
    process.stdout.write(`${USAGE}\n`);
    return 0;
  }
  const advice = advise(parsed.traffic, parsed.workload, parsed.assumptions, parsed.durationSource);
  if (parsed.svg !== undefined) {
    try {
      writeFileSync(parsed.svg, await costAdvisorChart(advice));
    } catch (error) {
      process.stderr.write(`cost: --svg ${JSON.stringify(parsed.svg)} could not be written (${(error as Error).message}); expected a writable file path\n`);
      return 1;
    }
  }
  if (parsed.json) process.stdout.write(`${JSON.stringify(adviceJson(advice), null, 2)}\n`);
  else process.stdout.write(`${adviceText(advice)}${parsed.svg === undefined ? '' : `\n\nChart: ${parsed.svg}`}\n`);
  return 0;
}

process.exitCode = await main(process.argv.slice(2));
