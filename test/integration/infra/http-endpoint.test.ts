import test from 'ava';
import { HttpEndpoint, SPEC_ROUTES, type HttpEndpointProps } from '../../../infra/constructs/http-endpoint.js';
import type { InferenceFunctionProps } from '../../../infra/constructs/inference-function.js';
import { LiveAlias } from '../../../infra/constructs/live-alias.js';
import { SettingError } from '../../../infra/errors.js';
import { all, buildDist, one, oneWhere, ref, refWhere, stackWithFunction, synth, type Json } from '../../helpers/infra-synth.js';

let dist = '';
test.before(async () => {
  dist = await buildDist();
});

function synthEndpoint(props: Partial<HttpEndpointProps> = {}, fnProps: Partial<InferenceFunctionProps> = {}): Json {
  const { stack, fn } = stackWithFunction(dist, fnProps);
  const alias = new LiveAlias(stack, 'alias', { fn });
  new HttpEndpoint(stack, 'endpoint', { alias, ...props });
  return synth(stack);
}

function routeKeys(out: Json): string[] {
  return all(out, 'aws_apigatewayv2_route').map((route) => route['route_key'] as string).sort();
}

test('is an HTTP API named for the function', (t) => {
  const api = one(synthEndpoint(), 'aws_apigatewayv2_api');
  t.is(api['name'], 'onnx-test-predict-api');
  t.is(api['protocol_type'], 'HTTP');
});

test('serves every SPEC route and a catch-all for the function\'s own 404 and 405', (t) => {
  t.deepEqual(routeKeys(synthEndpoint()), [...SPEC_ROUTES, '$default'].sort());
});

test('serves only the SPEC routes without the catch-all', (t) => {
  t.deepEqual(routeKeys(synthEndpoint({ catchAll: false })), [...SPEC_ROUTES].sort());
});

test('sends every route to the alias through one payload 2.0 proxy integration', (t) => {
  const out = synthEndpoint();
  const integration = one(out, 'aws_apigatewayv2_integration');
  t.is(integration['integration_type'], 'AWS_PROXY');
  t.is(integration['integration_uri'], ref(out, 'aws_lambda_alias', 'invoke_arn'));
  t.is(integration['payload_format_version'], '2.0');
  const target = `integrations/${ref(out, 'aws_apigatewayv2_integration', 'id')}`;
  t.true(all(out, 'aws_apigatewayv2_route').every((route) => route['target'] === target));
});

test('waits for the function as long as its timeout', (t) => {
  t.is(one(synthEndpoint({}, { timeoutSeconds: 10 }), 'aws_apigatewayv2_integration')['timeout_milliseconds'], 10_000);
});

test('waits at most API Gateway\'s 30 seconds for a function with a longer timeout', (t) => {
  t.is(one(synthEndpoint({}, { timeoutSeconds: 120 }), 'aws_apigatewayv2_integration')['timeout_milliseconds'], 30_000);
});

test('requires SigV4 (IAM) on every route by default', (t) => {
  t.true(all(synthEndpoint(), 'aws_apigatewayv2_route').every((route) => route['authorization_type'] === 'AWS_IAM'));
});

test('checks JWTs from the configured issuer and audience on every route', (t) => {
  const out = synthEndpoint({ authorization: { mode: 'jwt', issuer: 'https://auth.example.com/', audience: ['client-1'], scopes: ['predict'] } });
  const authorizer = one(out, 'aws_apigatewayv2_authorizer');
  t.is(authorizer['authorizer_type'], 'JWT');
  t.deepEqual(authorizer['identity_sources'], ['$request.header.Authorization']);
  t.deepEqual(authorizer['jwt_configuration'], { issuer: 'https://auth.example.com/', audience: ['client-1'] });
  const id = ref(out, 'aws_apigatewayv2_authorizer', 'id');
  t.true(
    all(out, 'aws_apigatewayv2_route').every(
      (route) => route['authorization_type'] === 'JWT' && route['authorizer_id'] === id && JSON.stringify(route['authorization_scopes']) === '["predict"]',
    ),
  );
});

