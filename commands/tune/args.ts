/**
 * `npm run tune -- ...` flags, parsed with node:util parseArgs into frozen TuneOptions. Every error names the flag,
 * the value and what is expected (exit 1, nothing measured). Shared by the local mode and the AWS mode: `--aws
 * --environment <env> [--model <name>]` (the function and region from infra/config.ts), or `--function` and
 * `--region`, choose the AWS mode. The AWS mode changes a deployed function's configuration, so it is never chosen by
 * --environment alone: `--environment <env> --model <name>` without --aws measures that model's bundle locally.
 */
import { resolveDeploymentTarget } from '../cli/deployment-target.js';
import { numberFlag } from '../cli/usage.js';
import { parseArgs } from 'node:util';
import { LAMBDA_LIMITS } from '../../functions/contract/lambda-limits.js';
import { loadAppConfig, type AppConfig } from '../../infra/config.js';
import { TuneUsageError } from './errors.js';

/** Lambda's common memory steps, 128 MB to 3,008 MB. */
export const DEFAULT_MEMORY_SIZES: readonly number[] = Object.freeze([128, 256, 512, 1024, 1536, 1769, 2048, 3008]);
export const DEFAULT_INVOCATIONS = 100;
export const MAX_INVOCATIONS = 10_000;
/** The function timeout each size runs with: long enough for a cold start at 128 MB, a fourteenth of a vCPU. */
export const DEFAULT_TIMEOUT_SECONDS = 30;
/** Where the JSON and SVG go when not told, relative to the project: dist/ is not committed. */
export const DEFAULT_RESULTS_DIR = 'dist/tune';
/** `--json -` writes the document to stdout. */
export const STDOUT = '-';

export const USAGE = `usage: npm run tune -- [options]                                               local mode
       npm run tune -- --environment <env> [--model <name>] [options]                local mode, a configured model
       npm run tune -- --aws --environment <env> [--model <name>] [options]          AWS mode
       npm run tune -- --function <name> --region <region> [options]                 AWS mode

  --memory <mb,mb,...>     memory sizes to measure, each a whole number of MB from ${LAMBDA_LIMITS.minMemoryMb} to ${LAMBDA_LIMITS.maxMemoryMb}
                           (default: ${DEFAULT_MEMORY_SIZES.join(',')})
  --invocations <n>        warm invocations per size, after the cold one (default: ${DEFAULT_INVOCATIONS})
  --model <dir>            the model bundle to build and measure (default: models/iris); built for this machine's
                           architecture into dist/local-<arch>/ when its inputs changed, as npm run invoke does
  --environment <env>      an environment of infra/config.ts; with it, --model names one of its models (needed when it
                           lists several): the local mode measures that model's bundle and says its configured memory
                           size, the AWS mode (--aws) its deployed function
  --aws                    measure the deployed function of --environment's model instead (AWS mode), in the
                           environment's region
  --build <dir>            measure an existing build instead (a folder npm run build wrote, for this machine's
                           architecture)
  --event <file>           the event each invocation sends, as JSON (default: the build's golden rows in one
                           POST /predict request, as API Gateway HTTP API delivers it)
  --rows <n|max>           send n rows (repeating the golden rows), or the bundle's maxBatch; not with --event
  --max-latency <ms>       the balanced recommendation only considers sizes whose p99 is within this (default: none)
  --timeout <s>            the function timeout at every size; an invocation past it is a timeout (default: ${DEFAULT_TIMEOUT_SECONDS})
  --json <file>            write the JSON report there; - for stdout (default: ${DEFAULT_RESULTS_DIR}/<model>.json)
  --svg <file>             write the chart there (default: ${DEFAULT_RESULTS_DIR}/<model>.svg)
  --floor                  find the memory floor instead: the smallest size (binary search over --memory, or
                           128 to 3,008 MB) that answers the largest allowed request (maxBatch rows)
  --progress <s>           seconds between progress lines when stderr is not a terminal (default: 10; 0: none)
  --function <name>        measure a deployed function by name instead (AWS mode; with --region, not --environment)
  --region <region>        the deployed function's region (AWS mode, with --function)
  --keep-versions          keep the versions the AWS mode publishes, for the next run to reuse (AWS mode)
  -h, --help               this text

The local mode needs the test bed (npx tsx tools/testbed/install.ts) and, to give the function Lambda's CPU share and
memory limit, a writable control group (root); without one every figure is labelled unthrottled.`;

