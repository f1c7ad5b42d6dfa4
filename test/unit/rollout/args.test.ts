import test from 'ava';
import { parseRolloutArgs } from '../../../commands/rollout/args.js';
import { UsageError } from '../../../commands/rollout/errors.js';

test('applies the documented defaults', (t) => {
  const options = parseRolloutArgs(['--function', 'f', '--to', '4']);
  t.like(options, { functionName: 'f', alias: 'live', to: '4', steps: [10, 50, 100], intervalS: 300, pollS: 15, maxWaitS: 900, alarmPrefix: undefined, dryRun: false, json: false });
  t.like(options.thresholds, { minRequests: 100, maxErrorRateIncrease: 0.01, maxLatencyRatio: 1.5 });
});

test('reads every flag', (t) => {
  const options = parseRolloutArgs([
    '--function', 'f', '--alias', 'prod', '--to', '7', '--steps', '5,100', '--interval', '60', '--alarm-prefix', 'p-', '--min-requests', '0',
    '--max-wait', '600', '--poll', '5', '--namespace', 'NS', '--max-error-rate-increase', '0.02', '--max-invalid-rate-increase', '0.1',
    '--max-latency-ratio', '2', '--latency-slack-ms', '1', '--max-confidence-drop', '0.1', '--dry-run', '--json',
  ]);
  t.like(options, { alias: 'prod', to: '7', steps: [5, 100], intervalS: 60, alarmPrefix: 'p-', maxWaitS: 600, pollS: 5, namespace: 'NS', dryRun: true, json: true });
  t.deepEqual(options.thresholds, { minRequests: 0, maxErrorRateIncrease: 0.02, maxInvalidRateIncrease: 0.1, maxLatencyRatio: 2, latencySlackMs: 1, maxConfidenceDrop: 0.1 });
});

test('names the flag, the value and what is expected', (t) => {
  t.throws(() => parseRolloutArgs(['--to', '4']), { instanceOf: UsageError, message: /^--function is missing; expected the Lambda function name or ARN/ });
  t.throws(() => parseRolloutArgs(['--function', 'f']), { message: /^--to is missing; expected the version to promote/ });
  t.throws(() => parseRolloutArgs(['--function', 'f', '--to', 'live']), { message: /^--to is "live"; expected a published version number/ });
  t.throws(() => parseRolloutArgs(['--function', 'f', '--to', '4', '--interval', 'soon']), { message: '--interval is "soon"; expected a number from 0 to 86400' });
  t.throws(() => parseRolloutArgs(['--function', 'f', '--to', '4', '--min-requests', '1.5']), { message: '--min-requests is "1.5"; expected a whole number from 0 to 1000000000000' });
  t.throws(() => parseRolloutArgs(['--function', 'f', '--to', '4', '--steps', '10,,100']), { message: /^--steps is "10,,100"/ });
  t.throws(() => parseRolloutArgs(['--function', 'f', '--to', '4', '--max-wait', '10', '--interval', '60']), { message: '--max-wait is "10"; expected a number from 60 to 604800' });
});

test('rejects unknown flags and stray arguments', (t) => {
  t.throws(() => parseRolloutArgs(['--function', 'f', '--to', '4', '--stepz', '10']), { instanceOf: UsageError, message: /stepz/ });
  t.throws(() => parseRolloutArgs(['--function', 'f', '--to', '4', 'extra']), { instanceOf: UsageError });
});

test('--resume and --rollback may leave out --to, but not be given together', (t) => {
  t.is(parseRolloutArgs(['--function', 'f', '--resume']).to, undefined);
  t.is(parseRolloutArgs(['--function', 'f', '--rollback']).rollback, true);
  t.throws(() => parseRolloutArgs(['--function', 'f', '--resume', '--rollback']), { instanceOf: UsageError });
});
