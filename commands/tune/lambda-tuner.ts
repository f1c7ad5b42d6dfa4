/**
 * The AWS mode of `npm run tune`, as AWS Lambda Power Tuning measures: for each memory size, a published version of
 * the function with that memory, invoked with the payload and `LogType: Tail`, its billed duration and memory read
 * from the REPORT line. Nothing routes traffic to those versions: the live alias is never read or changed. The
 * function's unpublished configuration ($LATEST) is changed to publish each size, and put back afterwards; the
 * versions the run published are deleted unless kept, and a kept version is reused by the next run.
 */
import {
  DeleteFunctionCommand,
  GetFunctionConfigurationCommand,
  InvokeCommand,
  ListVersionsByFunctionCommand,
  PublishVersionCommand,
  UpdateFunctionConfigurationCommand,
  type FunctionConfiguration,
  type LambdaClient,
} from '@aws-sdk/client-lambda';
import { setTimeout as sleep } from 'node:timers/promises';
import { ARCHES, type Arch } from '../../functions/contract/build-record.js';
import { LAMBDA_PRICES, MB_PER_GB } from '../pricing/prices.js';
import { lambdaCpuShare } from './cpu-share.js';
import { TuneError } from './errors.js';
import type { Failure, FailureKind, RawSizeMeasurement, SizeMeasurer, SizeProgress } from './measurement.js';
import { findReportLine, type ReportLine } from './report-line.js';

/** The description of a version the tuner publishes: how the next run recognizes one it may reuse. */
export function tuningDescription(memoryMb: number): string {
  return `npm run tune: ${memoryMb} MB`;
}

export interface LambdaTunerOptions {
  readonly lambda: LambdaClient;
  readonly functionName: string;
  /** Warm invocations per size, after the first. */
  readonly invocations: number;
  /** The event each invocation sends. */
  readonly payload: () => unknown;
  /** Keep the versions this run publishes (the next run reuses them). @default false */
  readonly keepVersions?: boolean;
  /** How long a configuration update may take to finish. @default 120_000 */
  readonly updateTimeoutMs?: number;
  /** @default 1000 */
  readonly pollMs?: number;
  readonly log?: (line: string) => void;
  /** Aborting it ends the size being measured before its next invocation; `restore()` still puts things back. */
  readonly signal?: AbortSignal;
}

/** What the run spent: every invocation's billed duration at its size, and the requests. */
export interface RunCost {
  readonly invocations: number;
  readonly gbSeconds: number;
  readonly usd: number;
}

/** An invocation's failure, as Lambda tells it in the payload and the REPORT line. */
export function failureOf(functionError: string | undefined, payload: string, report: ReportLine | undefined): { kind: FailureKind; message: string } | undefined {
  if (functionError === undefined && report?.status === undefined) return undefined;
  let message = payload;
  try {
    const parsed = JSON.parse(payload) as { errorType?: unknown; errorMessage?: unknown };
    if (typeof parsed.errorMessage === 'string') message = typeof parsed.errorType === 'string' ? `${parsed.errorType}: ${parsed.errorMessage}` : parsed.errorMessage;
  } catch {
    // not JSON: the payload as it came
  }
  if (report?.status === 'timeout' || /Task timed out after/.test(message)) return { kind: 'timeout', message };
  if (report?.errorType === 'Runtime.OutOfMemory' || /Runtime\.OutOfMemory|signal: killed|Process exited before completing request/.test(message)) return { kind: 'out-of-memory', message };
  return { kind: 'error', message };
}

/** The function's architecture, as its prices need it. */
export function architectureOf(config: FunctionConfiguration): Arch {
  const arch = config.Architectures?.[0] ?? 'x86_64';
  return (ARCHES as readonly string[]).includes(arch) ? (arch as Arch) : 'x86_64';
}

