import test from 'ava';
import { argmaxRows, binOf, binShares, labelShares, parseBaseline, quantile, summarize } from '../../../commands/drift/baseline.js';
import { BaselineError } from '../../../commands/drift/errors.js';

test('quantiles interpolate linearly between ranks, as numpy.quantile does', (t) => {
  const sorted = [-3.5, 0.1, 0.2, 0.3, 0.5, 2, 2, 2, 7, 11, 13.25];
  // numpy.quantile(values, [0.1, 0.25, 0.5, 0.9]) on the same values
  t.deepEqual([0.1, 0.25, 0.5, 0.9].map((q) => quantile(sorted, q)), [0.1, 0.25, 2.0, 11.0]);
  t.is(quantile([4], 0.9), 4);
});

test('quantiles take numpy\'s arithmetic bit for bit, from the upper value past the halfway point', (t) => {
  const sorted = [4.179161380332474e-5, 0.00010815954185604848, 0.00025248938313188885, 0.0002855351348958012, 0.0005187791211329045, 0.0007414695266286413, 0.000854679634313597];
  // numpy.quantile(sorted, 0.6); lower + t (upper - lower) gives 0.00042548152663806314
  t.is(quantile(sorted, 0.6), 0.0004254815266380631);
});

test('a value equal to an edge falls in the bin that edge closes', (t) => {
  const edges = [1, 2, 3];
  const cases: [number, number][] = [
    [-10, 0],
    [1, 0],
    [1.0000001, 1],
    [2, 1],
    [3, 2],
    [3.5, 3],
  ];
  for (const [value, bin] of cases) t.is(binOf(edges, value), bin, `value ${value}`);
});

test('a summary has decile edges, each written once, and the training share of each bin', (t) => {
  const values = [0, 0, 0, 0, 0, 0, 1, 2, 3, 4];
  const summary = summarize(values)!;
  t.like(summary, { count: 10, min: 0, max: 4, mean: 1 });
  // deciles 0 (x5), 0.4, 1.3, 2.2, 3.1: five equal cut points become one
  t.is(summary.edges.length, 5);
  t.is(summary.edges[0], 0);
  t.deepEqual(summary.shares, [0.6, 0, 0.1, 0.1, 0.1, 0.1]);
  t.is(summary.shares.length, summary.edges.length + 1);
});

test('NaN is left out of a summary, and nothing to summarise is undefined', (t) => {
  t.like(summarize([1, Number.NaN, 3]), { count: 2, mean: 2, min: 1, max: 3 });
  t.is(summarize([Number.NaN]), undefined);
  t.is(summarize([]), undefined);
  t.deepEqual(binShares([0], [Number.NaN]), { shares: [0, 0], count: 0 });
});

test('label shares count the first highest probability of each row, as /predict picks the label', (t) => {
  const rows = [0.2, 0.5, 0.3, 0.4, 0.4, 0.2, Number.NaN, 0.1, 0.9];
  t.deepEqual(argmaxRows(rows, 3), [1, 0, 2]);
  t.deepEqual(labelShares(['a', 'b', 'c'], [1, 0, 2, 2]), { shares: [0.25, 0.25, 0.5], count: 4 });
});

function valid(): Record<string, unknown> {
  const summary = { count: 3, min: 0, max: 2, mean: 1, edges: [0.5, 1.5], shares: [0.25, 0.5, 0.25] };
  return {
    _type: 'training-baseline',
    version: 1,
    model: { name: 'iris', version: '1', task: 'classification', sha256: 'a'.repeat(64) },
    rows: 3,
    source: 'test rows',
    writer: 'a test',
    inputs: [{ name: 'f', input: 'float_input', column: 0, summary }],
    skipped: [],
    prediction: { kind: 'labels', output: 'probabilities', count: 3, labels: ['x', 'y'], shares: [0.5, 0.5] },
  };
}

test('a baseline in the written form reads back frozen', (t) => {
  const baseline = parseBaseline(valid(), 'baseline.json');
  t.is(baseline.inputs[0]!.summary.edges[1], 1.5);
  t.true(Object.isFrozen(baseline) && Object.isFrozen(baseline.inputs[0]!.summary));
});

test('a baseline with a wrong field is refused with the field, the value and what is expected', (t) => {
  const ADD = Symbol('append');
  const DELETE = Symbol('delete');
  const cases: [string, (string | number)[], unknown, RegExp][] = [
    ['another version', ['version'], 2, /version is 2; expected 1/],
    ['unsorted edges', ['inputs', 0, 'summary', 'edges'], [1.5, 0.5], /inputs\[0\]\.summary\.edges is \[1\.5,0\.5\]; expected ascending distinct numbers/],
    ['shares of the wrong length', ['inputs', 0, 'summary', 'shares'], [0.5, 0.5], /inputs\[0\]\.summary\.shares is \[0\.5,0\.5\]; expected 3 shares/],
    ['shares that do not sum to 1', ['prediction', 'shares'], [0.5, 0.6], /prediction\.shares .*expected shares that sum to 1/],
    ['a missing min', ['inputs', 0, 'summary', 'min'], DELETE, /inputs\[0\]\.summary\.min is missing; expected a finite number/],
    ['an unknown prediction kind', ['prediction', 'kind'], 'clusters', /prediction\.kind is "clusters"; expected "labels", "values" or "tensors"/],
    ['a short sha256', ['model', 'sha256'], 'abc', /model\.sha256 is "abc"; expected 64 hex digits/],
    ['a name twice', ['inputs'], ADD, /inputs is "f"; expected each name once/],
  ];
  /** The JSON with the value at `at` replaced, deleted, or (for an array) its first item appended again. */
  const edited = (at: (string | number)[], value: unknown): unknown => {
    const json = valid();
    let parent: Record<string | number, unknown> = json;
    for (const key of at.slice(0, -1)) parent = parent[key] as Record<string | number, unknown>;
    const last = at.at(-1)!;
    if (value === DELETE) delete parent[last];
    else if (value === ADD) (parent[last] as unknown[]).push((parent[last] as unknown[])[0]);
    else parent[last] = value;
    return json;
  };
  for (const [what, at, value, message] of cases) {
    const error = t.throws(() => parseBaseline(edited(at, value), 'models/x/baseline.json'), { instanceOf: BaselineError }, what);
    t.regex(error.message, message, what);
    t.regex(error.message, /^models\/x\/baseline\.json: .*Rewrite it with npm run bundle -- <bundle dir> --baseline-from/, what);
  }
});
