/**
 * `npm run rollout -- ...` flags, parsed with node:util parseArgs and checked into frozen RolloutOptions. Every
 * error names the flag, the value and what is expected (exit 1, nothing touched). `--environment <env> [--model
 * <name>]` fills the function, the alarm prefix and the build folder from infra/config.ts
 * (commands/cli/deployment-target.ts), so a rollout of one model of several needs no name copied by hand.
 */
import { displayPath, resolveDeploymentTarget, type DeploymentTarget } from '../cli/deployment-target.js';
import { numberFlag } from '../cli/usage.js';
import { parseArgs } from 'node:util';
import { ALIAS_NAME_PATTERN, ALIAS_NAME_RULE, LIVE_ALIAS } from '../../functions/contract/aws-names.js';
import { DEFAULT_DIST_DIR } from '../../functions/contract/build-record.js';
import { loadAppConfig, type AppConfig } from '../../infra/config.js';
import type { Thresholds } from './canary-analysis.js';
import { UsageError } from './errors.js';
import { MAX_CANARY_REQUESTS } from './traffic-check-canary.js';
import { isPublishedVersion, PlanError, planSteps } from './plan.js';
import type { RolloutOptions } from './rollout.js';

export const USAGE = `usage: npm run rollout -- --environment <env> [--model <name>] --to <version> [options]
       npm run rollout -- --function <name> --alias <alias> --to <version> [options]

  --environment <env>          an environment of infra/config.ts: the function, --alarm-prefix and --build default to
                               its model's (flags given explicitly win)
  --model <name>               with --environment, the model to roll out: its name in the environment's models list
                               (needed when it lists several); for an environment without one, the name its build
                               record gives, or left out
  --function <name>            the Lambda function (name or ARN); required without --environment
  --alias <alias>              the alias callers invoke (default: ${LIVE_ALIAS})
  --to <version>               the published version to promote (optional with --resume or --rollback)
  --steps <p,p,...>            percents of traffic on the new version, ending at 100 (default: 10,50,100)
  --interval <s>               seconds each step is observed before the next (default: 300)
  --alarm-prefix <p>           any alarm whose name starts with <p> in ALARM rolls back (default: the model's prefix
                               with --environment, else none checked)
  --min-requests <n>           requests the new version must serve in a step before it can pass; 0: alarms alone
                               decide (default: 100)
  --max-wait <s>               a step short of traffic is extended, one interval at a time, until it has been
                               observed this long, then rolled back (default: 3 x --interval)
  --poll <s>                   how often alarms are read while a step waits (default: min(15, --interval))
  --namespace <ns>             the function's metrics namespace (default: its METRICS_NAMESPACE)
  --raise-pc <n>               raise the alias's provisioned concurrency to <n> before the first weight, and put it
                               back at the end (default: left as it is)
  --pc-timeout <s>             how long a raised provisioned concurrency may take to become READY before the rollout
                               gives up, exit 2 (default: 600)
  --settle-timeout <s>         how long the alias may still report the old version's weight after the last step or a
                               rollback, as Lambda does on an alias with provisioned concurrency (default: 120)
  --build <dir>                the build of the version rolled out (its folder or build.json): its golden rows are
                               sent to the new version before any weight moves, and to the alias after the last
                               step; an answer beyond the bundle's tolerance refuses or rolls back (default: the
                               model's build folder with --environment, else dist)
  --skip-traffic-check         go on without those checks (the output says so)
  --canary-requests <n>        send <n> golden-row requests to the alias during each step, so that a quiet
                               environment still gives the canary analysis traffic to judge (default: 0, none)
  --progress <s>               how often a progress line (or --json event) is written while the rollout waits, when
                               stderr is not a terminal; a terminal gets one line updated in place (default: 30; 0: none)
  --max-error-rate-increase <r>     (default: 0.01, one percentage point above the stable version)
  --max-invalid-rate-increase <r>   (default: 0.05)
  --max-latency-ratio <x>           (default: 1.5, on p99 where available, else on the average)
  --latency-slack-ms <ms>           latency differences under this pass anyway (default: 5)
  --max-confidence-drop <d>         mean confidence may fall this much below the stable version's (default: 0.05)
  --dry-run                    print the plan, change nothing
  --json                       one JSON object per event on stdout
  --resume                     continue a rollout whose weights are on the alias
  --rollback                   put the alias back on its stable version, no weights
  --retry                      roll out a version this alias already rolled back once (its description says so)

exit: 0 promoted (or nothing to do), 2 rolled back, 1 could not run`;

