// The `/predict` hot path's number work, compiled to WebAssembly (AssemblyScript): reading request numbers into
// float32 and writing float32 outputs as their shortest JSON text. See functions/predict/number-codec.ts.

@external("env", "exactNumber")
declare function exactNumber(start: usize, end: usize): f64;
@external("env", "outOfRangeText")
declare function outOfRangeText(value: f64, at: usize): i32;

// Constant tables, written out once with Node (`Number('1e' + k)`, `Math.floor((e - 127) * Math.log10(2))`); a wrong
// entry would fail the writer's tests next to every power of ten (test/unit-postprocess.test.ts).
/** 1e0 to 1e22, each an exact double. */
const POW10: usize = memory.data<f64>([1e0, 1e1, 1e2, 1e3, 1e4, 1e5, 1e6, 1e7, 1e8, 1e9, 1e10, 1e11, 1e12, 1e13, 1e14, 1e15, 1e16, 1e17, 1e18, 1e19, 1e20, 1e21, 1e22]);
/** 10^k as the nearest double, for k from -46 to 39 (index k + 46). */
const POW10_ANY: usize = memory.data<f64>([1e-46, 1e-45, 1e-44, 1e-43, 1e-42, 1e-41, 1e-40, 1e-39, 1e-38, 1e-37, 1e-36, 1e-35, 1e-34, 1e-33, 1e-32, 1e-31, 1e-30, 1e-29, 1e-28, 1e-27, 1e-26, 1e-25, 1e-24, 1e-23, 1e-22, 1e-21, 1e-20, 1e-19, 1e-18, 1e-17, 1e-16, 1e-15, 1e-14, 1e-13, 1e-12, 1e-11, 1e-10, 1e-9, 1e-8, 1e-7, 1e-6, 1e-5, 1e-4, 1e-3, 1e-2, 1e-1, 1e0, 1e1, 1e2, 1e3, 1e4, 1e5, 1e6, 1e7, 1e8, 1e9, 1e10, 1e11, 1e12, 1e13, 1e14, 1e15, 1e16, 1e17, 1e18, 1e19, 1e20, 1e21, 1e22, 1e23, 1e24, 1e25, 1e26, 1e27, 1e28, 1e29, 1e30, 1e31, 1e32, 1e33, 1e34, 1e35, 1e36, 1e37, 1e38, 1e39]);
/** floor(log10(2^e)) for each biased float32 exponent e. */
const LOG10_OF_POW2: usize = memory.data<i32>([-39, -38, -38, -38, -38, -37, -37, -37, -36, -36, -36, -35, -35, -35, -35, -34, -34, -34, -33, -33, -33, -32, -32, -32, -32, -31, -31, -31, -30, -30, -30, -29, -29, -29, -28, -28, -28, -28, -27, -27, -27, -26, -26, -26, -25, -25, -25, -25, -24, -24, -24, -23, -23, -23, -22, -22, -22, -22, -21, -21, -21, -20, -20, -20, -19, -19, -19, -19, -18, -18, -18, -17, -17, -17, -16, -16, -16, -16, -15, -15, -15, -14, -14, -14, -13, -13, -13, -13, -12, -12, -12, -11, -11, -11, -10, -10, -10, -10, -9, -9, -9, -8, -8, -8, -7, -7, -7, -7, -6, -6, -6, -5, -5, -5, -4, -4, -4, -4, -3, -3, -3, -2, -2, -2, -1, -1, -1, 0, 0, 0, 0, 1, 1, 1, 2, 2, 2, 3, 3, 3, 3, 4, 4, 4, 5, 5, 5, 6, 6, 6, 6, 7, 7, 7, 8, 8, 8, 9, 9, 9, 9, 10, 10, 10, 11, 11, 11, 12, 12, 12, 12, 13, 13, 13, 14, 14, 14, 15, 15, 15, 15, 16, 16, 16, 17, 17, 17, 18, 18, 18, 18, 19, 19, 19, 20, 20, 20, 21, 21, 21, 21, 22, 22, 22, 23, 23, 23, 24, 24, 24, 24, 25, 25, 25, 26, 26, 26, 27, 27, 27, 27, 28, 28, 28, 29, 29, 29, 30, 30, 30, 31, 31, 31, 31, 32, 32, 32, 33, 33, 33, 34, 34, 34, 34, 35, 35, 35, 36, 36, 36, 37, 37, 37, 37, 38, 38]);

