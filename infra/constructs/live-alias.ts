import { LambdaAlias } from '@cdktf/provider-aws/lib/lambda-alias/index.js';
import { LambdaProvisionedConcurrencyConfig } from '@cdktf/provider-aws/lib/lambda-provisioned-concurrency-config/index.js';
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
   * Provisioned concurrency on the alias (so on whichever version it points at). Lambda refuses provisioned
   * concurrency on an alias that has weights, so it cannot be combined with `initialRouting`; while a rollout has
   * weights set, the rollout tool handles that rule.
   * @default none
   */
  readonly provisionedConcurrency?: number | undefined;
}

/**
 * The `live` alias every caller invokes. Terraform creates it on the version this deployment published; from then
 * on the rollout tool owns which version it points at, its weights and its description (where it records its last
 * outcome), so Terraform ignores changes to `function_version`, `routing_config` and `description` (a deployment
 * publishes a new version and leaves traffic where it is).
 */
export class LiveAlias extends Construct {
  readonly alias: LambdaAlias;
  readonly fn: InferenceFunction;
  readonly provisioned: LambdaProvisionedConcurrencyConfig | undefined;
  /** The alias's name as configured (a plain string; `name` is the Terraform reference). */
  readonly aliasName: string;

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

    let provisioned: number | undefined;
    if (props.provisionedConcurrency !== undefined) {
      provisioned = wholeNumber(this, 'provisionedConcurrency', props.provisionedConcurrency, 1, 10_000, 'concurrent executions');
      if (routing.length > 0) {
        fail(this, 'provisionedConcurrency', provisioned, 'unset while initialRouting sets weights: Lambda refuses provisioned concurrency on an alias with weights');
      }
      const reserved = props.fn.reservedConcurrency;
      if (reserved !== undefined && provisioned > reserved) {
        fail(this, 'provisionedConcurrency', provisioned, `at most the function's reservedConcurrency (${reserved}); Lambda refuses more`);
      }
    }

    this.alias = new LambdaAlias(this, 'alias', {
      name,
      // The rollout writes its last outcome here ("rolled back version 8 at ..."), so it owns the description after creation.
      description: 'Serving alias; the rollout tool moves it between versions',
      functionName: props.fn.name,
      functionVersion: props.fn.version,
      ...(routing.length === 0 ? {} : { routingConfig: { additionalVersionWeights: weights } }),
      lifecycle: { ignoreChanges: ['function_version', 'routing_config', 'description'] },
    });
    this.provisioned =
      provisioned === undefined
        ? undefined
        : new LambdaProvisionedConcurrencyConfig(this, 'provisioned-concurrency', {
            functionName: props.fn.name,
            qualifier: this.alias.name,
            provisionedConcurrentExecutions: provisioned,
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
