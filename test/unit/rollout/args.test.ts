import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import test from 'ava';
import { parseRolloutArgs } from '../../../commands/rollout/args.js';
import { UsageError } from '../../../commands/rollout/errors.js';
import { DEFAULT_CONFIG, validateAppConfig, type AppConfig } from '../../../infra/config.js';
import { ROOT } from '../../helpers/function.js';

test('applies the documented defaults', (t) => {
  const options = parseRolloutArgs(['--function', 'f', '--to', '4']);
  t.like(options, { functionName: 'f', alias: 'live', to: '4', steps: [10, 50, 100], intervalS: 300, pollS: 15, maxWaitS: 900, alarmPrefix: undefined, namespace: undefined, dryRun: false, json: false });
  t.like(options, { raisePc: undefined, pcTimeoutS: 600, settleTimeoutS: 120, progressS: 30 });
  t.deepEqual(options.thresholds, { minRequests: 100, maxErrorRateIncrease: 0.01, maxInvalidRateIncrease: 0.05, maxLatencyRatio: 1.5, latencySlackMs: 5, maxConfidenceDrop: 0.05 });
});

test('derives the poll and the longest wait from a short interval', (t) => {
  t.like(parseRolloutArgs(['--function', 'f', '--to', '4', '--interval', '6']), { intervalS: 6, pollS: 6, maxWaitS: 18 });
});

test('reads every flag', (t) => {
  const options = parseRolloutArgs([
    '--function', 'f', '--alias', 'prod', '--to', '7', '--steps', '5,100', '--interval', '60', '--alarm-prefix', 'p-', '--min-requests', '0',
    '--max-wait', '600', '--poll', '5', '--namespace', 'NS', '--max-error-rate-increase', '0.02', '--max-invalid-rate-increase', '0.1',
    '--max-latency-ratio', '2', '--latency-slack-ms', '1', '--max-confidence-drop', '0.1', '--dry-run', '--json', '--retry',
    '--raise-pc', '8', '--pc-timeout', '900', '--settle-timeout', '30', '--progress', '10',
  ]);
  t.like(options, { alias: 'prod', to: '7', steps: [5, 100], intervalS: 60, alarmPrefix: 'p-', maxWaitS: 600, pollS: 5, namespace: 'NS', dryRun: true, json: true, retry: true });
  t.like(options, { raisePc: 8, pcTimeoutS: 900, settleTimeoutS: 30, progressS: 10 });
  t.deepEqual(options.thresholds, { minRequests: 0, maxErrorRateIncrease: 0.02, maxInvalidRateIncrease: 0.1, maxLatencyRatio: 2, latencySlackMs: 1, maxConfidenceDrop: 0.1 });
});