const TWO_53: f64 = 9007199254740992.0;
const FLOAT32_MAX: f64 = 3.4028234663852886e38;
const FLOAT32_MIDPOINT: i32 = 0x1000_0000;
const MIDPOINT_MARGIN: i32 = 64;
const MIN_EXPONENT: i32 = 1023 - 126;
const MAX_EXPONENT: i32 = 1023 + 126;
const MAX_DIGITS: i32 = 30;

/** Where static data ends: the caller lays its buffers out from here. */
export function heapBase(): usize {
  return __heap_base;
}

// ---------------------------------------------------------------- reading

let at: usize = 0;
let end: usize = 0;

/** The byte at `i`; the caller puts a 0 after the body, which nothing accepts, so no read goes past it. */
@inline function byteAt(i: usize): i32 {
  return <i32>load<u8>(i);
}

@inline function isSpace(c: i32): bool {
  // One comparison for the bytes that follow a number or a comma in nearly every body (digits, signs, brackets).
  return c <= 0x20 && (c == 0x20 || c == 0x0a || c == 0x0d || c == 0x09);
}

function skipSpace(): void {
  while (isSpace(byteAt(at))) at++;
}

function decimalValue(mantissa: f64, scale: i32, negative: bool, digits: i32, start: usize, stop: usize): f64 {
  if (scale >= -22 && scale <= 22) {
    const value = scale < 0 ? mantissa / load<f64>(POW10 + (<usize>(-scale) << 3)) : mantissa * load<f64>(POW10 + (<usize>scale << 3));
    if (mantissa < TWO_53) return negative ? -value : value;
    if (digits <= MAX_DIGITS) {
      const bits = reinterpret<u64>(value);
      const exponent = <i32>(bits >> 52) & 0x7ff;
      const offset = (<i32>(<u32>bits & 0x1fff_ffff)) - FLOAT32_MIDPOINT;
      if (exponent >= MIN_EXPONENT && exponent <= MAX_EXPONENT && (offset > MIDPOINT_MARGIN || offset < -MIDPOINT_MARGIN)) return negative ? -value : value;
    }
  }
  return exactNumber(start, stop);
}

/** Below this a mantissa can take one more digit without overflowing 63 bits. */
const MANTISSA_LIMIT: i64 = 900_000_000_000_000_000;
/** Whether the number `longMantissa` read last has more digits than a mantissa holds exactly. */
let mantissaLong = false;

/**
 * The digits in `[start, stop)` (a sign and a point skipped) as a whole number, exact up to 18 significant digits;
 * sets `mantissaLong` when there are more. For the rare number of more than 18 digits, leading zeros included.
 */
function longMantissa(start: usize, stop: usize): i64 {
  let mantissa: i64 = 0;
  mantissaLong = false;
  for (let k = start; k < stop; k++) {
    const d = byteAt(k) - 0x30;
    if (<u32>d >= 10) continue;
    if (mantissa < MANTISSA_LIMIT) mantissa = mantissa * 10 + <i64>d;
    else mantissaLong = true;
  }
  return mantissa;
}