export interface TuneOptions {
  readonly memorySizes: readonly number[];
  /** --memory was given (the floor search otherwise tries its own candidates). */
  readonly memoryGiven: boolean;
  readonly invocations: number;
  /** A bundle to build; undefined with `build`. */
  readonly model: string | undefined;
  readonly build: string | undefined;
  readonly event: string | undefined;
  /** Rows per request from the golden rows: a number, 'max' (maxBatch), or undefined (the golden rows as they are). */
  readonly rows: number | 'max' | undefined;
  readonly maxLatencyMs: number | null;
  readonly timeoutSeconds: number;
  /** Undefined: the default file; STDOUT: stdout. */
  readonly json: string | undefined;
  readonly svg: string | undefined;
  readonly floor: boolean;
  readonly progressS: number;
  readonly aws: { readonly functionName: string; readonly region: string; readonly keepVersions: boolean } | undefined;
  /** The configured deployment measured (--environment): its label (`dev/iris`) and memory size, for the report. */
  readonly deployment: { readonly label: string; readonly memorySizeMb: number } | undefined;
  readonly help: boolean;
}

function number(flag: string, raw: string | undefined, fallback: number, min: number, max: number, integer: boolean): number {
  return numberFlag(flag, raw, fallback, { min, max, integer }, (f, value, expected) => new TuneUsageError(f, value, expected));
}

/** Parses `--memory`: sizes separated by commas, each a whole MB within Lambda's range; sorted, duplicates dropped. */
export function parseMemorySizes(raw: string): readonly number[] {
  const { minMemoryMb, maxMemoryMb } = LAMBDA_LIMITS;
  const sizes = raw.split(',').map((part) => {
    const text = part.trim();
    const value = /^\d+$/.test(text) ? Number(text) : Number.NaN;
    if (!Number.isSafeInteger(value) || value < minMemoryMb || value > maxMemoryMb) {
      throw new TuneUsageError('memory', raw, `memory sizes separated by commas, each a whole number of MB from ${minMemoryMb} to ${maxMemoryMb} (Lambda's range); ${JSON.stringify(text)} is not`);
    }
    return value;
  });
  return Object.freeze([...new Set(sizes)].sort((a, b) => a - b));
}

/**
 * Parses and checks the flags. `config` is read only for --environment: the CLI passes the project's configuration
 * (loadAppConfig), tests one of their own.
 */
