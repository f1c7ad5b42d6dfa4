/**
 * The alias's provisioned concurrency (PC), as the rollout sees it: read it, set it. Lambda's rules the rollout
 * follows (docs/ROLLOUT.md "Provisioned concurrency"): PC cannot be created or resized on an alias while the alias has
 * weights, but an alias that has PC may take weights, and Lambda spreads the PC over both versions as they move. A
 * PC change is allocated asynchronously: the config reads IN_PROGRESS, then READY, or FAILED with a reason.
 *
 * `ProvisionedConcurrencyApi` is the seam: production fills it with Lambda's GetProvisionedConcurrencyConfig and
 * PutProvisionedConcurrencyConfig; tests fill it with a simulation of those rules, as moto has no PC API.
 */
import { GetProvisionedConcurrencyConfigCommand, PutProvisionedConcurrencyConfigCommand, type LambdaClient } from '@aws-sdk/client-lambda';
import type { AliasRef } from './lambda-alias.js';

export interface ProvisionedConcurrencyConfig {
  /** The amount asked for. */
  readonly requested: number;
  /** The amount allocated so far. */
  readonly allocated: number;
  /** IN_PROGRESS, READY or FAILED. */
  readonly status: string;
  /** Why it FAILED, when it did. */
  readonly reason?: string | undefined;
}

export interface ProvisionedConcurrencyApi {
  /** The alias's PC; undefined when it has none. Throws when the endpoint cannot say. */
  get(ref: AliasRef): Promise<ProvisionedConcurrencyConfig | undefined>;
  /** Asks for `amount` on the alias; allocation goes on after the call returns. */
  put(ref: AliasRef, amount: number): Promise<void>;
}

function named(error: unknown, name: string): boolean {
  return error instanceof Error && error.name === name;
}

/** The API through Lambda itself. */
export function lambdaProvisionedConcurrency(client: LambdaClient): ProvisionedConcurrencyApi {
  return {
    async get(ref) {
      try {
        const config = await client.send(new GetProvisionedConcurrencyConfigCommand({ FunctionName: ref.functionName, Qualifier: ref.alias }));
        return {
          requested: config.RequestedProvisionedConcurrentExecutions ?? 0,
          allocated: config.AllocatedProvisionedConcurrentExecutions ?? 0,
          status: config.Status ?? 'UNKNOWN',
          reason: config.StatusReason,
        };
      } catch (error) {
        if (named(error, 'ProvisionedConcurrencyConfigNotFoundException')) return undefined;
        throw error;
      }
    },
    async put(ref, amount) {
      await client.send(new PutProvisionedConcurrencyConfigCommand({ FunctionName: ref.functionName, Qualifier: ref.alias, ProvisionedConcurrentExecutions: amount }));
    },
  };
}

export type ProvisionedConcurrency =
  | { readonly kind: 'none' }
  | ({ readonly kind: 'configured' } & ProvisionedConcurrencyConfig)
  | { readonly kind: 'unknown'; readonly reason: string };

/**
 * Whether the alias has PC. "unknown" when the endpoint cannot say (no permission, or an emulator without the API):
 * the rollout then leaves PC alone and says so.
 */
export async function readProvisionedConcurrency(api: ProvisionedConcurrencyApi, ref: AliasRef): Promise<ProvisionedConcurrency> {
  try {
    const config = await api.get(ref);
    return config === undefined ? { kind: 'none' } : { kind: 'configured', ...config };
  } catch (error) {
    const status = (error as { $metadata?: { httpStatusCode?: number } }).$metadata?.httpStatusCode;
    if (status === 404 && !(error instanceof Error && /Exception$/.test(error.name))) {
      return { kind: 'unknown', reason: 'the endpoint has no GetProvisionedConcurrencyConfig (HTTP 404 without an AWS error)' };
    }
    return { kind: 'unknown', reason: `${error instanceof Error ? `${error.name}: ${error.message}` : 'error'}${status === undefined ? '' : ` (HTTP ${status})`}` };
  }
}

/** "5 (READY)" or "5 (IN_PROGRESS, 2 allocated)" or "5 (FAILED: reason)". */
export function pcText(config: ProvisionedConcurrencyConfig): string {
  if (config.status === 'READY') return `${config.requested} (READY)`;
  if (config.status === 'FAILED') return `${config.requested} (FAILED${config.reason === undefined ? '' : `: ${config.reason}`})`;
  return `${config.requested} (${config.status}, ${config.allocated} allocated)`;
}
