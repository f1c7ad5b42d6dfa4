import test from 'ava';
import { LiveAlias, type LiveAliasProps } from '../../../infra/constructs/live-alias.js';
import type { InferenceFunctionProps } from '../../../infra/constructs/inference-function.js';
import { SettingError } from '../../../infra/errors.js';
import { all, buildDist, one, ref, stackWithFunction, synth, type Json } from '../../helpers/infra-synth.js';

let dist = '';
test.before(async () => {
  dist = await buildDist();
});

function synthAlias(props: Partial<LiveAliasProps> = {}, fnProps: Partial<InferenceFunctionProps> = {}): Json {
  const { stack, fn } = stackWithFunction(dist, fnProps);
  new LiveAlias(stack, 'alias', { fn, ...props });
  return synth(stack);
}

test('is named live and starts on the version this deployment published', (t) => {
  const out = synthAlias();
  const alias = one(out, 'aws_lambda_alias');
  t.is(alias['name'], 'live');
  t.is(alias['function_name'], ref(out, 'aws_lambda_function', 'function_name'));
  t.is(alias['function_version'], ref(out, 'aws_lambda_function', 'version'));
});

test('leaves the version and weights to the rollout', (t) => {
  t.deepEqual(one(synthAlias(), 'aws_lambda_alias')['lifecycle'], { ignore_changes: ['function_version', 'routing_config', 'description'] });
});

test('writes no weights by default', (t) => {
  t.is(one(synthAlias(), 'aws_lambda_alias')['routing_config'], undefined);
});

test('writes the initial weights it is given', (t) => {
  const alias = one(synthAlias({ initialRouting: [{ version: '3', weight: 0.1 }] }), 'aws_lambda_alias');
  t.deepEqual(alias['routing_config'], { additional_version_weights: { '3': 0.1 } });
});

test('leaves provisioned concurrency to its own construct', (t) => {
  t.deepEqual(all(synthAlias(), 'aws_lambda_provisioned_concurrency_config'), []);
});

test('drops failed and stale asynchronous invocations of the alias by default: no retries, at most 60 s old', (t) => {
  const out = synthAlias();
  const config = one(out, 'aws_lambda_function_event_invoke_config');
  t.is(config['function_name'], ref(out, 'aws_lambda_function', 'function_name'));
  t.is(config['qualifier'], ref(out, 'aws_lambda_alias', 'name'));
  t.like(config, { maximum_retry_attempts: 0, maximum_event_age_in_seconds: 60 });
});

test('applies the asynchronous invoke settings it is given', (t) => {
  const config = one(synthAlias({ asyncInvoke: { maximumRetryAttempts: 2, maximumEventAgeSeconds: 3600 } }), 'aws_lambda_function_event_invoke_config');
  t.like(config, { maximum_retry_attempts: 2, maximum_event_age_in_seconds: 3600 });
});

/** Props the alias refuses, each with what its SettingError says (the whole message, or the setting). */
const REFUSED: readonly { title: string; props: Partial<LiveAliasProps>; fnProps?: Partial<InferenceFunctionProps>; error: { message: string } | { setting: string } }[] = [
  {
    title: 'fails synth with a weight above 1',
    props: { initialRouting: [{ version: '3', weight: 1.5 }] },
    error: { message: 'test/alias: initialRouting[0].weight is 1.5; allowed: a number from 0 to 1 (the share of traffic on that version)' },
  },
  { title: 'fails synth with a negative weight', props: { initialRouting: [{ version: '3', weight: -0.1 }] }, error: { setting: 'initialRouting[0].weight' } },
  {
    title: 'fails synth with weights on more than one other version',
    props: { initialRouting: [{ version: '3', weight: 0.1 }, { version: '4', weight: 0.1 }] },
    error: { setting: 'initialRouting' },
  },
  {
    title: 'fails synth with a weight on $LATEST',
    props: { initialRouting: [{ version: '$LATEST', weight: 0.1 }] },
    error: { message: 'test/alias: initialRouting[0].version is "$LATEST"; allowed: a published version number such as "7" (not $LATEST)' },
  },
  {
    title: 'fails synth with more than two retries of an asynchronous invocation',
    props: { asyncInvoke: { maximumRetryAttempts: 3 } },
    error: { message: 'test/alias: asyncInvoke.maximumRetryAttempts is 3; allowed: a whole number of retries from 0 to 2' },
  },
  {
    title: 'fails synth with a maximum event age under Lambda\'s minimum of 60 seconds',
    props: { asyncInvoke: { maximumEventAgeSeconds: 30 } },
    error: { message: 'test/alias: asyncInvoke.maximumEventAgeSeconds is 30; allowed: a whole number of seconds from 60 to 21600' },
  },
  { title: 'fails synth with a maximum event age over six hours', props: { asyncInvoke: { maximumEventAgeSeconds: 21_601 } }, error: { setting: 'asyncInvoke.maximumEventAgeSeconds' } },
  { title: 'fails synth with an alias name made only of digits', props: { aliasName: '12' }, error: { message: 'test/alias: aliasName is "12"; allowed: a Lambda alias name: 1 to 128 letters, digits, "-" or "_", not only digits' } },
];

for (const { title, props, fnProps, error } of REFUSED) {
  test(title, (t) => {
    t.like(t.throws(() => synthAlias(props, fnProps), { instanceOf: SettingError }), error);
  });
}
