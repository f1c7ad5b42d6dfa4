/**
 * A SIMULATION of Lambda's provisioned concurrency (PC), in process, for the rollout's tests: moto has no PC API. It
 * fills the rollout's `ProvisionedConcurrencyApi` (commands/rollout/provisioned-concurrency.ts), which production fills
 * with Lambda's GetProvisionedConcurrencyConfig and PutProvisionedConcurrencyConfig, and reads the alias's weights
 * from moto, where the rollout sets them through the real SDK. The rules it follows, each tested in
 * test/integration/rollout/provisioned-concurrency-sim.test.ts:
 * - AWS documented: a PC change on an alias that has weights is refused ("Alias with weights can not be used with
 *   Provisioned Concurrency"). The error's name, InvalidParameterValueException, is this simulation's choice.
 * - AWS documented: an alias that already has PC may take weights; the simulation never refuses an UpdateAlias.
 * - AWS documented: after a change the config reads IN_PROGRESS, then READY, or FAILED with a reason. Here READY comes
 *   `allocationMs` after the change (Infinity: never), and FAILED only with `failWith`, and only for a raise (the
 *   simulation's choice, so that putting PC back works).
 * - Reported in issue 14, as seen on AWS: after the version of an alias with PC changes, GetAlias can still report a
 *   weight on the old version for a while. Here `transient.weight` for `transient.ms`, on the clients `attach`ed.
 * Time is `now()`, so that a test can run it on a clock of its own.
 */
import { GetAliasCommand, InvalidParameterValueException, type GetAliasCommandOutput, type LambdaClient, type UpdateAliasCommandInput } from '@aws-sdk/client-lambda';
import type { AliasRef } from '../../commands/rollout/lambda-alias.js';
import type { ProvisionedConcurrencyApi, ProvisionedConcurrencyConfig } from '../../commands/rollout/provisioned-concurrency.js';

export const WEIGHTS_REFUSAL = 'Alias with weights can not be used with Provisioned Concurrency';

export interface SimulationOptions {
  /** moto's Lambda, where the alias's weights are read. */
  readonly lambda: LambdaClient;
  /** How long a change stays IN_PROGRESS (default 0; Infinity: never READY). */
  readonly allocationMs?: number | undefined;
  /** A raise ends FAILED with this reason instead of READY. */
  readonly failWith?: string | undefined;
  /** After the version of an alias with PC changes, GetAlias reports `weight` on the old version for `ms`. */
  readonly transient?: { readonly weight: number; readonly ms: number } | undefined;
  readonly now?: (() => number) | undefined;
}

interface Config {
  readonly requested: number;
  /** What was allocated before this change: what stays allocated while it is in progress, or when it fails. */
  readonly allocatedBefore: number;
  readonly changedAt: number;
  readonly fails: boolean;
}

function key(ref: AliasRef): string {
  return `${ref.functionName}:${ref.alias}`;
}

export class ProvisionedConcurrencySimulation implements ProvisionedConcurrencyApi {
  /** Every change accepted, in order. */
  readonly changes: { readonly alias: string; readonly amount: number }[] = [];
  /** Every change refused because the alias had weights, with those weights. */
  readonly refusals: { readonly alias: string; readonly amount: number; readonly weights: Record<string, number> }[] = [];
  readonly #configs = new Map<string, Config>();
  readonly #transient = new Map<string, { readonly version: string; readonly until: number }>();
  readonly #now: () => number;

  constructor(private readonly options: SimulationOptions) {
    this.#now = options.now ?? Date.now;
  }

  /** Gives the alias `amount` of PC, READY: what Terraform set up before the rollout. */
  seed(ref: AliasRef, amount: number): void {
    this.#configs.set(key(ref), { requested: amount, allocatedBefore: amount, changedAt: Number.NEGATIVE_INFINITY, fails: false });
  }

