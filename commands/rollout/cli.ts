/**
 * `npm run rollout -- --environment <env> [--model <name>] --to <version> [...]`, or `--function <name> --alias
 * <alias> --to <version> [...]` (see args.ts for every flag and docs/ROLLOUT.md). With --environment, the function,
 * alarm prefix and build it took from infra/config.ts are said on stderr first. Prints one line per event (or one JSON object per event with --json) on stdout, and exits 0
 * promoted or nothing to do, 2 rolled back, 1 could not run. While the rollout waits, a terminal shows one progress
 * line on stderr, updated in place; otherwise a progress line (or --json event) comes every --progress seconds.
 * Ctrl-C (or SIGTERM, as CI sends on cancel) rolls the alias back and puts back what the rollout held; a second one
 * stops at once and prints the commands to finish by hand.
 *
 * Every AWS SDK client honours AWS_ENDPOINT_URL (and AWS_ENDPOINT_URL_LAMBDA / _CLOUDWATCH /
 * _APPLICATION_AUTO_SCALING), so the same command runs against moto.
 */
import { ApplicationAutoScalingClient } from '@aws-sdk/client-application-auto-scaling';
import { CloudWatchClient } from '@aws-sdk/client-cloudwatch';
import { LambdaClient } from '@aws-sdk/client-lambda';
import { parseRolloutArgs, USAGE } from './args.js';
import { RolloutError, UsageError } from './errors.js';
import { LiveLine, PeriodicProgress, type Progress } from './progress.js';
import { stoppedAtOnceMessage } from './recovery.js';
import { runRollout, type RolloutEvent } from './rollout.js';

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
    // --environment reads infra/config.ts, which refuses an invalid setting with its name and the fix.
    errorLine(json, `could not read the configuration: ${error instanceof Error ? error.message : String(error)}`);
    return 1;
  }
  if (options.help) {
    process.stdout.write(`${USAGE}\n`);
    return 0;
  }
  if (options.target !== undefined) {
    process.stderr.write(`rollout: ${options.target.label} (infra/config.ts): --function ${options.functionName} --alias ${options.alias} --alarm-prefix ${options.alarmPrefix ?? '(none)'} --build ${options.build}\n`);
  }

  const live = process.stderr.isTTY ? new LiveLine(process.stderr) : undefined;
  const write = (event: RolloutEvent): void => {
    const at = new Date().toISOString();
    live?.clear();
    if (options.json) process.stdout.write(`${JSON.stringify({ ...event, at })}\n`);
    else process.stdout.write(`${at.slice(11, 19)} ${event.message}\n`);
    live?.redraw();
  };
  /** Commands that put back what the rollout holds now, from its events: what a second Ctrl-C prints. */
  const held = new Map<string, string>();
  const report = (event: RolloutEvent): void => {
    if ((event.event === 'scaling-suspended' || event.event === 'pc-raised') && typeof event['restore'] === 'string') held.set(event.event, event['restore']);
    if (event.event === 'scaling-resumed') held.delete('scaling-suspended');
    if (event.event === 'pc-restored') held.delete('pc-raised');
    write(event);
  };
  const periodic = (options.json || live === undefined) && options.progressS > 0 ? new PeriodicProgress(options.progressS * 1000, (progress, text) => write({ event: 'progress', message: `progress: ${text}`, ...progress })) : undefined;
  const progress = (snapshot: Progress): void => {
    live?.update(snapshot);
    periodic?.update(snapshot);
  };
  const controller = new AbortController();
  let interrupts = 0;
  const onSignal = (signal: NodeJS.Signals): void => {
    interrupts += 1;
    if (interrupts === 1) {
      live?.clear();
      process.stderr.write(`rollout: ${signal}: rolling back (press Ctrl-C again to stop at once)\n`);
      controller.abort();
      return;
    }
    live?.stop();
    process.stderr.write(`rollout: ${stoppedAtOnceMessage(options, [...held.values()])}\n`);
    process.exit(1);
  };
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);

  const lambda = new LambdaClient({});
  const cloudwatch = new CloudWatchClient({});
  const scaling = new ApplicationAutoScalingClient({});
  try {
    const result = await runRollout(options, { lambda, cloudwatch, scaling, report, progress, signal: controller.signal });
    live?.stop();
    if (result.outcome === 'failed') process.stderr.write(`rollout: ${result.message}\n`);
    return result.code;
  } catch (error) {
    live?.stop();
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
    scaling.destroy();
  }
}

process.exitCode = await main();
