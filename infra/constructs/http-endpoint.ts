import { Apigatewayv2Api } from '@cdktf/provider-aws/lib/apigatewayv2-api/index.js';
import { Apigatewayv2Authorizer } from '@cdktf/provider-aws/lib/apigatewayv2-authorizer/index.js';
import { Apigatewayv2Integration } from '@cdktf/provider-aws/lib/apigatewayv2-integration/index.js';
import { Apigatewayv2Route } from '@cdktf/provider-aws/lib/apigatewayv2-route/index.js';
import { Apigatewayv2Stage } from '@cdktf/provider-aws/lib/apigatewayv2-stage/index.js';
import { CloudwatchLogGroup } from '@cdktf/provider-aws/lib/cloudwatch-log-group/index.js';
import { LambdaPermission } from '@cdktf/provider-aws/lib/lambda-permission/index.js';
import { Construct } from 'constructs';
import { apiLogGroup } from '../../functions/contract/aws-names.js';
import { skipCheck } from '../checkov.js';
import { fail, KMS_KEY_ARN, logRetention, matching, numberInRange, ONE_YEAR_DAYS, oneOf, wholeNumber, type Where } from '../validators.js';
import type { LiveAlias } from './live-alias.js';

/**
 * Who may call the endpoint. `iam`: SigV4-signed requests from principals allowed `execute-api:Invoke`. `jwt`: a
 * bearer token from `issuer` for one of `audience`. `none`: anyone, and only with `allowUnauthenticated: true`, so a
 * public endpoint is always a decision someone wrote down.
 */
export type HttpAuthorization =
  | { readonly mode: 'iam' }
  | { readonly mode: 'jwt'; readonly issuer: string; readonly audience: readonly string[]; readonly scopes?: readonly string[] }
  | { readonly mode: 'none'; readonly allowUnauthenticated?: boolean };

export interface Throttling {
  /** Steady-state requests per second. */
  readonly rateLimit: number;
  /** Requests allowed in a burst above the rate. */
  readonly burstLimit: number;
}

export interface HttpEndpointProps {
  /** The alias every route invokes. */
  readonly alias: LiveAlias;
  /**
   * The HTTP API's name; its access logs go to `/aws/apigateway/<apiName>`.
   * @default "<function name>-api"
   */
  readonly apiName?: string;
  /**
   * Who may call it.
   * @default { mode: "iam" }: SigV4
   */
  readonly authorization?: HttpAuthorization;
  /**
   * The stage's throttling, for every route.
   * @default { rateLimit: 100, burstLimit: 200 }
   */
  readonly throttling?: Throttling;
  /**
   * Days the access log group keeps its logs.
   * @default 30
   */
  readonly accessLogRetentionDays?: number;
  /**
   * KMS key ARN that encrypts the access log group; its key policy must let `logs.<region>.amazonaws.com` use it.
   * @default none: CloudWatch Logs' own encryption at rest
   */
  readonly accessLogsKmsKeyArn?: string | undefined;
  /**
   * Also route every other path (`$default`) to the function, so a wrong path or method gets the function's SPEC
   * 404/405 JSON (with `Allow`) instead of API Gateway's bare 404. Same authorization as the other routes.
   * @default true
   */
  readonly catchAll?: boolean;
}

/** The SPEC's routes (HTTP contract and Open Inference Protocol v2), as API Gateway route keys. */
export const SPEC_ROUTES = [
  'POST /predict',
  'GET /v2',
  'GET /v2/health/live',
  'GET /v2/health/ready',
  'GET /v2/models/{model}',
  'GET /v2/models/{model}/ready',
  'POST /v2/models/{model}/infer',
  'GET /v2/models/{model}/versions/{version}',
  'GET /v2/models/{model}/versions/{version}/ready',
  'POST /v2/models/{model}/versions/{version}/infer',
] as const;

/** API Gateway's limit on a Lambda proxy integration's timeout. */
const MAX_INTEGRATION_TIMEOUT_MS = 30_000;

