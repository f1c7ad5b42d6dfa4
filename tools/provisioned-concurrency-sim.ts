/**
 * A SIMULATION of Lambda's provisioned concurrency (PC), for the rollout's tests and the local Lambda endpoint
 * (tools/lambda-endpoint.ts): moto has no PC API. It fills the rollout's `ProvisionedConcurrencyApi`
 * (commands/rollout/provisioned-concurrency.ts), which production fills with Lambda's GetProvisionedConcurrencyConfig
 * and PutProvisionedConcurrencyConfig, and reads the alias's weights from moto, where the rollout sets them through
 * the real SDK. In process, a test hands it to the rollout and `attach`es it to the rollout's Lambda client; over
 * HTTP, the local endpoint answers Lambda's PC API from it. The rules it follows, each tested in
 * test/integration/rollout/provisioned-concurrency-sim.test.ts:
 * - AWS documented: a PC change on an alias that has weights is refused ("Alias with weights can not be used with
 *   Provisioned Concurrency"). The error's name, InvalidParameterValueException, is this simulation's choice.
 * - AWS documented: an alias that already has PC may take weights; the simulation never refuses an UpdateAlias.
 * - AWS documented: after a change the config reads IN_PROGRESS, then READY, or FAILED with a reason. Here READY comes
 *   `allocationMs` after the change (Infinity: never), and FAILED only with `failWith`, and only for a raise (the
 *   simulation's choice, so that putting PC back works).
 * - Reported in issue 14, as seen on AWS: after the version of an alias with PC changes, GetAlias can still report a
 *   weight on the old version for a while. Here `transient.weight` for `transient.ms`, as seen by the clients
 *   `attach`ed and through the local endpoint.
 * Time is `now()`, so that a test can run it on a clock of its own.
 */
import { GetAliasCommand, InvalidParameterValueException, type GetAliasCommandOutput, type LambdaClient, type UpdateAliasCommandInput } from '@aws-sdk/client-lambda';
import type { AliasRef } from '../commands/rollout/lambda-alias.js';
import type { ProvisionedConcurrencyApi, ProvisionedConcurrencyConfig } from '../commands/rollout/provisioned-concurrency.js';

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
    return this.reported(ref, weights);
  }

  /** `weights` (what moto holds for the alias) with the transient entry Lambda would add now, if any. */
  reported(ref: AliasRef, weights: Readonly<Record<string, number>>): Record<string, number> {
    const entry = this.#transient.get(key(ref));
    if (entry === undefined || this.options.transient === undefined || this.#now() >= entry.until) return { ...weights };
    return { ...weights, [entry.version]: this.options.transient.weight };
  }

  /** Call after an UpdateAlias of `ref` succeeded: a version change on an alias with PC starts the transient entry. */
  aliasUpdated(ref: AliasRef, versionBefore: string | undefined, versionAfter: string | undefined): void {
    const moved = versionAfter !== undefined && versionBefore !== undefined && versionAfter !== versionBefore;
    if (moved && this.options.transient !== undefined && this.#configs.has(key(ref))) {
      this.#transient.set(key(ref), { version: versionBefore, until: this.#now() + this.options.transient.ms });
    }
  }

  /** Removes the alias's PC config (DeleteProvisionedConcurrencyConfig); false when it had none. */
  remove(ref: AliasRef): boolean {
    return this.#configs.delete(key(ref));
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
          this.aliasUpdated(ref, before.FunctionVersion, input.FunctionVersion);
          return result;
        }
        if (context.commandName === 'GetAliasCommand') {
          const input = args.input as { FunctionName?: string; Name?: string };
          const result = await next(args);
          const output = result.output as GetAliasCommandOutput;
          const reported = this.reported({ functionName: input.FunctionName ?? '', alias: input.Name ?? '' }, output.RoutingConfig?.AdditionalVersionWeights ?? {});
          if (Object.keys(reported).length > 0) output.RoutingConfig = { AdditionalVersionWeights: reported };
          return result;
        }
        return next(args);
      },
      { step: 'initialize', name: 'provisionedConcurrencySimulation' },
    );
  }
}