export interface CliOptions extends RolloutOptions {
  /** The deployment --environment and --model named, whose function, alarm prefix and build filled the flags not given. */
  readonly target: DeploymentTarget | undefined;
  readonly json: boolean;
  /** Seconds between progress lines when stderr is not a terminal; 0: none. */
  readonly progressS: number;
  readonly help: boolean;
}

function number(flag: string, raw: string | undefined, fallback: number, min: number, max: number, integer: boolean): number {
  return numberFlag(flag, raw, fallback, { min, max, integer }, (f, value, expected) => new UsageError(f, value, expected));
}

/**
 * Parses and checks the flags. `config` is read only for --environment: the CLI passes the project's configuration
 * (loadAppConfig), tests one of their own.
 */
export function parseRolloutArgs(argv: readonly string[], config: () => AppConfig = loadAppConfig): CliOptions {
  let values;
  try {
    ({ values } = parseArgs({
      args: [...argv],
      strict: true,
      allowPositionals: false,
      options: {
        environment: { type: 'string' },
        model: { type: 'string' },
        function: { type: 'string' },
        alias: { type: 'string' },
        to: { type: 'string' },
        steps: { type: 'string' },
        interval: { type: 'string' },
        'alarm-prefix': { type: 'string' },
        'min-requests': { type: 'string' },
        'max-wait': { type: 'string' },
        poll: { type: 'string' },
        namespace: { type: 'string' },
        'raise-pc': { type: 'string' },
        'pc-timeout': { type: 'string' },
        'settle-timeout': { type: 'string' },
        progress: { type: 'string' },
        build: { type: 'string' },
        'skip-traffic-check': { type: 'boolean', default: false },
        'canary-requests': { type: 'string' },
        'max-error-rate-increase': { type: 'string' },
        'max-invalid-rate-increase': { type: 'string' },
        'max-latency-ratio': { type: 'string' },
        'latency-slack-ms': { type: 'string' },
        'max-confidence-drop': { type: 'string' },
        'dry-run': { type: 'boolean', default: false },
        json: { type: 'boolean', default: false },
        resume: { type: 'boolean', default: false },
        rollback: { type: 'boolean', default: false },
        retry: { type: 'boolean', default: false },
        help: { type: 'boolean', short: 'h', default: false },
      },
    }));
  } catch (error) {
    throw new UsageError('flags', argv.join(' '), `known flags only (${error instanceof Error ? error.message : String(error)})`);
  }
  const help = values.help;
  if (values.function !== undefined && values.function.trim() === '') throw new UsageError('function', values.function, 'the Lambda function name or ARN, e.g. --function onnx-lambda-prod-predict, or leave the flag out with --environment');
  if (values.model !== undefined && values.environment === undefined) throw new UsageError('model', values.model, 'a model of an environment, with --environment <env> (infra/config.ts)');
  const alias = values.alias ?? LIVE_ALIAS;
  if (!ALIAS_NAME_PATTERN.test(alias)) throw new UsageError('alias', alias, ALIAS_NAME_RULE);
  const to = values.to;
  if (to !== undefined && !isPublishedVersion(to)) throw new UsageError('to', to, 'a published version number such as 7 (not $LATEST or an alias: weighted aliases route between published versions)');
  if (values.resume && values.rollback) throw new UsageError('rollback', true, 'either --resume or --rollback, not both');
  if (!help && to === undefined && !values.resume && !values.rollback) throw new UsageError('to', undefined, 'the version to promote, e.g. --to 7 (or --resume / --rollback for a rollout already on the alias)');

  let steps: readonly number[];
  const rawSteps = values.steps ?? '10,50,100';
  try {
    steps = planSteps(rawSteps.split(',').map((part) => (part.trim() === '' ? Number.NaN : Number(part))));
  } catch (error) {
    if (error instanceof PlanError) throw new UsageError('steps', rawSteps, `percents separated by commas, increasing, ending at 100, such as 10,50,100 (${error.message})`);
    throw error;
  }
  const intervalS = number('interval', values.interval, 300, 0, 86_400, false);
  const minRequests = number('min-requests', values['min-requests'], 100, 0, 1e12, true);
  const maxWaitS = number('max-wait', values['max-wait'], intervalS * 3, intervalS, 7 * 86_400, false);
  const pollS = number('poll', values.poll, Math.min(15, intervalS), 0.05, 3600, false);
  const alarmPrefix = values['alarm-prefix'];
  if (alarmPrefix !== undefined && alarmPrefix.trim() === '') throw new UsageError('alarm-prefix', alarmPrefix, 'a non-empty alarm name prefix (the service stack\'s alarm_prefix output), or leave the flag out');
  const raisePc = values['raise-pc'] === undefined ? undefined : number('raise-pc', values['raise-pc'], 0, 1, 100_000, true);
  const pcTimeoutS = number('pc-timeout', values['pc-timeout'], 600, 1, 86_400, false);
  const settleTimeoutS = number('settle-timeout', values['settle-timeout'], 120, 0, 86_400, false);
  const progressS = number('progress', values.progress, 30, 0, 86_400, false);
  if (values.build !== undefined && values.build.trim() === '') throw new UsageError('build', values.build, 'the folder npm run build wrote (or its build.json), or leave the flag out for the default (dist, or the model\'s folder with --environment)');
  const skipTrafficCheck = values['skip-traffic-check'];
  const canaryRequests = number('canary-requests', values['canary-requests'], 0, 0, MAX_CANARY_REQUESTS, true);
  if (skipTrafficCheck && canaryRequests > 0) throw new UsageError('canary-requests', values['canary-requests'], `0 with --skip-traffic-check: canary requests are the build's golden rows`);
  const namespace = values.namespace;
  if (namespace !== undefined && namespace.trim() === '') throw new UsageError('namespace', namespace, 'the function\'s METRICS_NAMESPACE, or leave the flag out');

  const thresholds: Thresholds = Object.freeze({
    minRequests,
    maxErrorRateIncrease: number('max-error-rate-increase', values['max-error-rate-increase'], 0.01, 0, 1, false),
    maxInvalidRateIncrease: number('max-invalid-rate-increase', values['max-invalid-rate-increase'], 0.05, 0, 1, false),
    maxLatencyRatio: number('max-latency-ratio', values['max-latency-ratio'], 1.5, 1, 1000, false),
    latencySlackMs: number('latency-slack-ms', values['latency-slack-ms'], 5, 0, 600_000, false),
    maxConfidenceDrop: number('max-confidence-drop', values['max-confidence-drop'], 0.05, 0, 1, false),
  });

  // Last, after every flag is checked: --environment reads the configuration and may read a build record.
  const target = help || values.environment === undefined ? undefined : resolveDeploymentTarget(config(), values.environment, values.model, (flag, value, expected) => new UsageError(flag, value, expected));
  const functionName = values.function ?? target?.names.functionName;
  if (!help && functionName === undefined) throw new UsageError('function', functionName, 'the Lambda function name or ARN, e.g. --function onnx-lambda-prod-predict, or --environment <env> [--model <name>] to take it from infra/config.ts');
  const build = values.build ?? (target === undefined ? DEFAULT_DIST_DIR : displayPath(target.distDir));

  return Object.freeze({
    functionName: functionName ?? '',
    alias,
    to,
    steps,
    intervalS,
    pollS,
    maxWaitS,
    alarmPrefix: alarmPrefix ?? target?.names.alarmPrefix,
    namespace,
    thresholds,
    raisePc,
    pcTimeoutS,
    settleTimeoutS,
    progressS,
    build,
    skipTrafficCheck,
    canaryRequests,
    dryRun: values['dry-run'],
    resume: values.resume,
    rollback: values.rollback,
    retry: values.retry,
    target,
    json: values.json,
    help,
  });
}