/** One JSON line per request: enough to follow a request from API Gateway into the function's own log line. */
const ACCESS_LOG_FORMAT = JSON.stringify({
  requestId: '$context.requestId',
  time: '$context.requestTime',
  ip: '$context.identity.sourceIp',
  caller: '$context.identity.userArn',
  method: '$context.httpMethod',
  path: '$context.path',
  routeKey: '$context.routeKey',
  status: '$context.status',
  responseLength: '$context.responseLength',
  responseLatency: '$context.responseLatency',
  integrationLatency: '$context.integrationLatency',
  integrationStatus: '$context.integrationStatus',
  integrationError: '$context.integrationErrorMessage',
  error: '$context.error.message',
  authorizerError: '$context.authorizer.error',
});

const API_NAME = /^[A-Za-z0-9_-]{1,128}$/;

/** Refuses `none` unless the flag says it is meant; shared by the HTTP API and the Function URL. */
export function checkUnauthenticated(where: Where, mode: string, allowUnauthenticated: boolean | undefined, allowedModes: string): void {
  if (mode === 'none' && allowUnauthenticated !== true) {
    fail(
      where,
      'authorization.mode',
      mode,
      `${allowedModes}, or "none" together with allowUnauthenticated: true (allowUnauthenticated is ${String(allowUnauthenticated ?? 'unset')})`,
      'Set allowUnauthenticated: true only if anyone on the internet may call the model',
    );
  }
}

/**
 * The public face: an API Gateway HTTP API whose SPEC routes (and, by default, a catch-all) invoke the `live` alias
 * through a payload 2.0 Lambda proxy integration. IAM (SigV4) authorization by default, a JWT authorizer as an
 * option, none only when asked for explicitly. The `$default` stage deploys automatically, throttles, and writes
 * JSON access logs to its own log group. The Lambda permission lets only this API invoke only the alias.
 */
export class HttpEndpoint extends Construct {
  readonly api: Apigatewayv2Api;
  readonly stage: Apigatewayv2Stage;
  readonly routes: readonly Apigatewayv2Route[];
  readonly accessLogs: CloudwatchLogGroup;
  readonly authorization: HttpAuthorization;

  constructor(scope: Construct, id: string, props: HttpEndpointProps) {
    super(scope, id);
    const { alias } = props;
    const apiName = matching(this, 'apiName', props.apiName ?? `${alias.fn.functionName}-api`, API_NAME, '1 to 128 letters, digits, "-" and "_"');
    this.authorization = this.checkAuthorization(props.authorization ?? { mode: 'iam' });
    const throttling = props.throttling ?? { rateLimit: 100, burstLimit: 200 };
    // API Gateway's default account quota: 10,000 requests per second, bursts of 5,000.
    const rateLimit = numberInRange(this, 'throttling.rateLimit', throttling.rateLimit, 1, 10_000, 'requests per second');
    const burstLimit = wholeNumber(this, 'throttling.burstLimit', throttling.burstLimit, 1, 5_000, 'requests');
    const retention = logRetention(this, 'accessLogRetentionDays', props.accessLogRetentionDays ?? 30);

    this.api = new Apigatewayv2Api(this, 'api', {
      name: apiName,
      protocolType: 'HTTP',
      description: `Inference endpoint for ${alias.fn.functionName}:${alias.aliasName}`,
    });
    const integration = new Apigatewayv2Integration(this, 'integration', {
      apiId: this.api.id,
      integrationType: 'AWS_PROXY',
      integrationUri: alias.invokeArn,
      integrationMethod: 'POST',
      payloadFormatVersion: '2.0',
      timeoutMilliseconds: Math.min(alias.fn.timeoutSeconds * 1000, MAX_INTEGRATION_TIMEOUT_MS),
    });

    const auth = this.routeAuthorization();
    const keys: string[] = [...SPEC_ROUTES, ...(props.catchAll ?? true ? ['$default'] : [])];
    this.routes = keys.map(
      (routeKey) =>
        new Apigatewayv2Route(this, `route-${routeId(routeKey)}`, {
          apiId: this.api.id,
          routeKey,
          target: `integrations/${integration.id}`,
          ...auth,
        }),
    );

    const logsKey =
      props.accessLogsKmsKeyArn === undefined
        ? undefined
        : matching(this, 'accessLogsKmsKeyArn', props.accessLogsKmsKeyArn, KMS_KEY_ARN, 'a KMS key ARN (arn:aws:kms:<region>:<account>:key/<id>)');
    this.accessLogs = new CloudwatchLogGroup(this, 'access-logs', {
      name: apiLogGroup(apiName),
      retentionInDays: retention,
      ...(logsKey === undefined ? {} : { kmsKeyId: logsKey }),
    });
    if (logsKey === undefined) {
      skipCheck(this.accessLogs, 'CKV_AWS_158', 'Access log lines hold request metadata (request id, caller IP and IAM ARN, route, status, latency), no bodies or credentials, and CloudWatch Logs encrypts them at rest; accessLogsKmsKeyArn sets a customer-managed key where policy demands one');
    }
    if (retention < ONE_YEAR_DAYS) {
      skipCheck(this.accessLogs, 'CKV_AWS_338', `Retention is configured per environment (accessLogRetentionDays, ${retention} days here): API Gateway metrics and alarms do not depend on it, so keeping access logs a year is a compliance choice, not a rule`);
    }
    this.stage = new Apigatewayv2Stage(this, 'stage', {
      apiId: this.api.id,
      name: '$default',
      autoDeploy: true,
      defaultRouteSettings: { throttlingRateLimit: rateLimit, throttlingBurstLimit: burstLimit, detailedMetricsEnabled: true },
      accessLogSettings: { destinationArn: this.accessLogs.arn, format: ACCESS_LOG_FORMAT },
    });

    new LambdaPermission(this, 'invoke-permission', {
      statementId: `AllowInvokeFrom-${apiName}`.slice(0, 100),
      action: 'lambda:InvokeFunction',
      functionName: alias.fn.name,
      qualifier: alias.name,
      principal: 'apigateway.amazonaws.com',
      sourceArn: `${this.api.executionArn}/*/*`,
    });
  }