test('leaves the routes open when no authorization is asked for explicitly', (t) => {
  const out = synthEndpoint({ authorization: { mode: 'none', allowUnauthenticated: true } });
  t.true(all(out, 'aws_apigatewayv2_route').every((route) => route['authorization_type'] === 'NONE'));
});

test('fails synth with no authorization without the explicit flag', (t) => {
  const error = t.throws(() => synthEndpoint({ authorization: { mode: 'none' } }), { instanceOf: SettingError });
  t.is(
    error?.message,
    'test/endpoint: authorization.mode is "none"; allowed: "iam" (default) or "jwt", or "none" together with allowUnauthenticated: true ' +
      '(allowUnauthenticated is unset). Set allowUnauthenticated: true only if anyone on the internet may call the model',
  );
});

test('fails synth with a JWT issuer that is not an https URL', (t) => {
  const error = t.throws(() => synthEndpoint({ authorization: { mode: 'jwt', issuer: 'auth.example.com', audience: ['client-1'] } }), { instanceOf: SettingError });
  t.is(error?.setting, 'authorization.issuer');
});

test('fails synth with a JWT authorizer that accepts no audience', (t) => {
  const error = t.throws(() => synthEndpoint({ authorization: { mode: 'jwt', issuer: 'https://auth.example.com/', audience: [] } }), { instanceOf: SettingError });
  t.is(error?.setting, 'authorization.audience');
});

test('deploys the $default stage automatically, throttled', (t) => {
  const stage = one(synthEndpoint({ throttling: { rateLimit: 50, burstLimit: 75 } }), 'aws_apigatewayv2_stage');
  t.is(stage['name'], '$default');
  t.is(stage['auto_deploy'], true);
  t.is(stage['default_route_settings']['throttling_rate_limit'], 50);
  t.is(stage['default_route_settings']['throttling_burst_limit'], 75);
});

test('writes JSON access logs to its own log group', (t) => {
  const out = synthEndpoint({ accessLogRetentionDays: 90 });
  const name = '/aws/apigateway/onnx-test-predict-api';
  t.is(oneWhere(out, 'aws_cloudwatch_log_group', 'name', name)['retention_in_days'], 90);
  const settings = one(out, 'aws_apigatewayv2_stage')['access_log_settings'] as Json;
  t.is(settings['destination_arn'], refWhere(out, 'aws_cloudwatch_log_group', 'name', name, 'arn'));
  const format = JSON.parse(settings['format'] as string) as Json;
  t.is(format['requestId'], '$context.requestId');
  t.is(format['status'], '$context.status');
  t.is(format['integrationError'], '$context.integrationErrorMessage');
});

test('fails synth with a throttling rate of zero', (t) => {
  const error = t.throws(() => synthEndpoint({ throttling: { rateLimit: 0, burstLimit: 10 } }), { instanceOf: SettingError });
  t.is(error?.message, 'test/endpoint: throttling.rateLimit is 0; allowed: a number from 1 to 10000 (requests per second)');
});

test('lets only this API invoke only the alias', (t) => {
  const out = synthEndpoint();
  const permission = one(out, 'aws_lambda_permission');
  t.is(permission['action'], 'lambda:InvokeFunction');
  t.is(permission['principal'], 'apigateway.amazonaws.com');
  t.is(permission['function_name'], ref(out, 'aws_lambda_function', 'function_name'));
  t.is(permission['qualifier'], ref(out, 'aws_lambda_alias', 'name'));
  t.is(permission['source_arn'], `${ref(out, 'aws_apigatewayv2_api', 'execution_arn')}/*/*`);
});

test('encrypts the access log group with accessLogsKmsKeyArn', (t) => {
  const key = 'arn:aws:kms:us-east-1:123456789012:key/1234abcd-12ab-34cd-56ef-1234567890ab';
  const out = synthEndpoint({ accessLogsKmsKeyArn: key });
  t.is(oneWhere(out, 'aws_cloudwatch_log_group', 'name', '/aws/apigateway/onnx-test-predict-api')['kms_key_id'], key);
});
