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
      // A public URL needs both statements. Provider 6.25 cannot yet scope the second one to URL calls
      // (InvokedViaFunctionUrl), so it also lets any AWS principal invoke the alias directly: the same audience.
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