function readRow(width: i32, target: usize): bool {
  let i = at;
  if (byteAt(i) != 0x5b) return false;
  let c = byteAt(++i);
  for (let column = 0; column < width; column++) {
    while (isSpace(c)) c = byteAt(++i);
    const start = i;
    const negative = c == 0x2d;
    if (negative) c = byteAt(++i);
    // The digits as a whole number, exact up to 18 digits (below 2^63); more, and it goes to Number() (`long`),
    // leading zeros counted, so no digit needs a check of its own.
    let mantissa: i64 = 0;
    let scale: i32 = 0;
    let d = c - 0x30;
    if (d == 0) {
      c = byteAt(++i);
      if (<u32>(c - 0x30) < 10) return false;
    } else if (<u32>d < 10) {
      do {
        mantissa = mantissa * 10 + <i64>d;
        d = byteAt(++i) - 0x30;
      } while (<u32>d < 10);
      c = d + 0x30;
    } else {
      return false;
    }
    let digits = <i32>(i - start);
    let significant = digits - <i32>negative;
    if (c == 0x2e) {
      const fraction = ++i;
      d = byteAt(i) - 0x30;
      if (<u32>d >= 10) return false;
      do {
        mantissa = mantissa * 10 + <i64>d;
        d = byteAt(++i) - 0x30;
      } while (<u32>d < 10);
      c = d + 0x30;
      scale = <i32>fraction - <i32>i;
      digits += <i32>(i - fraction);
      significant -= scale;
    }
    if (significant <= 15 && c != 0x65 && c != 0x45) {
      // Nearly every number: at most 15 digits (an exact double) and no exponent, so one correctly rounded division
      // gives JSON.parse's double, and no such number lies beyond float32's range. Zero keeps its sign.
      const value = <f64>mantissa / load<f64>(POW10 + (<usize>(-scale) << 3));
      store<f32>(target + (<usize>column << 2), <f32>(negative ? -value : value));
    } else {
      let long = false;
      if (significant > 18) {
        // Leading zeros were counted: read the digits again, keeping the mantissa exact while it fits.
        mantissa = longMantissa(start, i);
        long = mantissaLong;
      }
      if (c == 0x65 || c == 0x45) {
        c = byteAt(++i);
        const negativeExponent = c == 0x2d;
        if (negativeExponent || c == 0x2b) c = byteAt(++i);
        if (!(c >= 0x30 && c <= 0x39)) return false;
        let exponent = 0;
        do {
          if (exponent < 10_000) exponent = exponent * 10 + (c - 0x30);
          c = byteAt(++i);
        } while (c >= 0x30 && c <= 0x39);
        scale += negativeExponent ? -exponent : exponent;
      }
      const value: f64 = long ? exactNumber(start, i) : mantissa == 0 ? (negative ? -0.0 : 0.0) : decimalValue(<f64>mantissa, scale, negative, digits, start, i);
      if (!(Math.abs(value) <= FLOAT32_MAX)) return false;
      store<f32>(target + (<usize>column << 2), <f32>value);
    }
    while (isSpace(c)) c = byteAt(++i);
    if (c != (column == width - 1 ? 0x5d : 0x2c)) return false;
    c = byteAt(++i);
  }
  at = i;
  return true;
}

function atEnd(): bool {
  skipSpace();
  if (byteAt(at) != 0x7d) return false;
  at++;
  skipSpace();
  return at == end;
}

function matches(text: usize, length: usize): bool {
  if (at + length > end) return false;
  for (let k: usize = 0; k < length; k++) if (load<u8>(at + k) != load<u8>(text + k)) return false;
  return true;
}

const FEATURES_KEY: usize = memory.data<u8>([0x22, 0x66, 0x65, 0x61, 0x74, 0x75, 0x72, 0x65, 0x73, 0x22]);
const INSTANCES_KEY: usize = memory.data<u8>([0x22, 0x69, 0x6e, 0x73, 0x74, 0x61, 0x6e, 0x63, 0x65, 0x73, 0x22]);

/**
 * Reads `{"features": [...]}` or `{"instances": [[...], ...]}` from the `length` bytes at `body` into float32 rows
 * at `target`: the number of rows, or 0 when the body is anything else (the caller then takes the general path).
 */
export function scanPredictBody(body: usize, length: usize, width: i32, maxBatch: i32, target: usize): i32 {
  if (width <= 0) return 0;
  at = body;
  end = body + length;
  skipSpace();
  if (byteAt(at) != 0x7b) return 0;
  at++;
  skipSpace();
  if (byteAt(at) != 0x22) return 0;
  if (matches(FEATURES_KEY, 10)) {
    at += 10;
    skipSpace();
    if (byteAt(at++) != 0x3a) return 0;
    skipSpace();
    return readRow(width, target) && atEnd() ? 1 : 0;
  }
  if (!matches(INSTANCES_KEY, 11)) return 0;
  at += 11;
  skipSpace();
  if (byteAt(at++) != 0x3a) return 0;
  skipSpace();
  if (byteAt(at++) != 0x5b) return 0;
  let rows = 0;
  const rowBytes = <usize>width << 2;
  for (;;) {
    if (rows == maxBatch) return 0;
    skipSpace();
    if (!readRow(width, target + <usize>rows * rowBytes)) return 0;
    rows++;
    skipSpace();
    const c = byteAt(at++);
    if (c == 0x5d) break;
    if (c != 0x2c) return 0;
  }
  return atEnd() ? rows : 0;
}

// ---------------------------------------------------------------- writing

/** Where `outOfRangeText` leaves the short double of the value it wrote. */
const SHORT_SLOT: usize = memory.data<f64>([0]);

export function shortSlot(): usize {
  return SHORT_SLOT;
}

/** The short double of the value last written (NaN for a non-finite one): the confidence the metrics record. */
let lastShort: f64 = 0;

@inline function jsRound(x: f64): f64 {
  const r = Math.floor(x);
  return x - r >= 0.5 ? r + 1 : r;
}

