import test, { type ExecutionContext } from 'ava';
import { predictBodyScanner, predictBodyScanners, type PredictBodyScanner } from '../functions/predict/scan-predict-body.js';
import { featureSpec, parseJsonBody, parsePredictRequest, type Batch } from '../functions/predict/validate-request.js';
import { irisManifest } from './helpers/unit-manifests.js';

const spec = featureSpec(irisManifest());

/** The two scanners, each alone whatever the body's length, and the one the handler uses, which picks by length. */
function scannersFor(manifest = irisManifest()): [string, PredictBodyScanner][] {
  const model = featureSpec(manifest);
  const { text, bytes } = predictBodyScanners(model);
  return [
    ['JavaScript', text],
    ['WebAssembly', bytes],
    ['by length', predictBodyScanner(model)],
  ];
}

/** One test per scanner: every case must hold for each. */
function each(title: string, body: (t: ExecutionContext, scan: PredictBodyScanner, make: (manifest: ReturnType<typeof irisManifest>) => PredictBodyScanner) => void): void {
  scannersFor().forEach(([kind, scan], i) => test(`${title} (${kind})`, (t) => body(t, scan, (manifest) => scannersFor(manifest)[i]![1])));
}

/** What the general path gives: JSON.parse, then validation into a Float32Array. */
function reference(body: string): Batch {
  return parsePredictRequest(parseJsonBody(body), spec);
}

/** Float32 values compared bit for bit (-0 is not 0). */
function sameBatch(a: Batch, b: Batch): boolean {
  return a.rows === b.rows && a.data.length === b.data.length && a.data.every((v, i) => Object.is(v, b.data[i]));
}

/** Deterministic pseudo-random numbers in [0, 1) (mulberry32), so a failure reproduces. */
function random(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let x = Math.imul(a ^ (a >>> 15), 1 | a);
    x = (x + Math.imul(x ^ (x >>> 7), 61 | x)) ^ x;
    return ((x ^ (x >>> 14)) >>> 0) / 2 ** 32;
  };
}

/** The exact decimal expansion of a finite double, however many digits it takes. */
function exactDecimal(value: number): string {
  const view = new DataView(new ArrayBuffer(8));
  view.setFloat64(0, Math.abs(value));
  const bits = view.getBigUint64(0);
  const biased = Number((bits >> 52n) & 0x7ffn);
  let mantissa = bits & 0xfffffffffffffn;
  if (biased !== 0) mantissa |= 1n << 52n;
  const exponent = (biased === 0 ? 1 : biased) - 1075;
  const sign = value < 0 ? '-' : '';
  if (exponent >= 0) return sign + (mantissa << BigInt(exponent)).toString();
  const digits = (mantissa * 5n ** BigInt(-exponent)).toString().padStart(-exponent + 1, '0');
  return `${sign}${digits.slice(0, exponent)}.${digits.slice(exponent)}`.replace(/0+$/, '').replace(/\.$/, '');
}

/** Ways clients write the same number: shortest double, the 17-digit float32 as a double, exponents, float32 short form. */
function spellings(value: number, next: () => number): string[] {
  const f = Math.fround(value);
  return [
    String(value),
    String(f),
    f.toExponential(),
    f.toExponential(Math.floor(next() * 20)),
    value.toPrecision(1 + Math.floor(next() * 21)),
    f.toPrecision(9).toUpperCase(),
  ].filter((s) => s !== 'Infinity' && s !== '-Infinity' && s !== 'NaN');
}

each('reads a single row exactly as JSON.parse and validation do', (t, scan) => {
  const body = '{"features": [5.1, 3.5, 1.4, 0.2]}';
  const batch = scan(body);
  t.truthy(batch, 'the scanner reads the common single-row body');
  t.true(sameBatch(batch!, reference(body)));
});

each('reads a batch exactly as JSON.parse and validation do', (t, scan) => {
  // A 20-digit literal on purpose: the scanner must round it to float32 exactly as JSON.parse does.
  // eslint-disable-next-line no-loss-of-precision
  const body = JSON.stringify({ instances: [[5.1, 3.5, 1.4, 0.2], [6.7, 3, 5.2, 2.3], [-0, 0, 1e-3, 12345678901234567890]] });
  const batch = scan(body);
  t.truthy(batch);
  t.is(batch!.rows, 3);
  t.true(sameBatch(batch!, reference(body)));
});

each('keeps the sign of negative zero', (t, scan) => {
  t.true(Object.is(scan('{"features": [-0, -0.0, -0e5, 0]}')!.data[0], -0));
  t.true(Object.is(scan('{"features": [-0, -0.0, -0e5, 0]}')!.data[2], -0));
});

