import test from 'ava';
import { benchArgs, BenchUsageError } from '../../../bench/bench-args.js';

test('no flags run every section at full length', (t) => {
  t.deepEqual(benchArgs([]), { quick: false, only: undefined });
});

test('--quick and --only observe are read together', (t) => {
  t.deepEqual(benchArgs(['--quick', '--only', 'observe']), { quick: true, only: 'observe' });
  t.deepEqual(benchArgs(['--only=observe']), { quick: false, only: 'observe' });
});

test('a section that cannot run alone is refused with the flag, the value and the sections that can', (t) => {
  const error = t.throws(() => benchArgs(['--only', 'cold']), { instanceOf: BenchUsageError });
  t.is(error?.message, '--only is "cold"; expected one of the sections that run alone: observe');
});

test('an unknown flag or a stray argument is refused', (t) => {
  t.throws(() => benchArgs(['--fast']), { instanceOf: BenchUsageError, message: /--fast/ });
  t.throws(() => benchArgs(['observe']), { instanceOf: BenchUsageError, message: /observe/ });
  t.throws(() => benchArgs(['--only']), { instanceOf: BenchUsageError, message: /--only/ });
});