/** A `SizeMeasurer` over a deployed function (see the file's comment). Call `restore()` when done, or interrupted. */
export class LambdaTuner implements SizeMeasurer {
  readonly #options: LambdaTunerOptions;
  #original: FunctionConfiguration | undefined;
  /** $LATEST's memory was changed by this run and not yet put back. */
  #changed = false;
  readonly #published: string[] = [];
  #invocations = 0;
  #gbSeconds = 0;
  #arch: Arch = 'x86_64';

  constructor(options: LambdaTunerOptions) {
    this.#options = options;
  }

  /** Reads the function; refuses one that does not exist or whose last update has not finished. */
  async open(): Promise<FunctionConfiguration> {
    const config = await this.#options.lambda.send(new GetFunctionConfigurationCommand({ FunctionName: this.#options.functionName }));
    if (config.LastUpdateStatus === 'InProgress') throw new TuneError(`--function ${this.#options.functionName}: an update of the function is in progress; run the tuner once it has finished`);
    this.#original = config;
    this.#arch = architectureOf(config);
    return config;
  }

  /** The AWS CLI command that puts the function's memory back, for a run that could not. */
  restoreCommand(): string {
    return `aws lambda update-function-configuration --function-name ${this.#options.functionName} --memory-size ${this.#original?.MemorySize ?? '<its memory>'}`;
  }