each('accepts JSON whitespace anywhere between tokens', (t, scan) => {
  const body = ' \n{ "instances" :\t[ [ 1 , 2 ,3,4 ]\r\n, [5,6,7,8] ] }\n ';
  t.true(sameBatch(scan(body)!, reference(body)));
});

each('gives the float32 JSON.parse gives for random numbers in every common spelling', (t, scan) => {
  const next = random(1);
  let checked = 0;
  for (let i = 0; i < 4000; i++) {
    const magnitude = 10 ** Math.floor(next() * 40 - 20);
    const value = (next() - 0.5) * magnitude;
    const row = spellings(value, next).slice(0, 4);
    while (row.length < 4) row.push('1');
    const body = `{"features":[${row.join(',')}]}`;
    const batch = scan(body);
    if (batch === undefined) {
      t.fail(`the scanner gave up on ${body}`);
      return;
    }
    if (!sameBatch(batch, reference(body))) {
      t.fail(`${body}: scanner ${[...batch.data].join(',')} vs JSON.parse ${[...reference(body).data].join(',')}`);
      return;
    }
    checked++;
  }
  t.is(checked, 4000);
});

each('gives the float32 JSON.parse gives for random decimals of 1 to 40 digits', (t, scan) => {
  const next = random(2);
  const failures: string[] = [];
  for (let i = 0; i < 20_000; i++) {
    let digits = String(1 + Math.floor(next() * 9));
    const count = Math.floor(next() * 40);
    for (let d = 0; d < count; d++) digits += String(Math.floor(next() * 10));
    const point = Math.floor(next() * digits.length) + 1;
    const exponent = Math.floor(next() * 90) - 45;
    const text = `${next() < 0.5 ? '-' : ''}${digits.slice(0, point)}${point < digits.length ? `.${digits.slice(point)}` : ''}e${exponent}`;
    const value = Number(text);
    if (!(Math.abs(value) <= 3.4028234663852886e38)) continue;
    const body = `{"features":[${text},0,0,0]}`;
    const batch = scan(body);
    if (batch === undefined || !Object.is(batch.data[0], Math.fround(value))) failures.push(text);
  }
  t.deepEqual(failures.slice(0, 5), []);
});

each('gives the float32 JSON.parse gives for decimals with up to 25 zeros after the point and up to 21 digits after them', (t, scan) => {
  const next = random(4);
  const failures: string[] = [];
  for (let i = 0; i < 20_000; i++) {
    let digits = String(1 + Math.floor(next() * 9));
    const count = Math.floor(next() * 21);
    for (let d = 0; d < count; d++) digits += String(Math.floor(next() * 10));
    const text = `${next() < 0.5 ? '-' : ''}${next() < 0.5 ? '0' : String(Math.floor(next() * 100))}.${'0'.repeat(Math.floor(next() * 26))}${digits}`;
    const body = `{"features":[${text},0,0,0]}`;
    const batch = scan(body);
    if (batch === undefined || !Object.is(batch.data[0], Math.fround(Number(text)))) failures.push(text);
  }
  t.deepEqual(failures.slice(0, 5), []);
});

each('rounds exact float32 midpoints, and decimals a hair either side of them, as JSON.parse does', (t, scan) => {
  const next = random(3);
  const pairs = new Float32Array(2);
  const bits = new Uint32Array(pairs.buffer);
  const failures: string[] = [];
  for (let i = 0; i < 3000; i++) {
    bits[0] = 0x00800000 + Math.floor(next() * (0x7f000000 - 0x00800000));
    bits[1] = bits[0]! + 1;
    const midpoint = (pairs[0]! + pairs[1]!) / 2;
    const exact = exactDecimal(midpoint);
    // The exact midpoint (a tie: to even), and one unit in the 40th digit below and above it.
    const nudged = exact.includes('.') ? [exact, `${exact}1`] : [exact, `${exact}.1`];
    for (const text of nudged) {
      if (!/^\d+(\.\d+)?$/.test(text)) continue;
      const body = `{"features":[${text},1,2,3]}`;
      const batch = scan(body);
      if (batch === undefined || !Object.is(batch.data[0], reference(body).data[0])) failures.push(text);
    }
  }
  t.deepEqual(failures.slice(0, 3), []);
});

each('reads integers past 2^53 as JSON.parse does', (t, scan) => {
  for (const text of ['9007199254740991', '9007199254740992', '9007199254740993', '18014398509481985', '123456789012345678901234567890']) {
    const body = `{"features":[${text},0,0,0]}`;
    t.true(sameBatch(scan(body)!, reference(body)), text);
  }
});