  async get(ref: AliasRef): Promise<ProvisionedConcurrencyConfig | undefined> {
    const config = this.#configs.get(key(ref));
    if (config === undefined) return undefined;
    const allocationMs = this.options.allocationMs ?? 0;
    if (this.#now() - config.changedAt < allocationMs) return { requested: config.requested, allocated: Math.min(config.allocatedBefore, config.requested), status: 'IN_PROGRESS' };
    if (config.fails) return { requested: config.requested, allocated: Math.min(config.allocatedBefore, config.requested), status: 'FAILED', reason: this.options.failWith };
    return { requested: config.requested, allocated: config.requested, status: 'READY' };
  }

  async put(ref: AliasRef, amount: number): Promise<void> {
    const weights = await this.weights(ref);
    if (Object.keys(weights).length > 0) {
      this.refusals.push({ alias: ref.alias, amount, weights });
      throw new InvalidParameterValueException({ message: WEIGHTS_REFUSAL, $metadata: { httpStatusCode: 400 } });
    }
    const before = await this.get(ref);
    this.#configs.set(key(ref), {
      requested: amount,
      allocatedBefore: before?.allocated ?? 0,
      changedAt: this.#now(),
      fails: this.options.failWith !== undefined && amount > (before?.requested ?? 0),
    });
    this.changes.push({ alias: ref.alias, amount });
  }

  /** The alias's weights as Lambda would report them: moto's, plus a transient entry on the old version. */
  async weights(ref: AliasRef): Promise<Record<string, number>> {
    const alias = await this.options.lambda.send(new GetAliasCommand({ FunctionName: ref.functionName, Name: ref.alias }));
    const weights = Object.fromEntries(Object.entries(alias.RoutingConfig?.AdditionalVersionWeights ?? {}).filter(([, weight]) => weight > 0));
    const transient = this.#transientOf(ref);
    return transient === undefined ? weights : { ...weights, [transient.version]: transient.weight };
  }

  #transientOf(ref: AliasRef): { version: string; weight: number } | undefined {
    const entry = this.#transient.get(key(ref));
    if (entry === undefined || this.options.transient === undefined || this.#now() >= entry.until) return undefined;
    return { version: entry.version, weight: this.options.transient.weight };
  }

  /**
   * Makes `client` (the rollout's Lambda client) see the transient entry: it watches the client's UpdateAlias calls
   * for a version change on an alias with PC, and adds the entry to what its GetAlias calls return.
   */
  attach(client: LambdaClient): void {
    client.middlewareStack.add(
      (next, context) => async (args) => {
        if (context.commandName === 'UpdateAliasCommand') {
          const input = args.input as UpdateAliasCommandInput;
          const ref = { functionName: input.FunctionName ?? '', alias: input.Name ?? '' };
          const before = await this.options.lambda.send(new GetAliasCommand({ FunctionName: ref.functionName, Name: ref.alias }));
          const result = await next(args);
          const moved = input.FunctionVersion !== undefined && before.FunctionVersion !== undefined && input.FunctionVersion !== before.FunctionVersion;
          if (moved && this.options.transient !== undefined && this.#configs.has(key(ref))) {
            this.#transient.set(key(ref), { version: before.FunctionVersion as string, until: this.#now() + this.options.transient.ms });
          }
          return result;
        }
        if (context.commandName === 'GetAliasCommand') {
          const input = args.input as { FunctionName?: string; Name?: string };
          const result = await next(args);
          const transient = this.#transientOf({ functionName: input.FunctionName ?? '', alias: input.Name ?? '' });
          if (transient !== undefined) {
            const output = result.output as GetAliasCommandOutput;
            output.RoutingConfig = { AdditionalVersionWeights: { ...(output.RoutingConfig?.AdditionalVersionWeights ?? {}), [transient.version]: transient.weight } };
          }
          return result;
        }
        return next(args);
      },
      { step: 'initialize', name: 'provisionedConcurrencySimulation' },
    );
  }
}