  async measure(memoryMb: number, progress: (progress: SizeProgress) => void): Promise<RawSizeMeasurement> {
    const original = this.#original ?? (await this.open());
    const total = this.#options.invocations + 1;
    progress({ memoryMb, phase: 'starting', done: 0, total });
    const version = await this.#versionWith(memoryMb, original);
    const failures = new Map<string, Failure>();
    const warm: number[] = [];
    let initMs: number | undefined;
    let peak = 0;
    for (let i = 0; i < total; i += 1) {
      progress({ memoryMb, phase: i === 0 ? 'cold start' : 'warm', done: i, total });
      this.#options.signal?.throwIfAborted();
      const answer = await this.#options.lambda.send(
        new InvokeCommand({ FunctionName: this.#options.functionName, Qualifier: version, LogType: 'Tail', Payload: new TextEncoder().encode(JSON.stringify(this.#options.payload())) }),
        this.#options.signal === undefined ? {} : { abortSignal: this.#options.signal },
      );
      const payload = answer.Payload === undefined ? '' : new TextDecoder().decode(answer.Payload);
      const report = findReportLine(Buffer.from(answer.LogResult ?? '', 'base64').toString('utf8'));
      this.#invocations += 1;
      if (report !== undefined) {
        this.#gbSeconds += (report.billedMs / 1000) * (report.memorySizeMb / MB_PER_GB);
        peak = Math.max(peak, report.maxMemoryUsedMb);
        if (report.initMs !== undefined) initMs = report.initMs;
      }
      const failure = failureOf(answer.FunctionError, payload, report);
      if (failure !== undefined) {
        const key = `${failure.kind}\u0000${failure.message}`;
        const seen = failures.get(key);
        failures.set(key, { ...failure, count: (seen?.count ?? 0) + 1 });
      } else if (i > 0 && report !== undefined) {
        warm.push(report.durationMs);
      }
    }
    progress({ memoryMb, phase: 'done', done: total, total });
    return {
      memoryMb,
      cpuShare: lambdaCpuShare(memoryMb),
      capped: false,
      initMs,
      warmDurationsMs: warm,
      peakMemoryMb: peak > 0 ? peak : undefined,
      invocations: total,
      failures: [...failures.values()],
    };
  }

  /** A version of $LATEST's code with `memoryMb`: one an earlier run kept, or one published now. */
  async #versionWith(memoryMb: number, original: FunctionConfiguration): Promise<string> {
    const reusable = await this.#findVersion(memoryMb, original.CodeSha256);
    if (reusable !== undefined) {
      this.#options.log?.(`${memoryMb} MB: reusing version ${reusable}, published by an earlier run`);
      return reusable;
    }
    this.#changed = true;
    await this.#options.lambda.send(new UpdateFunctionConfigurationCommand({ FunctionName: this.#options.functionName, MemorySize: memoryMb }));
    const updated = await this.#settled();
    const published = await this.#options.lambda.send(
      new PublishVersionCommand({
        FunctionName: this.#options.functionName,
        Description: tuningDescription(memoryMb),
        ...(original.CodeSha256 === undefined ? {} : { CodeSha256: original.CodeSha256 }),
        ...(updated.RevisionId === undefined ? {} : { RevisionId: updated.RevisionId }),
      }),
    );
    if (published.Version === undefined) throw new TuneError(`PublishVersion of ${this.#options.functionName} at ${memoryMb} MB returned no version`);
    if (published.MemorySize !== undefined && published.MemorySize !== memoryMb) {
      throw new TuneError(`version ${published.Version} of ${this.#options.functionName} has ${published.MemorySize} MB, not the ${memoryMb} MB just set: did something else change the function?`);
    }
    this.#published.push(published.Version);
    this.#options.log?.(`${memoryMb} MB: published version ${published.Version}`);
    return published.Version;
  }

  async #findVersion(memoryMb: number, codeSha256: string | undefined): Promise<string | undefined> {
    let marker: string | undefined;
    do {
      const page = await this.#options.lambda.send(new ListVersionsByFunctionCommand({ FunctionName: this.#options.functionName, ...(marker === undefined ? {} : { Marker: marker }) }));
      const match = page.Versions?.find((v) => v.Version !== '$LATEST' && v.Description === tuningDescription(memoryMb) && v.MemorySize === memoryMb && v.CodeSha256 === codeSha256);
      if (match?.Version !== undefined) return match.Version;
      marker = page.NextMarker;
    } while (marker !== undefined);
    return undefined;
  }

  /** Waits until the last configuration update has finished. */
  async #settled(): Promise<FunctionConfiguration> {
    const deadline = Date.now() + (this.#options.updateTimeoutMs ?? 120_000);
    for (;;) {
      const config = await this.#options.lambda.send(new GetFunctionConfigurationCommand({ FunctionName: this.#options.functionName }));
      if (config.LastUpdateStatus === 'Failed') throw new TuneError(`updating ${this.#options.functionName} failed: ${config.LastUpdateStatusReason ?? 'no reason given'}`);
      if (config.LastUpdateStatus !== 'InProgress') return config;
      if (Date.now() > deadline) throw new TuneError(`updating ${this.#options.functionName} did not finish within ${(this.#options.updateTimeoutMs ?? 120_000) / 1000} s`);
      await sleep(this.#options.pollMs ?? 1000);
    }
  }

  /**
   * Puts $LATEST's memory back and deletes the versions this run published (unless kept). Safe to call twice;
   * throws with the AWS CLI command to run by hand when the memory cannot be put back.
   */
  async restore(): Promise<void> {
    const original = this.#original;
    if (original === undefined) return;
    if (!this.#options.keepVersions) {
      for (const version of this.#published.splice(0)) {
        await this.#options.lambda.send(new DeleteFunctionCommand({ FunctionName: this.#options.functionName, Qualifier: version }));
        this.#options.log?.(`deleted version ${version}`);
      }
    }
    if (!this.#changed) return;
    try {
      await this.#options.lambda.send(new UpdateFunctionConfigurationCommand({ FunctionName: this.#options.functionName, MemorySize: original.MemorySize }));
      await this.#settled();
      this.#changed = false;
      this.#options.log?.(`${this.#options.functionName}: memory back to ${original.MemorySize} MB`);
    } catch (error) {
      throw new TuneError(`could not put the memory of ${this.#options.functionName} back to ${original.MemorySize} MB (${error instanceof Error ? error.message : String(error)}); run: ${this.restoreCommand()}`, { cause: error });
    }
  }

  /** What the run's invocations cost, at the function's architecture's prices. */
  cost(): RunCost {
    const usd = this.#gbSeconds * LAMBDA_PRICES.gbSecond[this.#arch] + (this.#invocations * LAMBDA_PRICES.perMillionRequests) / 1e6;
    return { invocations: this.#invocations, gbSeconds: this.#gbSeconds, usd };
  }
}