/** "00" to "99": two digits per division by 100 halve the chain of divisions a number's digits wait on. */
const DIGIT_PAIRS: usize = memory.data<u8>([48, 48, 48, 49, 48, 50, 48, 51, 48, 52, 48, 53, 48, 54, 48, 55, 48, 56, 48, 57, 49, 48, 49, 49, 49, 50, 49, 51, 49, 52, 49, 53, 49, 54, 49, 55, 49, 56, 49, 57, 50, 48, 50, 49, 50, 50, 50, 51, 50, 52, 50, 53, 50, 54, 50, 55, 50, 56, 50, 57, 51, 48, 51, 49, 51, 50, 51, 51, 51, 52, 51, 53, 51, 54, 51, 55, 51, 56, 51, 57, 52, 48, 52, 49, 52, 50, 52, 51, 52, 52, 52, 53, 52, 54, 52, 55, 52, 56, 52, 57, 53, 48, 53, 49, 53, 50, 53, 51, 53, 52, 53, 53, 53, 54, 53, 55, 53, 56, 53, 57, 54, 48, 54, 49, 54, 50, 54, 51, 54, 52, 54, 53, 54, 54, 54, 55, 54, 56, 54, 57, 55, 48, 55, 49, 55, 50, 55, 51, 55, 52, 55, 53, 55, 54, 55, 55, 55, 56, 55, 57, 56, 48, 56, 49, 56, 50, 56, 51, 56, 52, 56, 53, 56, 54, 56, 55, 56, 56, 56, 57, 57, 48, 57, 49, 57, 50, 57, 51, 57, 52, 57, 53, 57, 54, 57, 55, 57, 56, 57, 57]);

/** Writes the decimal digits of `m` so that they end just before `stop`. */
@inline function digitsBefore(m: u32, stop: usize): void {
  let p = stop;
  while (m >= 100) {
    const q = m / 100;
    p -= 2;
    store<u16>(p, load<u16>(DIGIT_PAIRS + (<usize>(m - q * 100) << 1)));
    m = q;
  }
  if (m >= 10) store<u16>(p - 2, load<u16>(DIGIT_PAIRS + (<usize>m << 1)));
  else store<u8>(p - 1, <u8>(0x30 + m));
}

@inline function digitCount(m: u32): i32 {
  if (m < 100_000) return m < 10 ? 1 : m < 100 ? 2 : m < 1000 ? 3 : m < 10_000 ? 4 : 5;
  return m < 1_000_000 ? 6 : m < 10_000_000 ? 7 : m < 100_000_000 ? 8 : m < 1_000_000_000 ? 9 : 10;
}

/**
 * Number.prototype.toString of `mantissa / 10^power` for a whole mantissa of at most 10 digits (postprocess.ts's
 * reasoning: its digits without trailing zeros, placed by the ECMAScript rules, fixed notation from 1e-7 up to
 * 1e21). Writes at `out`; returns the end.
 */
function decimalText(mantissa: f64, power: i32, out: usize): usize {
  const negative = mantissa < 0;
  // At most 10^9 (nine digits rounded up), so it fits 32 bits.
  let m = <u32>(negative ? -mantissa : mantissa);
  let q = m / 10;
  while (q * 10 == m) {
    m = q;
    q = m / 10;
    power--;
  }
  let p = out;
  if (negative) store<u8>(p++, 0x2d);
  const length = digitCount(m);
  const point = length - power;
  if (point > 0 && point < length) {
    // ddd.ddd: the fraction's digits, the point, then the whole part's, right to left.
    const end = p + <usize>length + 1;
    let cursor = end;
    for (let k = point; k < length; k++) {
      const next = m / 10;
      store<u8>(--cursor, <u8>(0x30 + (m - next * 10)));
      m = next;
    }
    store<u8>(--cursor, 0x2e);
    digitsBefore(m, cursor);
    return end;
  }
  if (point <= 0 && point > -6) {
    store<u16>(p, 0x2e30); // "0."
    // Up to five zeros: eight written at once, the digits then overwrite those past the count.
    store<u64>(p, 0x3030_3030_3030_3030, 2);
    p += 2 + <usize>(-point);
    p += <usize>length;
    digitsBefore(m, p);
    return p;
  }
  if (point >= length && point <= 21) {
    p += <usize>length;
    digitsBefore(m, p);
    for (let z = length; z < point; z++) store<u8>(p++, 0x30);
    return p;
  }
  // d.ddde±x
  const e = point - 1;
  if (length > 1) {
    const end = p + <usize>length + 1;
    let cursor = end;
    for (let k = 1; k < length; k++) {
      const next = m / 10;
      store<u8>(--cursor, <u8>(0x30 + (m - next * 10)));
      m = next;
    }
    store<u8>(--cursor, 0x2e);
    store<u8>(--cursor, <u8>(0x30 + m));
    p = end;
  } else {
    store<u8>(p++, <u8>(0x30 + m));
  }
  store<u8>(p++, 0x65);
  store<u8>(p++, e < 0 ? 0x2d : 0x2b);
  const magnitude = <u32>(e < 0 ? -e : e);
  p += <usize>digitCount(magnitude);
  digitsBefore(magnitude, p);
  return p;
}