const REFUSED: readonly { readonly what: string; readonly argv: readonly string[]; readonly message: string | RegExp }[] = [
  { what: 'a missing --function', argv: ['--to', '4'], message: /^--function is missing; expected the Lambda function name or ARN/ },
  { what: 'a missing --to', argv: ['--function', 'f'], message: /^--to is missing; expected the version to promote/ },
  { what: 'an alias as --to', argv: ['--function', 'f', '--to', 'live'], message: /^--to is "live"; expected a published version number/ },
  { what: 'an alias name of digits only', argv: ['--function', 'f', '--to', '4', '--alias', '12'], message: /^--alias is "12"; expected a Lambda alias name: 1 to 128 letters, digits, "-" or "_", not only digits/ },
  { what: 'an interval that is not a number', argv: ['--function', 'f', '--to', '4', '--interval', 'soon'], message: '--interval is "soon"; expected a number from 0 to 86400' },
  { what: 'a fractional --min-requests', argv: ['--function', 'f', '--to', '4', '--min-requests', '1.5'], message: '--min-requests is "1.5"; expected a whole number from 0 to 1000000000000' },
  { what: 'an empty step', argv: ['--function', 'f', '--to', '4', '--steps', '10,,100'], message: /^--steps is "10,,100"; expected percents separated by commas/ },
  { what: 'a --max-wait shorter than the interval', argv: ['--function', 'f', '--to', '4', '--max-wait', '10', '--interval', '60'], message: '--max-wait is "10"; expected a number from 60 to 604800' },
  { what: 'an empty --alarm-prefix', argv: ['--function', 'f', '--to', '4', '--alarm-prefix', ' '], message: /^--alarm-prefix is " "; expected a non-empty alarm name prefix/ },
  { what: 'an empty --namespace', argv: ['--function', 'f', '--to', '4', '--namespace', ''], message: /^--namespace is ""; expected the function's METRICS_NAMESPACE/ },
  { what: 'a latency ratio below 1', argv: ['--function', 'f', '--to', '4', '--max-latency-ratio', '0.5'], message: '--max-latency-ratio is "0.5"; expected a number from 1 to 1000' },
  { what: 'an unknown flag', argv: ['--function', 'f', '--to', '4', '--stepz', '10'], message: /^--flags is .*; expected known flags only \(.*stepz/ },
  { what: 'a stray argument', argv: ['--function', 'f', '--to', '4', 'extra'], message: /^--flags is .*; expected known flags only/ },
  { what: 'a --raise-pc of 0', argv: ['--function', 'f', '--to', '4', '--raise-pc', '0'], message: '--raise-pc is "0"; expected a whole number from 1 to 100000' },
  { what: 'a fractional --raise-pc', argv: ['--function', 'f', '--to', '4', '--raise-pc', '2.5'], message: '--raise-pc is "2.5"; expected a whole number from 1 to 100000' },
  { what: 'a --pc-timeout of 0', argv: ['--function', 'f', '--to', '4', '--pc-timeout', '0'], message: '--pc-timeout is "0"; expected a number from 1 to 86400' },
  { what: 'a --settle-timeout over a day', argv: ['--function', 'f', '--to', '4', '--settle-timeout', '1e6'], message: '--settle-timeout is "1e6"; expected a number from 0 to 86400' },
  { what: 'a --progress that is not a number', argv: ['--function', 'f', '--to', '4', '--progress', 'often'], message: '--progress is "often"; expected a number from 0 to 86400' },
  { what: '--resume and --rollback together', argv: ['--function', 'f', '--resume', '--rollback'], message: '--rollback is true; expected either --resume or --rollback, not both' },
];

for (const { what, argv, message } of REFUSED) {
  test(`refuses ${what}, naming the flag, the value and what is expected`, (t) => {
    t.throws(() => parseRolloutArgs(argv), { instanceOf: UsageError, message });
  });
}

test('--resume and --rollback may leave out --to', (t) => {
  t.like(parseRolloutArgs(['--function', 'f', '--resume']), { to: undefined, resume: true, rollback: false });
  t.like(parseRolloutArgs(['--function', 'f', '--rollback']), { to: undefined, resume: false, rollback: true });
});

test('--help needs no other flag', (t) => {
  t.true(parseRolloutArgs(['--help']).help);
});

/**
 * A configuration of the tests' own: dev lists two models (one with a build folder of its own), prod lists none and
 * deploys the build in a temp folder whose build.json names its model iris.
 */
function twoModelConfig(prodDist: string): AppConfig {
  writeFileSync(path.join(prodDist, 'build.json'), JSON.stringify({ model: { name: 'iris', version: '1' } }));
  const [dev, prod] = DEFAULT_CONFIG.environments;
  return validateAppConfig({
    ...DEFAULT_CONFIG,
    environments: [
      { ...dev!, models: [{ name: 'iris' }, { name: 'fraud', distDir: 'dist-fraud' }] },
      { ...prod!, distDir: prodDist },
    ],
  });
}
const PROD_DIST = mkdtempSync(path.join(tmpdir(), 'rollout-args-'));
test.after.always(() => rmSync(PROD_DIST, { recursive: true, force: true }));
const CONFIG = twoModelConfig(PROD_DIST);
const config = () => CONFIG;

test('--environment and --model take the function, alarm prefix and build folder of a listed model', (t) => {
  const options = parseRolloutArgs(['--environment', 'dev', '--model', 'iris', '--to', '4'], config);
  t.like(options, { functionName: 'onnx-lambda-dev-iris-predict', alarmPrefix: 'onnx-lambda-dev-iris-', alias: 'live', build: path.relative(process.cwd(), path.join(ROOT, 'dist', 'iris')) });
  t.is(options.target?.label, 'dev/iris');
  t.like(parseRolloutArgs(['--environment', 'dev', '--model', 'fraud', '--to', '4'], config), { functionName: 'onnx-lambda-dev-fraud-predict', alarmPrefix: 'onnx-lambda-dev-fraud-', build: path.relative(process.cwd(), path.join(ROOT, 'dist-fraud')) });
});

test('flags given explicitly win over what --environment gives', (t) => {
  const options = parseRolloutArgs(['--environment', 'dev', '--model', 'iris', '--to', '4', '--function', 'other', '--alarm-prefix', 'p-', '--build', 'elsewhere'], config);
  t.like(options, { functionName: 'other', alarmPrefix: 'p-', build: 'elsewhere' });
});

test('an environment without a models list needs no --model and takes its own names', (t) => {
  const options = parseRolloutArgs(['--environment', 'prod', '--to', '4'], config);
  t.like(options, { functionName: 'onnx-lambda-prod-predict', alarmPrefix: 'onnx-lambda-prod-' });
  t.is(options.target?.label, 'prod');
  t.is(options.target?.model, undefined);
});

test('an environment without a models list takes as --model the name its build record gives', (t) => {
  t.is(parseRolloutArgs(['--environment', 'prod', '--model', 'iris', '--to', '4'], config).target?.model, 'iris');
});

test('the configuration is not read without --environment', (t) => {
  const options = parseRolloutArgs(['--function', 'f', '--to', '4'], () => t.fail('the configuration was read') as never);
  t.is(options.target, undefined);
});

const REFUSED_TARGETS: readonly { readonly what: string; readonly argv: readonly string[]; readonly message: string | RegExp }[] = [
  { what: 'an unknown environment, with the choices', argv: ['--environment', 'staging', '--to', '4'], message: '--environment is "staging"; expected one of the environments in infra/config.ts: dev, prod' },
  { what: 'an unknown model, with the choices', argv: ['--environment', 'dev', '--model', 'irs', '--to', '4'], message: '--model is "irs"; expected one of the models environment dev serves (infra/config.ts): iris, fraud' },
  { what: 'a missing --model where the environment lists several', argv: ['--environment', 'dev', '--to', '4'], message: '--model is missing; expected one of the models environment dev serves (infra/config.ts): iris, fraud' },
  { what: 'a --model that is not the single model\'s name', argv: ['--environment', 'prod', '--model', 'fraud', '--to', '4'], message: /^--model is "fraud"; expected "iris", the model environment prod serves \(.*build\.json\), or leave --model out/ },
  { what: '--model without --environment', argv: ['--function', 'f', '--model', 'iris', '--to', '4'], message: '--model is "iris"; expected a model of an environment, with --environment <env> (infra/config.ts)' },
  { what: 'an empty --function beside --environment', argv: ['--environment', 'prod', '--function', '', '--to', '4'], message: /^--function is ""; expected the Lambda function name or ARN/ },
];

for (const { what, argv, message } of REFUSED_TARGETS) {
  test(`refuses ${what}`, (t) => {
    t.throws(() => parseRolloutArgs(argv, config), { instanceOf: UsageError, message });
  });
}

test('a single model whose build record cannot be read refuses --model, saying how to make it', (t) => {
  const missing = validateAppConfig({ ...CONFIG, environments: [{ ...CONFIG.environments[1]!, distDir: path.join(tmpdir(), 'no-such-build') }] });
  t.throws(() => parseRolloutArgs(['--environment', 'prod', '--model', 'iris', '--to', '4'], () => missing), {
    instanceOf: UsageError,
    message: /^--model is "iris"; expected the model environment prod serves, named by its build record, and .*no-such-build\/build\.json cannot be read \(ENOENT.*\); run npm run build, or leave --model out/,
  });
});
