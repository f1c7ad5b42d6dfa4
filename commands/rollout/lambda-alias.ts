/**
 * The Lambda calls a rollout makes on the alias and its versions: read the alias, check a version exists, move the
 * alias (one UpdateAlias per step, skipped when the alias is already there, so every call is safe to repeat), and
 * set its description alone (where the rollout records its outcome and what it must put back; hold.ts).
 */
import {
  GetAliasCommand,
  GetFunctionConfigurationCommand,
  ListVersionsByFunctionCommand,
  UpdateAliasCommand,
  type LambdaClient,
} from '@aws-sdk/client-lambda';
import { LATEST_VERSION } from '../../functions/contract/aws-names.js';
import { ENV } from '../../functions/contract/env.js';
import { PreconditionError } from './errors.js';
import { sameRouting, type AliasRouting } from './plan.js';

export interface AliasRef {
  readonly functionName: string;
  readonly alias: string;
}

/** The alias's routing and revision, for an UpdateAlias that fails if someone else moved it in between. */
export interface AliasSnapshot extends AliasRouting {
  readonly revisionId?: string | undefined;
  /** Where the rollout records its last outcome (plan.ts outcomeDescription). */
  readonly description?: string | undefined;
}

function named(error: unknown, name: string): boolean {
  return error instanceof Error && error.name === name;
}

export async function readAlias(client: LambdaClient, ref: AliasRef): Promise<AliasSnapshot> {
  try {
    const alias = await client.send(new GetAliasCommand({ FunctionName: ref.functionName, Name: ref.alias }));
    return {
      version: alias.FunctionVersion ?? LATEST_VERSION,
      weights: { ...(alias.RoutingConfig?.AdditionalVersionWeights ?? {}) },
      revisionId: alias.RevisionId,
      description: alias.Description,
    };
  } catch (error) {
    if (named(error, 'ResourceNotFoundException')) {
      throw new PreconditionError(`alias ${ref.alias} of function ${ref.functionName} does not exist (${(error as Error).message}); check --function and --alias (the service stack's function_name and alias_name outputs)`);
    }
    throw error;
  }
}

/** The published version numbers of a function, oldest first. */
export async function listVersions(client: LambdaClient, functionName: string): Promise<string[]> {
  const versions: string[] = [];
  let marker: string | undefined;
  do {
    const page = await client.send(new ListVersionsByFunctionCommand({ FunctionName: functionName, Marker: marker }));
    for (const fn of page.Versions ?? []) if (fn.Version !== undefined && fn.Version !== LATEST_VERSION) versions.push(fn.Version);
    marker = page.NextMarker;
  } while (marker !== undefined);
  return versions.sort((a, b) => Number(a) - Number(b));
}

export interface VersionInfo {
  /** The function's plain name (the CLI also accepts an ARN). */
  readonly functionName: string;
  readonly metricsNamespace: string | undefined;
}

/** Fails with the published versions listed when `version` does not exist. */
export async function describeVersion(client: LambdaClient, functionName: string, version: string): Promise<VersionInfo> {
  try {
    const config = await client.send(new GetFunctionConfigurationCommand({ FunctionName: functionName, Qualifier: version }));
    return { functionName: config.FunctionName ?? functionName, metricsNamespace: config.Environment?.Variables?.[ENV.METRICS_NAMESPACE] };
  } catch (error) {
    if (!named(error, 'ResourceNotFoundException')) throw error;
    let known = '';
    try {
      const versions = await listVersions(client, functionName);
      known = versions.length === 0 ? '; the function has no published versions' : `; published versions: ${versions.join(', ')}`;
    } catch {
      // the list is only a hint
    }
    throw new PreconditionError(`version ${version} of function ${functionName} does not exist${known}; give --to a published version (the service stack's function_version output)`);
  }
}

/**
 * Moves the alias to `routing` (and sets its description, when given, in the same call) unless it is there already;
 * returns whether it called UpdateAlias.
 */
export async function applyRouting(client: LambdaClient, ref: AliasRef, routing: AliasRouting, description?: string): Promise<boolean> {
  const current = await readAlias(client, ref);
  if (sameRouting(current, routing) && (description === undefined || description === current.description)) return false;
  await client.send(
    new UpdateAliasCommand({
      FunctionName: ref.functionName,
      Name: ref.alias,
      FunctionVersion: routing.version,
      RoutingConfig: { AdditionalVersionWeights: { ...routing.weights } },
      RevisionId: current.revisionId,
      ...(description === undefined ? {} : { Description: description }),
    }),
  );
  return true;
}

/**
 * Sets the alias's description and nothing else (no version, no routing: a weight Lambda still reports on its own is
 * not written back); skipped when it is already so. Returns whether it called UpdateAlias.
 */
export async function setDescription(client: LambdaClient, ref: AliasRef, description: string): Promise<boolean> {
  const current = await readAlias(client, ref);
  if ((current.description ?? '') === description) return false;
  await client.send(new UpdateAliasCommand({ FunctionName: ref.functionName, Name: ref.alias, Description: description, RevisionId: current.revisionId }));
  return true;
}