each('gives up on every body it does not fully recognise, leaving the decision to the general path', (t, scan) => {
  const bodies = [
    '{"features": {"sepal_length": 5.1, "sepal_width": 3.5, "petal_length": 1.4, "petal_width": 0.2}}',
    '{"instances": [[1, 2, 3, 4], {"sepal_length": 5.1, "sepal_width": 3.5, "petal_length": 1.4, "petal_width": 0.2}]}',
    '{"features": [1, 2, 3, 4], "instances": [[1, 2, 3, 4]]}',
    '{"features": [1, 2, 3, 4], "extra": 1}',
    '{"features": [1, 2, 3, 4], "features": [5, 6, 7, 8]}',
    '{"featur\\u0065s": [1, 2, 3, 4]}',
    '{"features": ["5.1", 3.5, 1.4, 0.2]}',
    '{"features": [null, 3.5, 1.4, 0.2]}',
    '{"features": [true, 3.5, 1.4, 0.2]}',
    '{"features": [[1], 3.5, 1.4, 0.2]}',
    '{"features": [1, 2, 3]}',
    '{"features": [1, 2, 3, 4, 5]}',
    '{"features": []}',
    '{"instances": []}',
    '{"instances": [[1, 2, 3, 4],]}',
    '{"features": [1, 2, 3, 4,]}',
    '{"features": [01, 2, 3, 4]}',
    '{"features": [1., 2, 3, 4]}',
    '{"features": [.5, 2, 3, 4]}',
    '{"features": [+1, 2, 3, 4]}',
    '{"features": [1e, 2, 3, 4]}',
    '{"features": [-, 2, 3, 4]}',
    '{"features": [NaN, 2, 3, 4]}',
    '{"features": [Infinity, 2, 3, 4]}',
    '{"features": [1e39, 2, 3, 4]}',
    '{"features": [1e999, 2, 3, 4]}',
    '{"features": [-3.5e38, 2, 3, 4]}',
    '{"features": [1, 2, 3, 4]} x',
    '{"features": [1, 2, 3, 4]',
    '\uFEFF{"features": [1, 2, 3, 4]}',
    '[[1, 2, 3, 4]]',
    '',
    'null',
  ];
  for (const body of bodies) t.is(scan(body), undefined, body);
});

each('gives up on more rows than maxBatch', (t, _scan, make) => {
  const small = make(irisManifest({ maxBatch: 2 }));
  t.is(small(JSON.stringify({ instances: [[1, 2, 3, 4], [1, 2, 3, 4], [1, 2, 3, 4]] })), undefined);
  t.is(small(JSON.stringify({ instances: [[1, 2, 3, 4], [1, 2, 3, 4]] }))?.rows, 2);
});

each('gives each body its own rows, a shorter batch after a longer one included (a batch is valid until the next scan)', (t, scan) => {
  const bodies: [string, number[]][] = [
    ['{"instances": [[5, 6, 7, 8], [9, 10, 11, 12], [13, 14, 15, 16]]}', [5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16]],
    ['{"instances": [[1, 2, 3, 4]]}', [1, 2, 3, 4]],
    ['{"features": [0.5, 0.25, 0.125, 2]}', [0.5, 0.25, 0.125, 2]],
    ['{"instances": [[4, 3, 2, 1], [8, 7, 6, 5]]}', [4, 3, 2, 1, 8, 7, 6, 5]],
  ];
  for (const [body, rows] of bodies) {
    const batch = scan(body)!;
    t.deepEqual([...batch.data], rows, body);
    t.is(batch.rows, rows.length / 4);
  }
});

each('gives up on a body with any character outside ASCII, even one whose low byte reads as a digit', (t, scan) => {
  // U+0134's low byte is "4": a scanner reading the body as Latin-1 bytes would see [1, 2, 3, 4].
  for (const body of ['{"features": [1, 2, 3, \u0134]}', '{"features": [1, 2, 3, 4]}\u00a0', '{"features": [1, 2, 3, 4], "é": 1}', '{"features": [1, 2, 3, 4]}\ud83c\udf38']) {
    t.is(scan(body), undefined, body);
  }
});

each('reads a 2 MB body, and the bodies after it', (t, scan) => {
  const rows = Array.from({ length: 256 }, (_, r) => [r, r + 0.5, -r, 1e-3]);
  const padding = ' '.repeat(2 * 1024 * 1024);
  const large = `{"instances": ${JSON.stringify(rows)}${padding}}`;
  t.true(sameBatch(scan(large)!, reference(large)));
  const small = '{"features": [5.1, 3.5, 1.4, 0.2]}';
  t.true(sameBatch(scan(small)!, reference(small)));
  const after = `{"instances": ${JSON.stringify(rows.slice(0, 3))}}`;
  t.true(sameBatch(scan(after)!, reference(after)));
});
