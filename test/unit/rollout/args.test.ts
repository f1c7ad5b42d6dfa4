import test from 'ava';
import { parseRolloutArgs } from '../../../commands/rollout/args.js';
import { UsageError } from '../../../commands/rollout/errors.js';

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
