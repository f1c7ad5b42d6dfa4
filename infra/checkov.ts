/**
 * Checkov skips written beside the resource they concern. cdktf writes Terraform JSON, which has no comments and for
 * which checkov honours no inline suppression, so a skip is a `"//": { "checkov": { "skip": { "<id>": "<reason>" } } }`
 * key on the resource (Terraform ignores "//"); test/helpers/checkov.ts applies it and reports the check as skipped
 * with the reason. Skip a check only where it does not apply to that resource, and say why in terms of that resource.
 */
import type { TerraformResource } from 'cdktf';

const CHECK_ID = /^CKV2?_AWS_\d+$/;

/**
 * Marks one checkov check as not applying to one resource, with the reason. Resources only: the scan's skip reader
 * (test/helpers/checkov.ts) reads the "//" key of `resource` blocks, so a data source's finding is fixed, not skipped.
 */
export function skipCheck(resource: TerraformResource, checkId: string, reason: string): void {
  if (!CHECK_ID.test(checkId)) throw new Error(`skipCheck: checkId is "${checkId}"; expected a checkov AWS check id such as CKV_AWS_18 or CKV2_AWS_62`);
  if (reason.trim() === '') throw new Error(`skipCheck: the skip of ${checkId} on ${resource.node.path} has no reason; say why the check does not apply`);
  resource.addOverride(`//.checkov.skip.${checkId}`, reason);
}
