import test from 'ava';
import { FunctionUrlEndpoint, type FunctionUrlEndpointProps } from '../../../infra/constructs/function-url.js';
import { LiveAlias } from '../../../infra/constructs/live-alias.js';
import { SettingError } from '../../../infra/errors.js';
import { all, buildDist, one, ref, stackWithFunction, synth, type Json } from '../../helpers/infra-synth.js';

let dist = '';
test.before(async () => {
  dist = await buildDist();
});

function synthUrl(props: Partial<FunctionUrlEndpointProps> = {}): Json {
  const { stack, fn } = stackWithFunction(dist);
  const alias = new LiveAlias(stack, 'alias', { fn });
  new FunctionUrlEndpoint(stack, 'url', { alias, ...props });
  return synth(stack);
}

test('puts the URL on the live alias, buffered', (t) => {
  const out = synthUrl();
  const url = one(out, 'aws_lambda_function_url');
  t.is(url['function_name'], ref(out, 'aws_lambda_function', 'function_name'));
  t.is(url['qualifier'], ref(out, 'aws_lambda_alias', 'name'));
  t.is(url['invoke_mode'], 'BUFFERED');
});

test('requires IAM by default and grants nobody anything', (t) => {
  const out = synthUrl();
  t.is(one(out, 'aws_lambda_function_url')['authorization_type'], 'AWS_IAM');
  t.deepEqual(all(out, 'aws_lambda_permission'), []);
});

test('opens the URL to anyone only with the explicit flag, with both permissions Lambda requires', (t) => {
  const out = synthUrl({ authorization: { mode: 'none', allowUnauthenticated: true } });
  t.is(one(out, 'aws_lambda_function_url')['authorization_type'], 'NONE');
  const permissions = all(out, 'aws_lambda_permission');
  t.deepEqual(permissions.map((p) => p['action']).sort(), ['lambda:InvokeFunction', 'lambda:InvokeFunctionUrl']);
  t.true(permissions.every((p) => p['principal'] === '*' && p['qualifier'] === ref(out, 'aws_lambda_alias', 'name')));
  t.is(permissions.find((p) => p['action'] === 'lambda:InvokeFunctionUrl')?.['function_url_auth_type'], 'NONE');
});

test('fails synth with no authorization without the explicit flag', (t) => {
  const error = t.throws(() => synthUrl({ authorization: { mode: 'none', allowUnauthenticated: false } }), { instanceOf: SettingError });
  t.is(
    error?.message,
    'test/url: authorization.mode is "none"; allowed: "iam" (default), or "none" together with allowUnauthenticated: true (allowUnauthenticated is false). ' +
      'Set allowUnauthenticated: true only if anyone on the internet may call the model',
  );
});