/** Writes the JSON text of a float32 output value at `out` (postprocess.ts's float32Text); returns the end. */
function float32Text(value: f32, out: usize): usize {
  if (!isFinite(value)) {
    lastShort = NaN;
    store<u32>(out, 0x6c6c756e); // "null"
    return out + 4;
  }
  const v = <f64>value;
  if (v == 0) {
    lastShort = v;
    store<u8>(out, 0x30);
    return out + 1;
  }
  const biased = (reinterpret<u32>(value) >>> 23) & 0xff;
  if (biased != 0) {
    const a = Math.abs(v);
    let exponent = load<i32>(LOG10_OF_POW2 + (<usize>biased << 2));
    if (a >= load<f64>(POW10_ANY + (<usize>(exponent + 47) << 3))) exponent++;
    // From 1e-14 up to 1e6 every digit count scales by multiplying: the four candidates are independent, so
    // they are computed side by side (the processor overlaps them) and the shortest that reads back is taken.
    const p6 = 5 - exponent;
    if (exponent >= -14 && p6 >= 0) {
      const s6 = load<f64>(POW10 + (<usize>p6 << 3));
      const s7 = load<f64>(POW10 + (<usize>(p6 + 1) << 3));
      const s8 = load<f64>(POW10 + (<usize>(p6 + 2) << 3));
      const s9 = load<f64>(POW10 + (<usize>(p6 + 3) << 3));
      const m6 = jsRound(v * s6);
      const m7 = jsRound(v * s7);
      const m8 = jsRound(v * s8);
      const m9 = jsRound(v * s9);
      const t6 = m6 / s6;
      const t7 = m7 / s7;
      const t8 = m8 / s8;
      const t9 = m9 / s9;
      if (<f32>t6 == value) {
        lastShort = t6;
        return decimalText(m6, p6, out);
      }
      if (<f32>t7 == value) {
        lastShort = t7;
        return decimalText(m7, p6 + 1, out);
      }
      if (<f32>t8 == value) {
        lastShort = t8;
        return decimalText(m8, p6 + 2, out);
      }
      if (<f32>t9 == value) {
        lastShort = t9;
        return decimalText(m9, p6 + 3, out);
      }
    } else if (exponent >= -14 && exponent <= 27) {
      for (let digits = 6; digits <= 9; digits++) {
        const power = digits - 1 - exponent;
        let mantissa: f64;
        let short: f64;
        if (power >= 0) {
          const scale = load<f64>(POW10 + (<usize>power << 3));
          mantissa = jsRound(v * scale);
          short = mantissa / scale;
        } else {
          const scale = load<f64>(POW10 + (<usize>(-power) << 3));
          mantissa = jsRound(v / scale);
          short = mantissa * scale;
        }
        if (<f32>short == value) {
          lastShort = short;
          return decimalText(mantissa, power, out);
        }
      }
    }
  }
  const length = outOfRangeText(v, out);
  lastShort = load<f64>(SHORT_SLOT);
  return out + <usize>length;
}

// Fixed texts of the body, laid out by the caller (setTexts).
let labelTable: usize = 0; // per label: i32 offset, i32 length (its JSON text)
let piecePrediction: usize = 0;
let pieceConfidence: usize = 0;
let pieceProbabilities: usize = 0;
let pieceTail: usize = 0;
let lengthPrediction: i32 = 0;
let lengthConfidence: i32 = 0;
let lengthProbabilities: i32 = 0;
let lengthTail: i32 = 0;

/**
 * Where the fixed texts are: `table` holds (offset, length) pairs of i32, four for `{"prediction":[`,
 * `],"confidence":[`, `],"probabilities":[` and the tail (`],"model_version":"..."}`), then one per label.
 */
