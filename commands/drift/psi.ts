/**
 * The population stability index: how far a window's distribution over a baseline's bins has moved from the
 * baseline's own, PSI = sum over bins of (a - e) ln(a / e), with e the baseline's share of a bin and a the window's.
 * It is 0 for the same shares and grows with the shift, in both directions. The usual reading (docs/DRIFT.md): under
 * 0.1 no significant change, 0.1 to 0.25 a moderate shift worth a look, above 0.25 a significant shift.
 */

/**
 * The share an empty bin counts as: ln(a / e) has no value at 0, and a bin empty on one side is exactly what a
 * shift looks like, so it is counted as a small share rather than left out (1e-4: one value in ten thousand).
 */
export const PSI_EPSILON = 1e-4;

/** The usual reading of a PSI value. */
export const PSI_LEVELS = Object.freeze({ moderate: 0.1, significant: 0.25 });

export type PsiLevel = 'stable' | 'moderate' | 'significant';

export function psiLevel(psi: number): PsiLevel {
  return psi > PSI_LEVELS.significant ? 'significant' : psi >= PSI_LEVELS.moderate ? 'moderate' : 'stable';
}

/** PSI of `actual` shares against `expected` shares over the same bins; empty bins count as PSI_EPSILON. */
export function psi(expected: readonly number[], actual: readonly number[], epsilon: number = PSI_EPSILON): number {
  if (expected.length !== actual.length) throw new RangeError(`PSI over ${expected.length} expected and ${actual.length} actual bins`);
  let sum = 0;
  for (let i = 0; i < expected.length; i++) {
    const e = Math.max(expected[i]!, epsilon);
    const a = Math.max(actual[i]!, epsilon);
    sum += (a - e) * Math.log(a / e);
  }
  return sum;
}