  /** The endpoint's base URL (`https://<id>.execute-api.<region>.amazonaws.com/`). */
  get url(): string {
    return this.stage.invokeUrl;
  }

  private checkAuthorization(authorization: HttpAuthorization): HttpAuthorization {
    const mode = oneOf(this, 'authorization.mode', authorization.mode, ['iam', 'jwt', 'none']);
    if (authorization.mode === 'none') checkUnauthenticated(this, mode, authorization.allowUnauthenticated, '"iam" (default) or "jwt"');
    if (authorization.mode === 'jwt') {
      matching(this, 'authorization.issuer', authorization.issuer, /^https:\/\/\S+$/, 'the token issuer\'s https URL (its "iss" claim)');
      if (authorization.audience.length === 0) fail(this, 'authorization.audience', authorization.audience, 'one or more accepted "aud" values (client ids)');
      authorization.audience.forEach((a, i) => matching(this, `authorization.audience[${i}]`, a, /^\S+$/, 'a non-empty client id'));
      (authorization.scopes ?? []).forEach((s, i) => matching(this, `authorization.scopes[${i}]`, s, /^\S+$/, 'a non-empty OAuth scope'));
    }
    return authorization;
  }

  private routeAuthorization(): { authorizationType: string; authorizerId?: string; authorizationScopes?: string[] } {
    const authorization = this.authorization;
    switch (authorization.mode) {
      case 'iam':
        return { authorizationType: 'AWS_IAM' };
      case 'none':
        return { authorizationType: 'NONE' };
      case 'jwt': {
        const authorizer = new Apigatewayv2Authorizer(this, 'jwt-authorizer', {
          apiId: this.api.id,
          name: 'jwt',
          authorizerType: 'JWT',
          identitySources: ['$request.header.Authorization'],
          jwtConfiguration: { issuer: authorization.issuer, audience: [...authorization.audience] },
        });
        const scopes = authorization.scopes ?? [];
        return { authorizationType: 'JWT', authorizerId: authorizer.id, ...(scopes.length === 0 ? {} : { authorizationScopes: [...scopes] }) };
      }
    }
  }
}

/** A construct id for a route key: `POST /v2/models/{model}/infer` → `post-v2-models-model-infer`. */
function routeId(routeKey: string): string {
  return routeKey === '$default' ? 'default' : routeKey.toLowerCase().replace(/[^a-z0-9]+/g, '-').replace(/^-|-$/g, '');
}
