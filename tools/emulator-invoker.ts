/**
 * The rollout's Invoker (commands/rollout/invoker.ts) over AWS's Runtime Interface Emulator, for the tests and the
 * demo beds: moto stores Lambda versions and aliases but cannot run them without Docker, so each published version
 * runs as its built artifacts under an emulator of its own (tools/emulator.ts), and the invoker stands in for
 * Lambda's Invoke API in front of them.
 *
 * A simulation of the Invoke API, in these respects:
 * - a version qualifier goes to that version's emulator; an alias is routed by its routing (the primary version, and
 *   each additional version with its weight's share of the requests, drawn at random), as Lambda routes it;
 * - a function that threw, timed out or could not start answers StatusCode 200 with FunctionError "Unhandled" and
 *   its error object, as Lambda answers; RIE itself sends no X-Amz-Function-Error header, so the invoker reads the
 *   failure from what RIE returns;
 * - an unknown version or alias is a ResourceNotFoundException, as the SDK raises it.
 */
import { GetAliasCommand, type LambdaClient } from '@aws-sdk/client-lambda';
import type { Invoker, InvokeResult } from '../commands/rollout/invoker.js';
import type { BuildRecord } from '../functions/contract/build-record.js';
import { ENV, LAMBDA_ENV } from '../functions/contract/env.js';
import { startFunction, type Invocation, type LambdaUnderTest } from './emulator.js';

/** An alias's routing: the primary version, and the additional versions' shares of the requests (0 to 1). */
export interface AliasRouting {
  readonly version: string;
  readonly weights: Readonly<Record<string, number>>;
}

/** The version a request goes to when `draw` (uniform in [0, 1)) falls where it falls: additional versions first, the primary takes the rest. */
export function pickVersion(routing: AliasRouting, draw: number): string {
  let below = 0;
  for (const [version, weight] of Object.entries(routing.weights)) {
    below += weight;
    if (draw < below) return version;
  }
  return routing.version;
}

function notFound(message: string): Error {
  const error = new Error(message);
  error.name = 'ResourceNotFoundException';
  return error;
}

/** Whether RIE's payload is a runtime's error object (a handler that threw), rather than the function's result. */
function isErrorObject(payload: unknown): boolean {
  if (typeof payload !== 'object' || payload === null || Array.isArray(payload)) return false;
  const record = payload as Record<string, unknown>;
  return typeof record['errorMessage'] === 'string' && !('statusCode' in record);
}

/** RIE's answer as Lambda's Invoke API gives it (see the file's comment). */
export function invokeResult(invocation: Invocation, version: string): InvokeResult {
  const failed = invocation.initError || invocation.timedOut || (invocation.status === 200 && isErrorObject(invocation.payload));
  if (failed) {
    const payload = invocation.timedOut ? JSON.stringify({ errorMessage: invocation.raw.trim() }) : invocation.raw;
    return { statusCode: 200, functionError: 'Unhandled', payload, executedVersion: version };
  }
  return { statusCode: invocation.status, functionError: undefined, payload: invocation.raw, executedVersion: version };
}

export interface EmulatorInvokerOptions {
  readonly functionName: string;
  /** The running function of each published version. */
  readonly versions: ReadonlyMap<string, LambdaUnderTest>;
  /** The routing of an alias invoked by name (e.g. `lambdaAliasRouting`, from moto). @default none: only versions can be invoked */
  readonly aliasRouting?: (alias: string) => Promise<AliasRouting>;
  /** @default Math.random */
  readonly random?: () => number;
}

export function emulatorInvoker(options: EmulatorInvokerOptions): Invoker {
  const random = options.random ?? Math.random;
  return {
    async invoke(functionName, qualifier, event, signal) {
      signal?.throwIfAborted();
      if (functionName !== options.functionName) throw notFound(`Function not found: ${functionName} (the emulators run ${options.functionName})`);
      let version = qualifier;
      if (!options.versions.has(qualifier)) {
        if (/^\d+$/.test(qualifier) || options.aliasRouting === undefined) {
          throw notFound(`Function not found: ${functionName}:${qualifier} (emulated versions: ${[...options.versions.keys()].join(', ')})`);
        }
        version = pickVersion(await options.aliasRouting(qualifier), random());
      }
      const fn = options.versions.get(version);
      if (fn === undefined) throw notFound(`alias ${qualifier} routes to version ${version}, which no emulator runs (emulated versions: ${[...options.versions.keys()].join(', ')})`);
      const invocation = await fn.invoke(event);
      signal?.throwIfAborted();
      return invokeResult(invocation, version);
    },
  };
}

/** An alias's routing as Lambda (or moto) holds it, read on every call so that each step's weights apply. */
export function lambdaAliasRouting(client: LambdaClient, functionName: string): (alias: string) => Promise<AliasRouting> {
  return async (alias) => {
    const answer = await client.send(new GetAliasCommand({ FunctionName: functionName, Name: alias }));
    if (answer.FunctionVersion === undefined) throw notFound(`alias ${alias} of ${functionName} names no version`);
    return { version: answer.FunctionVersion, weights: { ...(answer.RoutingConfig?.AdditionalVersionWeights ?? {}) } };
  };
}

/** A version's built code, unpacked as Lambda unpacks it (tools/stage-artifacts.ts). */
export interface VersionArtifacts {
  readonly taskRoot: string;
  readonly optDir: string;
  readonly build: Pick<BuildRecord, 'handler' | 'runtime'>;
}

export interface EmulatedVersions {
  readonly invoker: Invoker;
  readonly versions: ReadonlyMap<string, LambdaUnderTest>;
  /** Stops every emulator; safe to call twice. */
  stop(): Promise<void>;
}

/**
 * Starts one emulator per version of `functionName`, each with Lambda's AWS_LAMBDA_FUNCTION_NAME and _VERSION set
 * as Lambda sets them for a published version (so the function's metrics carry the version), and an invoker in
 * front of them.
 */
export async function startEmulatedVersions(options: {
  readonly functionName: string;
  readonly versions: Readonly<Record<string, VersionArtifacts>>;
  /** Environment variables of every version. @default {} */
  readonly env?: Readonly<Record<string, string>>;
  readonly aliasRouting?: (alias: string) => Promise<AliasRouting>;
  readonly random?: () => number;
}): Promise<EmulatedVersions> {
  const started = new Map<string, LambdaUnderTest>();
  const stop = async () => {
    await Promise.all([...started.values()].map((fn) => fn.stop()));
  };
  try {
    for (const [version, artifacts] of Object.entries(options.versions)) {
      const env = { [ENV.METRICS_NAMESPACE]: 'EmulatedVersions', ...options.env, [LAMBDA_ENV.FUNCTION_VERSION]: version };
      started.set(
        version,
        await startFunction({ taskRoot: artifacts.taskRoot, optDir: artifacts.optDir, handler: artifacts.build.handler, runtime: artifacts.build.runtime, functionName: options.functionName, env }),
      );
    }
  } catch (error) {
    await stop();
    throw error;
  }
  const invokerOptions: EmulatorInvokerOptions = {
    functionName: options.functionName,
    versions: started,
    ...(options.aliasRouting === undefined ? {} : { aliasRouting: options.aliasRouting }),
    ...(options.random === undefined ? {} : { random: options.random }),
  };
  return { invoker: emulatorInvoker(invokerOptions), versions: started, stop };
}
