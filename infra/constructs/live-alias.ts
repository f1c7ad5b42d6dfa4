import { LambdaAlias } from '@cdktf/provider-aws/lib/lambda-alias/index.js';
import { LambdaFunctionEventInvokeConfig } from '@cdktf/provider-aws/lib/lambda-function-event-invoke-config/index.js';
import { Construct } from 'constructs';
import { ALIAS_NAME_PATTERN, ALIAS_NAME_RULE, LIVE_ALIAS } from '../../functions/contract/aws-names.js';
import { fail, matching, numberInRange, wholeNumber } from '../validators.js';
import type { InferenceFunction } from './inference-function.js';

/** A share of the alias's traffic sent to another published version. */
export interface VersionWeight {
  /** A published version number ("7"). */
  readonly version: string;
  /** Share of traffic, 0..1. */
  readonly weight: number;
}

/**
 * Lambda's handling of asynchronous invocations (its event invoke config). The endpoint is called synchronously; an
 * asynchronous call has no caller waiting for the prediction, so by default a failed event is not retried and an
 * event that waited a minute in Lambda's queue is dropped instead of being run late.
 */
export interface AsyncInvokeSettings {
  /**
   * Retries after a function error, 0 to 2.
   * @default 0
   */
  readonly maximumRetryAttempts?: number | undefined;
  /**
   * Seconds an event may wait in Lambda's queue before it is dropped, 60 to 21600.
   * @default 60, Lambda's minimum
   */
  readonly maximumEventAgeSeconds?: number | undefined;
}

export const DEFAULT_ASYNC_INVOKE = Object.freeze({ maximumRetryAttempts: 0, maximumEventAgeSeconds: 60 });

export interface LiveAliasProps {
  /** The function whose versions the alias points at. */
  readonly fn: InferenceFunction;
  /**
   * The alias's name.
   * @default LIVE_ALIAS ("live")
   */
  readonly aliasName?: string;
  /**
   * Weights written when the alias is created, and never again: the rollout owns `routing_config` afterwards.
   * Lambda accepts one additional version.
   * @default none: all traffic on the version this deployment published
   */
  readonly initialRouting?: readonly VersionWeight[];
  /**
   * What Lambda does with an asynchronous invocation of the alias (InvocationType Event).
   * @default { maximumRetryAttempts: 0, maximumEventAgeSeconds: 60 }
   */
  readonly asyncInvoke?: AsyncInvokeSettings | undefined;
}

/**
 * The `live` alias every caller invokes. Terraform creates it on the version this deployment published; from then
 * on the rollout tool owns which version it points at, its weights and its description (where it records its last
 * outcome), so Terraform ignores changes to `function_version`, `routing_config` and `description` (a deployment
 * publishes a new version and leaves traffic where it is). The alias's asynchronous invoke configuration is set here
 * (Lambda keeps one per qualifier, and callers only ever invoke the alias); its provisioned concurrency is the
 * ProvisionedConcurrency construct's.
 */
export class LiveAlias extends Construct {
  readonly alias: LambdaAlias;
  readonly fn: InferenceFunction;
  readonly asyncInvoke: LambdaFunctionEventInvokeConfig;
  /** The alias's name as configured (a plain string; `name` is the Terraform reference). */
  readonly aliasName: string;
  /** The weights written at creation (empty: none); Lambda refuses provisioned concurrency while there are any. */
  readonly initialRouting: readonly VersionWeight[];

  constructor(scope: Construct, id: string, props: LiveAliasProps) {
    super(scope, id);
    this.fn = props.fn;
    const name = matching(this, 'aliasName', props.aliasName ?? LIVE_ALIAS, ALIAS_NAME_PATTERN, ALIAS_NAME_RULE);
    this.aliasName = name;
    const routing = props.initialRouting ?? [];
    if (routing.length > 1) fail(this, 'initialRouting', routing, 'at most one additional version (Lambda splits an alias between two versions)');
    const weights: Record<string, number> = {};
    routing.forEach((entry, i) => {
      matching(this, `initialRouting[${i}].version`, entry.version, /^[1-9][0-9]*$/, 'a published version number such as "7" (not $LATEST)');
      weights[entry.version] = numberInRange(this, `initialRouting[${i}].weight`, entry.weight, 0, 1, 'the share of traffic on that version');
    });
    this.initialRouting = routing;
    const retries = wholeNumber(this, 'asyncInvoke.maximumRetryAttempts', props.asyncInvoke?.maximumRetryAttempts ?? DEFAULT_ASYNC_INVOKE.maximumRetryAttempts, 0, 2, 'retries');
    const eventAge = wholeNumber(this, 'asyncInvoke.maximumEventAgeSeconds', props.asyncInvoke?.maximumEventAgeSeconds ?? DEFAULT_ASYNC_INVOKE.maximumEventAgeSeconds, 60, 21_600, 'seconds');

    this.alias = new LambdaAlias(this, 'alias', {
      name,
      // The rollout writes its last outcome here ("rolled back version 8 at ..."), so it owns the description after creation.
      description: 'Serving alias; the rollout tool moves it between versions',
      functionName: props.fn.name,
      functionVersion: props.fn.version,
      ...(routing.length === 0 ? {} : { routingConfig: { additionalVersionWeights: weights } }),
      lifecycle: { ignoreChanges: ['function_version', 'routing_config', 'description'] },
    });
    this.asyncInvoke = new LambdaFunctionEventInvokeConfig(this, 'async-invoke', {
      functionName: props.fn.name,
      qualifier: this.alias.name,
      maximumRetryAttempts: retries,
      maximumEventAgeInSeconds: eventAge,
    });
  }

  get name(): string {
    return this.alias.name;
  }

  /** The alias's qualified ARN (`function:<name>:live`). */
  get arn(): string {
    return this.alias.arn;
  }

  /** The ARN API Gateway integrations call. */
  get invokeArn(): string {
    return this.alias.invokeArn;
  }
}