export function parseTuneArgs(argv: readonly string[], config: () => AppConfig = loadAppConfig): TuneOptions {
  let values;
  try {
    ({ values } = parseArgs({
      args: [...argv],
      strict: true,
      allowPositionals: false,
      options: {
        memory: { type: 'string' },
        invocations: { type: 'string' },
        model: { type: 'string' },
        build: { type: 'string' },
        event: { type: 'string' },
        rows: { type: 'string' },
        'max-latency': { type: 'string' },
        timeout: { type: 'string' },
        json: { type: 'string' },
        svg: { type: 'string' },
        floor: { type: 'boolean', default: false },
        progress: { type: 'string' },
        environment: { type: 'string' },
        aws: { type: 'boolean', default: false },
        function: { type: 'string' },
        region: { type: 'string' },
        'keep-versions': { type: 'boolean', default: false },
        help: { type: 'boolean', short: 'h', default: false },
      },
    }));
  } catch (error) {
    throw new TuneUsageError('flags', argv.join(' '), `known flags only (${error instanceof Error ? error.message : String(error)}); npm run tune -- --help lists them`);
  }
  const memorySizes = values.memory === undefined ? DEFAULT_MEMORY_SIZES : parseMemorySizes(values.memory);
  if (values.environment === undefined && values.model !== undefined && values.build !== undefined) throw new TuneUsageError('build', values.build, 'either --model or --build, not both');
  for (const flag of ['model', 'build', 'event', 'json', 'svg', 'environment', 'function', 'region'] as const) {
    const value = values[flag];
    if (value !== undefined && value.trim() === '') throw new TuneUsageError(flag, value, flag === 'json' ? 'a file name, or - for stdout' : 'a non-empty value, or leave the flag out');
  }
  let rows: number | 'max' | undefined;
  if (values.rows !== undefined) {
    if (values.event !== undefined) throw new TuneUsageError('rows', values.rows, 'no --rows with --event: the event file is sent as it is');
    rows = values.rows === 'max' ? 'max' : number('rows', values.rows, 1, 1, 1_000_000, true);
  }
  if (values.environment !== undefined) {
    for (const flag of ['function', 'region'] as const) {
      if (values[flag] !== undefined) throw new TuneUsageError(flag, values[flag], `either --environment (the function and region from infra/config.ts) or --function and --region, not both`);
    }
  } else if (values.aws && values.function === undefined) {
    throw new TuneUsageError('environment', undefined, `with --aws, the environment whose deployed function to measure, e.g. --aws --environment dev --model iris (or --function and --region)`);
  }
  if ((values.function === undefined) !== (values.region === undefined)) {
    const missing = values.function === undefined ? 'function' : 'region';
    throw new TuneUsageError(missing, undefined, `--function and --region together for the AWS mode (a deployed function's name and its region), or neither for the local mode`);
  }
  const awsMode = values.aws || values.function !== undefined;
  if (values.function !== undefined) {
    for (const flag of ['model', 'floor'] as const) {
      if (values[flag] !== undefined && values[flag] !== false) throw new TuneUsageError(flag, values[flag], `no --${flag} in the AWS mode with --function: it measures the deployed function (the payload: --event, or the golden rows of --build, default dist)`);
    }
  } else if (awsMode && values.floor) {
    throw new TuneUsageError('floor', true, 'no --floor in the AWS mode: the floor is found locally, under a memory limit (leave --aws out)');
  } else if (!awsMode && values['keep-versions']) {
    throw new TuneUsageError('keep-versions', true, 'the AWS mode (--aws --environment <env>, or --function and --region): the local mode publishes no versions');
  }
  if (values.environment !== undefined && !awsMode && values.model !== undefined && values.build !== undefined) {
    throw new TuneUsageError('build', values.build, 'either --model (its bundle from infra/config.ts) or --build, not both');
  }
  const invocations = number('invocations', values.invocations, DEFAULT_INVOCATIONS, 1, MAX_INVOCATIONS, true);
  const maxLatencyMs = values['max-latency'] === undefined ? null : number('max-latency', values['max-latency'], 0, 0.001, 900_000, false);
  const timeoutSeconds = number('timeout', values.timeout, DEFAULT_TIMEOUT_SECONDS, LAMBDA_LIMITS.minTimeoutSeconds, LAMBDA_LIMITS.maxTimeoutSeconds, true);
  const progressS = number('progress', values.progress, 10, 0, 86_400, false);

  // Last, after every flag is checked: --environment reads the configuration and may read a build record.
  const target = values.help || values.environment === undefined ? undefined : resolveDeploymentTarget(config(), values.environment, values.model, (flag, value, expected) => new TuneUsageError(flag, value, expected));
  let model = values.model;
  let build = values.build;
  let aws: TuneOptions['aws'];
  if (target !== undefined && awsMode) {
    aws = Object.freeze({ functionName: target.names.functionName, region: target.region, keepVersions: values['keep-versions'] });
    // The payload: the golden rows of the build this model deploys, unless --build or --event says otherwise.
    build = values.build ?? target.distDir;
    model = undefined;
  } else if (target !== undefined) {
    // The local mode builds the model's bundle; an environment's single model is the default bundle's build.
    model = values.build === undefined ? target.bundle : undefined;
  } else if (values.function !== undefined && values.region !== undefined) {
    aws = Object.freeze({ functionName: values.function, region: values.region, keepVersions: values['keep-versions'] });
  }
  return Object.freeze({
    memorySizes,
    memoryGiven: values.memory !== undefined,
    invocations,
    model,
    build,
    event: values.event,
    rows,
    maxLatencyMs,
    timeoutSeconds,
    json: values.json,
    svg: values.svg,
    floor: values.floor,
    progressS,
    aws,
    deployment: target === undefined ? undefined : Object.freeze({ label: target.label, memorySizeMb: target.memorySizeMb }),
    help: values.help,
  });
}
