import test from 'ava';
import { setFloat16 } from '@petamoriken/float16';
import type { OutputTensor } from '../../../functions/predict/model-session.js';
import { flatJson, float32ToNumber, nestedJson } from '../../../functions/predict/tensor-json.js';

/** Deterministic pseudo-random 32-bit words (mulberry32), so a failure reproduces. */
function* words(seed: number, count: number): Generator<number> {
  let a = seed >>> 0;
  for (let i = 0; i < count; i++) {
    a = (a + 0x6d2b79f5) >>> 0;
    let x = Math.imul(a ^ (a >>> 15), 1 | a);
    x = (x + Math.imul(x ^ (x >>> 7), 61 | x)) ^ x;
    yield (x ^ (x >>> 14)) >>> 0;
  }
}

function randomFloat32s(seed: number, count: number): number[] {
  const bits = Uint32Array.from(words(seed, count));
  return [...new Float32Array(bits.buffer)].filter((v) => Number.isFinite(v));
}

test('float32ToNumber round-trips every random finite float32 bit pattern', (t) => {
  const values = randomFloat32s(42, 100_000);
  t.true(values.length > 99_000);
  t.deepEqual(values.filter((v) => Math.fround(float32ToNumber(v)) !== v).slice(0, 5), []);
});

test('float32ToNumber never uses more than 9 significant digits', (t) => {
  const significantDigits = (n: number) => n.toExponential().split('e')[0]!.replace(/[-.]/g, '').length;
  t.deepEqual(randomFloat32s(3, 10_000).filter((v) => significantDigits(float32ToNumber(v)) > 9), []);
});

test('float32ToNumber shows short forms of common probabilities, zero, integers and the extremes', (t) => {
  for (const p of [0.97, 0.1, 0.02, 0.01, 0.333333, 0.5, 1e-7, 123.456]) t.is(float32ToNumber(Math.fround(p)), p);
  t.is(float32ToNumber(0), 0);
  t.is(float32ToNumber(16_777_216), 16_777_216);
  t.is(float32ToNumber(-3), -3);
  for (const v of [3.4028234663852886e38, 1.1754943508222875e-38, 1.401298464324817e-45]) t.is(Math.fround(float32ToNumber(v)), v);
});

function out(type: string, dims: number[], data: OutputTensor['data']): OutputTensor {
  return { name: 'y', type, dims, data };
}

test('writes each type as JSON: float32 short, 64-bit integers exact, NaN and infinities as null', (t) => {
  const cases: [OutputTensor, string][] = [
    [out('float32', [3], Float32Array.from([0.97, Number.NaN, Number.POSITIVE_INFINITY])), '[0.97,null,null]'],
    [out('float64', [2], Float64Array.from([0.1, -Number.MAX_VALUE])), '[0.1,-1.7976931348623157e+308]'],
    [out('int64', [2], BigInt64Array.from([-9223372036854775808n, 9223372036854775807n])), '[-9223372036854775808,9223372036854775807]'],
    [out('uint64', [1], BigUint64Array.from([18446744073709551615n])), '[18446744073709551615]'],
    [out('int8', [2], Int8Array.from([-128, 127])), '[-128,127]'],
    [out('uint32', [1], Uint32Array.from([4294967295])), '[4294967295]'],
    [out('bool', [2], Uint8Array.from([1, 0])), '[true,false]'],
    [out('string', [2], ['tab\there', '"q"']), '["tab\\there","\\"q\\""]'],
  ];
  for (const [tensor, expected] of cases) t.is(flatJson(tensor), expected, tensor.type);
});

test('writes float16 outputs given as raw bits as their values', (t) => {
  const bits = new Uint16Array(2);
  const view = new DataView(bits.buffer);
  setFloat16(view, 0, 0.5, true);
  setFloat16(view, 2, -2, true);
  t.is(flatJson(out('float16', [2], bits)), '[0.5,-2]');
});

test('nests a tensor by its dimensions, batch first, and writes empty dimensions as empty arrays', (t) => {
  t.is(nestedJson(out('int32', [2, 1, 3], Int32Array.from([1, 2, 3, 4, 5, 6]))), '[[[1,2,3]],[[4,5,6]]]');
  t.is(nestedJson(out('int32', [2, 0], new Int32Array(0))), '[[],[]]');
  t.is(nestedJson(out('float32', [], Float32Array.from([0.25]))), '0.25');
});
