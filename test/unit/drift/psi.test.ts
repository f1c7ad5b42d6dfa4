import test from 'ava';
import { psi, PSI_EPSILON, psiLevel, type PsiLevel } from '../../../commands/drift/psi.js';

test('the same shares have a PSI of 0', (t) => {
  t.is(psi([0.1, 0.2, 0.3, 0.4], [0.1, 0.2, 0.3, 0.4]), 0);
});

test('PSI is the sum of (actual - expected) ln(actual / expected) over the bins', (t) => {
  // (0.25 - 0.5) ln(0.25 / 0.5) + (0.75 - 0.5) ln(0.75 / 0.5) = 0.17329 + 0.10137
  t.is(psi([0.5, 0.5], [0.25, 0.75]).toFixed(5), '0.27465');
  // symmetric in the two distributions
  t.is(psi([0.25, 0.75], [0.5, 0.5]).toFixed(12), psi([0.5, 0.5], [0.25, 0.75]).toFixed(12));
});

test('an empty bin counts as a share of 1e-4 instead of leaving the logarithm undefined', (t) => {
  const expected = (0.5 - 1) * Math.log(0.5 / 1) + (0.5 - 1e-4) * Math.log(0.5 / 1e-4);
  t.is(PSI_EPSILON, 1e-4);
  t.is(psi([1, 0], [0.5, 0.5]), expected);
  t.true(Number.isFinite(psi([0, 1], [1, 0])));
  t.is(psi([0, 1], [0, 1]), 0);
});

test('PSI readings: under 0.1 stable, 0.1 to 0.25 moderate, above 0.25 significant', (t) => {
  const cases: [number, PsiLevel][] = [
    [0, 'stable'],
    [0.0999, 'stable'],
    [0.1, 'moderate'],
    [0.25, 'moderate'],
    [0.2501, 'significant'],
    [3, 'significant'],
  ];
  for (const [value, level] of cases) t.is(psiLevel(value), level, String(value));
});

test('shares over different bins are refused', (t) => {
  t.throws(() => psi([0.5, 0.5], [1]), { instanceOf: RangeError });
});