export function setTexts(table: usize): void {
  piecePrediction = load<i32>(table);
  lengthPrediction = load<i32>(table, 4);
  pieceConfidence = load<i32>(table, 8);
  lengthConfidence = load<i32>(table, 12);
  pieceProbabilities = load<i32>(table, 16);
  lengthProbabilities = load<i32>(table, 20);
  pieceTail = load<i32>(table, 24);
  lengthTail = load<i32>(table, 28);
  labelTable = table + 32;
}

@inline function piece(at: usize, from: usize, length: i32): usize {
  memory.copy(at, from, length);
  return at + length;
}

/** The column of the row's highest probability at `row` (`width` float32): the first such; NaN never wins. */
@inline function bestColumn(row: usize, width: i32): i32 {
  let best = 0;
  let top = load<f32>(row);
  for (let c = 1; c < width; c++) {
    const q = load<f32>(row + (<usize>c << 2));
    if (q > top) {
      best = c;
      top = q;
    }
  }
  return best;
}

/**
 * Copies a value's text of `length` bytes (at most 24) from `from` to `at`, which lies after it, as three 8-byte
 * moves: cheaper than `memory.copy` for a few bytes. Up to 24 bytes are written; the ones past `length` are
 * overwritten by what follows (the caller leaves room past the end).
 */
@inline function valueCopy(at: usize, from: usize, length: i32): usize {
  store<u64>(at, load<u64>(from));
  store<u64>(at, load<u64>(from, 8), 8);
  store<u64>(at, load<u64>(from, 16), 16);
  return at + <usize>length;
}

/**
 * The `/predict` 200 body of a classifier from `rows` rows of `width` probabilities at `output` (float32,
 * row-major), written at `out`; each row's confidence (a short double) goes to `confidences`. `columns` is room for
 * two i32 per row (its best column, and its confidence text's length). Returns the end. A row's confidence is its best probability, so that probability's
 * text is copied from the confidence written before rather than written again.
 */
export function writeClassification(output: usize, rows: i32, width: i32, out: usize, confidences: usize, columns: usize): usize {
  let p = piece(out, piecePrediction, lengthPrediction);
  for (let r = 0; r < rows; r++) {
    if (r > 0) store<u8>(p++, 0x2c);
    const best = bestColumn(output + (<usize>(r * width) << 2), width);
    store<i32>(columns + (<usize>r << 3), best);
    const label = labelTable + (<usize>best << 3);
    const length = load<i32>(label, 4);
    // A short label as three 8-byte moves (memory.copy is a call into the engine, dearer than the copy itself).
    p = length <= 24 ? valueCopy(p, load<i32>(label), length) : piece(p, load<i32>(label), length);
  }
  p = piece(p, pieceConfidence, lengthConfidence);
  const texts = p;
  for (let r = 0; r < rows; r++) {
    const base = output + (<usize>(r * width) << 2);
    const slot = columns + (<usize>r << 3);
    if (r > 0) store<u8>(p++, 0x2c);
    const start = p;
    p = float32Text(load<f32>(base + (<usize>load<i32>(slot) << 2)), p);
    store<i32>(slot, <i32>(p - start), 4);
    store<f64>(confidences + (<usize>r << 3), lastShort);
  }
  // Row r's confidence text, followed by its comma.
  let text = texts;
  p = piece(p, pieceProbabilities, lengthProbabilities);
  for (let r = 0; r < rows; r++) {
    const base = output + (<usize>(r * width) << 2);
    const slot = columns + (<usize>r << 3);
    const best = load<i32>(slot);
    const length = load<i32>(slot, 4);
    store<u8>(p++, r > 0 ? 0x2c : 0x5b);
    if (r > 0) store<u8>(p++, 0x5b);
    for (let c = 0; c < width; c++) {
      if (c > 0) store<u8>(p++, 0x2c);
      if (c == best) p = valueCopy(p, text, length);
      else p = float32Text(load<f32>(base + (<usize>c << 2)), p);
    }
    store<u8>(p++, 0x5d);
    text += <usize>length + 1;
  }
  return piece(p, pieceTail, lengthTail);
}

/** The `/predict` 200 body of a regressor from `rows` float32 values at `output`, written at `out`; the end. */
export function writeRegression(output: usize, rows: i32, out: usize): usize {
  let p = piece(out, piecePrediction, lengthPrediction);
  for (let r = 0; r < rows; r++) {
    if (r > 0) store<u8>(p++, 0x2c);
    p = float32Text(load<f32>(output + (<usize>r << 2)), p);
  }
  return piece(p, pieceTail, lengthTail);
}
