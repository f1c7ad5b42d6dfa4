/**
 * Application Auto Scaling of the alias's provisioned concurrency: the scalable target the service stack registers
 * (namespace lambda, dimension lambda:function:ProvisionedConcurrency, resource id function:<name>:<alias>). Its
 * scaling actions are PC resizes, which Lambda refuses while the alias has weights, so the rollout suspends them for
 * its duration (RegisterScalableTarget with a SuspendedState) and resumes them after.
 */
import { DescribeScalableTargetsCommand, RegisterScalableTargetCommand, type ApplicationAutoScalingClient } from '@aws-sdk/client-application-auto-scaling';
import { LAMBDA_SCALING, lambdaScalableTargetId } from '../../functions/contract/aws-names.js';
import { functionNameOf, type ScalingFlags } from './hold.js';
import type { AliasRef } from './lambda-alias.js';

export type ScalingTarget =
  | { readonly kind: 'none'; readonly resourceId: string }
  | { readonly kind: 'registered'; readonly resourceId: string; readonly suspended: ScalingFlags; readonly min?: number | undefined; readonly max?: number | undefined }
  | { readonly kind: 'unknown'; readonly resourceId: string; readonly reason: string };

export function scalingResourceId(ref: AliasRef): string {
  return lambdaScalableTargetId(functionNameOf(ref.functionName), ref.alias);
}

/** The alias's scalable target and which of its scaling activities are suspended; "unknown" when it cannot be read. */
export async function readScalingTarget(client: ApplicationAutoScalingClient, ref: AliasRef): Promise<ScalingTarget> {
  const resourceId = scalingResourceId(ref);
  try {
    const page = await client.send(
      new DescribeScalableTargetsCommand({ ServiceNamespace: LAMBDA_SCALING.serviceNamespace, ScalableDimension: LAMBDA_SCALING.scalableDimension, ResourceIds: [resourceId] }),
    );
    const target = (page.ScalableTargets ?? []).find((t) => t.ResourceId === resourceId && t.ScalableDimension === LAMBDA_SCALING.scalableDimension);
    if (target === undefined) return { kind: 'none', resourceId };
    const state = target.SuspendedState;
    return {
      kind: 'registered',
      resourceId,
      suspended: { dynamicIn: state?.DynamicScalingInSuspended === true, dynamicOut: state?.DynamicScalingOutSuspended === true, scheduled: state?.ScheduledScalingSuspended === true },
      min: target.MinCapacity,
      max: target.MaxCapacity,
    };
  } catch (error) {
    const status = (error as { $metadata?: { httpStatusCode?: number } }).$metadata?.httpStatusCode;
    return { kind: 'unknown', resourceId, reason: `${error instanceof Error ? `${error.name}: ${error.message}` : 'error'}${status === undefined ? '' : ` (HTTP ${status})`}` };
  }
}

/**
 * Sets all three suspended flags of the alias's registered scalable target (all three every time, so no flag is left
 * to a default); the target's capacity limits are left as they are.
 */
export async function setScalingSuspended(client: ApplicationAutoScalingClient, ref: AliasRef, flags: ScalingFlags): Promise<void> {
  await client.send(
    new RegisterScalableTargetCommand({
      ServiceNamespace: LAMBDA_SCALING.serviceNamespace,
      ScalableDimension: LAMBDA_SCALING.scalableDimension,
      ResourceId: scalingResourceId(ref),
      SuspendedState: { DynamicScalingInSuspended: flags.dynamicIn, DynamicScalingOutSuspended: flags.dynamicOut, ScheduledScalingSuspended: flags.scheduled },
    }),
  );
}
