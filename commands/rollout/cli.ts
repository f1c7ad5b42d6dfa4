/**
 * `npm run rollout -- --function <name> --alias <alias> --to <version> [...]` (see args.ts for every flag and
 * docs/ROLLOUT.md). Prints one line per event (or one JSON object per event with --json) on stdout, and exits 0
 * promoted or nothing to do, 2 rolled back, 1 could not run. Ctrl-C (or SIGTERM, as CI sends on cancel) rolls the
 * alias back; a second one stops at once and prints the commands to finish by hand.
 *
 * Every AWS SDK client honours AWS_ENDPOINT_URL (and AWS_ENDPOINT_URL_LAMBDA / _CLOUDWATCH), so the same command
 * runs against moto.
 */
import { CloudWatchClient } from '@aws-sdk/client-cloudwatch';
import { LambdaClient } from '@aws-sdk/client-lambda';
import { parseRolloutArgs, USAGE } from './args.js';
import { RolloutError, UsageError } from './errors.js';
import { recoveryCommands, runRollout, type RolloutEvent } from './rollout.js';

function errorLine(json: boolean, message: string): void {
  if (json) process.stdout.write(`${JSON.stringify({ event: 'error', message, at: new Date().toISOString() })}\n`);
  process.stderr.write(`rollout: ${message}\n`);
}

async function main(): Promise<number> {
  const argv = process.argv.slice(2);
  const json = argv.includes('--json');
  let options;
  try {
    options = parseRolloutArgs(argv);
  } catch (error) {
    if (error instanceof UsageError) {
      errorLine(json, `${error.message}\n${USAGE}`);
      return 1;
    }
    throw error;
  }
  if (options.help) {
    process.stdout.write(`${USAGE}\n`);
    return 0;
  }

  const report = (event: RolloutEvent): void => {
    const at = new Date().toISOString();
    if (options.json) process.stdout.write(`${JSON.stringify({ ...event, at })}\n`);
    else process.stdout.write(`${at.slice(11, 19)} ${event.message}\n`);
  };
  const controller = new AbortController();
  let interrupts = 0;
  const onSignal = (signal: NodeJS.Signals): void => {
    interrupts += 1;
    if (interrupts === 1) {
      process.stderr.write(`rollout: ${signal}: rolling back (press Ctrl-C again to stop at once)\n`);
      controller.abort();
      return;
    }
    const commands = recoveryCommands(options, options.to ?? '<version>');
    process.stderr.write(`rollout: stopped at once; the alias may still carry weights. Roll back: ${commands.rollback}  Resume: ${commands.resume}\n`);
    process.exit(1);
  };
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);

  const lambda = new LambdaClient({});
  const cloudwatch = new CloudWatchClient({});
  try {
    const result = await runRollout(options, { lambda, cloudwatch, report, signal: controller.signal });
    return result.code;
  } catch (error) {
    if (error instanceof RolloutError) {
      errorLine(options.json, error.message);
      return 1;
    }
    const text = error instanceof Error ? `${error.name}: ${error.message}` : String(error);
    errorLine(options.json, `could not run: ${text}`);
    return 1;
  } finally {
    lambda.destroy();
    cloudwatch.destroy();
  }
}

process.exitCode = await main();
