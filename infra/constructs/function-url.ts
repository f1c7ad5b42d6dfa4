import { LambdaFunctionUrl } from '@cdktf/provider-aws/lib/lambda-function-url/index.js';
import { LambdaPermission } from '@cdktf/provider-aws/lib/lambda-permission/index.js';
import { Construct } from 'constructs';
import { oneOf } from '../validators.js';
import { checkUnauthenticated } from './http-endpoint.js';
import type { LiveAlias } from './live-alias.js';

/**
 * `iam`: SigV4-signed requests from principals allowed both `lambda:InvokeFunctionUrl` and `lambda:InvokeFunction`
 * on the alias (Lambda's authorization model since October 2025). `none`: anyone, only with
 * `allowUnauthenticated: true`.
 */
export type FunctionUrlAuthorization = { readonly mode: 'iam' } | { readonly mode: 'none'; readonly allowUnauthenticated?: boolean };

export interface FunctionUrlEndpointProps {
  /** The alias the URL invokes. */
  readonly alias: LiveAlias;
  /**
   * Who may call it.
   * @default { mode: "iam" }
   */
  readonly authorization?: FunctionUrlAuthorization;
}

/**
 * The alternative to the HTTP API: a Lambda Function URL on the `live` alias, for callers that need neither
 * API Gateway's throttling, JWT authorizers nor access logs. Same payload 2.0 events, so the function cannot tell.
 *
 * The two public permissions of `mode: 'none'` duplicate nothing. Lambda adds a resource-based statement by itself
 * only when a URL is created in the console; CreateFunctionUrlConfig, which Terraform's aws_lambda_function_url
 * calls, adds none, so without these resources the URL would answer 403 to everyone. And since October 2025 a
 * public URL needs both `lambda:InvokeFunctionUrl` (with `lambda:FunctionUrlAuthType` NONE) and
 * `lambda:InvokeFunction` for the public principal: each statement grants an action the other does not, so removing
 * either breaks the URL. The second would ideally be limited to URL calls (AddPermission's `InvokedViaFunctionUrl`,
 * the `lambda:InvokedViaFunctionUrl` condition), which the AWS provider (6.25) cannot write yet; without it, any AWS principal may also invoke the alias directly, which adds no
 * audience to a URL that anyone may call already.
 */
export class FunctionUrlEndpoint extends Construct {
  readonly functionUrl: LambdaFunctionUrl;
  readonly authorization: FunctionUrlAuthorization;

  constructor(scope: Construct, id: string, props: FunctionUrlEndpointProps) {
    super(scope, id);
    const { alias } = props;
    this.authorization = props.authorization ?? { mode: 'iam' };
    const mode = oneOf(this, 'authorization.mode', this.authorization.mode, ['iam', 'none']);
    if (this.authorization.mode === 'none') checkUnauthenticated(this, mode, this.authorization.allowUnauthenticated, '"iam" (default)');

    this.functionUrl = new LambdaFunctionUrl(this, 'url', {
      functionName: alias.fn.name,
      qualifier: alias.name,
      authorizationType: mode === 'iam' ? 'AWS_IAM' : 'NONE',
      invokeMode: 'BUFFERED',
    });
    if (mode === 'none') {
      // Both statements are required (see the class comment); neither exists unless created here.
      new LambdaPermission(this, 'public-url', {
        statementId: 'AllowPublicFunctionUrl',
        action: 'lambda:InvokeFunctionUrl',
        functionName: alias.fn.name,
        qualifier: alias.name,
        principal: '*',
        functionUrlAuthType: 'NONE',
      });
      new LambdaPermission(this, 'public-invoke', {
        statementId: 'AllowPublicInvokeThroughUrl',
        action: 'lambda:InvokeFunction',
        functionName: alias.fn.name,
        qualifier: alias.name,
        principal: '*',
      });
    }
  }

  /** The URL (`https://<id>.lambda-url.<region>.on.aws/`). */
  get url(): string {
    return this.functionUrl.functionUrl;
  }
}
