import { NUMBER_CODEC_WASM } from './number-codec-wasm.js';

/**
 * The request path's number work in WebAssembly (source: `assembly/number-codec.ts`, AssemblyScript, built by
 * `npm run build:wasm`): reading a `/predict` body's numbers into float32 rows, and writing a `/predict` 200 body
 * with every float32 output as its shortest text. On a batch, JSON costs as much as the model itself when read and
 * written in JavaScript (docs/PERFORMANCE.md); here it runs over bytes, without a string or a boxed number per
 * value.
 *
 * The WebAssembly code takes the JavaScript code's decisions step for step (scan-predict-body.ts and
 * postprocess.ts document them) and asks JavaScript for the rare values it cannot decide alone: a decimal of 19 or
 * more digits, or a long one near a float32 rounding boundary (`Number()` gives the exact double), and an output
 * outside 1e-14 to 1e28 (`float32ToNumber`). Each codec has its own memory, used only within one synchronous call,
 * so overlapping requests never share bytes.
 */

/** What the WebAssembly code asks JavaScript for. */
export interface CodecFallbacks {
  /** The short double of a float32 output that the WebAssembly code does not format itself; its text is `String()` of it. */
  readonly shortFloat32: (value: number) => number;
}

interface CodecExports {
  readonly memory: WebAssembly.Memory;
  heapBase(): number;
  shortSlot(): number;
  scanPredictBody(body: number, length: number, width: number, maxBatch: number, target: number): number;
  setTexts(table: number): void;
  writeClassification(output: number, rows: number, width: number, out: number, confidences: number, columns: number): number;
  writeRegression(output: number, rows: number, out: number): number;
}

let compiled: WebAssembly.Module | undefined;

/**
 * Compiled once per process, when the first codec is made. Codecs are made on first use, so a function that only
 * ever sees single rows never compiles it; the first large request pays 1 to 3 ms (V8's WebAssembly engine starting
 * up, mostly) instead of every cold start.
 */
function codecModule(): WebAssembly.Module {
  compiled ??= new WebAssembly.Module(Buffer.from(NUMBER_CODEC_WASM, 'base64'));
  return compiled;
}

const PAGE = 65_536;
const align = (n: number) => Math.ceil(n / 16) * 16;
const encoder = new TextEncoder();

/** One instance, and views on its memory that are renewed when the memory grows. */
class CodecMemory {
  readonly exports: CodecExports;
  /** Where the caller's buffers may start. */
  readonly start: number;
  bytes!: Buffer;
  floats!: Float32Array;
  doubles!: Float64Array;

  constructor(module: WebAssembly.Module, fallbacks: CodecFallbacks | undefined) {
    const instance = new WebAssembly.Instance(module, {
      env: {
        exactNumber: (start: number, end: number) => Number(this.bytes.toString('latin1', start, end)),
        outOfRangeText: (value: number, at: number) => {
          if (fallbacks === undefined) throw new Error('this codec was made for reading rows; it writes no numbers');
          const short = fallbacks.shortFloat32(value);
          this.doubles[this.exports.shortSlot() / 8] = short;
          return this.bytes.write(String(short), at, 'latin1');
        },
      },
    });
    this.exports = instance.exports as unknown as CodecExports;
    this.start = align(this.exports.heapBase());
    this.views();
  }

  /** Makes the memory at least `bytes` long. */
  ensure(bytes: number): void {
    const have = this.exports.memory.buffer.byteLength;
    if (bytes <= have) return;
    this.exports.memory.grow(Math.ceil((bytes - have) / PAGE));
    this.views();
  }

  private views(): void {
    const buffer = this.exports.memory.buffer;
    this.bytes = Buffer.from(buffer);
    this.floats = new Float32Array(buffer);
    this.doubles = new Float64Array(buffer);
  }
}

/**
 * Rows read from a body, or undefined when the body is not one of the two common forms. The rows are a view of the
 * scanner's memory, valid until its next call.
 */
export type RowScanner = (body: string) => { readonly rows: number; readonly data: Float32Array } | undefined;

/**
 * Reads `{"features": [...]}` and `{"instances": [[...], ...]}` bodies of rows of `width` numbers, at most
 * `maxBatch` rows (scan-predict-body.ts has the contract).
 */
export function rowScanner(width: number, maxBatch: number, module: () => WebAssembly.Module = codecModule): RowScanner {
  let scan: RowScanner | undefined;
  return (body) => (scan ??= makeRowScanner(width, maxBatch, module()))(body);
}

function makeRowScanner(width: number, maxBatch: number, module: WebAssembly.Module): RowScanner {
  const codec = new CodecMemory(module, undefined);
  const rowsAt = codec.start;
  const bodyAt = align(rowsAt + maxBatch * width * 4);
  let bodyView = codec.bytes.subarray(bodyAt);
  return (body) => {
    // Only an ASCII body can be one of the common forms, so it needs as many bytes as it has UTF-16 units.
    if (body.length + 1 > bodyView.length) {
      codec.ensure(bodyAt + body.length + 1 + PAGE);
      bodyView = codec.bytes.subarray(bodyAt);
    }
    const { read, written } = encoder.encodeInto(body, bodyView);
    if (read !== body.length) return undefined;
    // The end mark: no step of the scan accepts a 0 byte, so none reads past it.
    bodyView[written] = 0;
    const rows = codec.exports.scanPredictBody(bodyAt, written, width, maxBatch, rowsAt);
    if (rows === 0) return undefined;
    // A view of the codec's memory, not a copy: the model copies the rows into its input before the next scan.
    const first = rowsAt / 4;
    return { rows, data: codec.floats.subarray(first, first + rows * width) };
  };
}

/** The fixed texts of a `/predict` 200 body, JSON already. */
export interface BodyTexts {
  readonly prediction: string;
  readonly confidence: string;
  readonly probabilities: string;
  readonly tail: string;
  readonly labels: readonly string[];
}

/**
 * A body and, for a classifier, each row's confidence as a short double and, when all are finite, the body's
 * confidence texts (postprocess.ts's `WrittenPrediction`).
 */
export type BodyWriter = (
  output: Float32Array,
  rows: number,
) => { readonly body: string; readonly confidences: number[] | undefined; readonly confidenceText: string | undefined };

/** Longest text of one float32 value (`-1.23456789e-38`), with room to spare, plus its comma. */
const VALUE_BYTES = 24;
/** Spare room past the worst case computed from the above. */
const SCRATCH_BYTES = 64;

/**
 * Writes `/predict` 200 bodies: a classifier's when `texts.labels` is not empty, a regressor's otherwise. Memory is
 * laid out for `rows` rows at once and grows for more.
 */
export function bodyWriter(texts: BodyTexts, rows: number, fallbacks: CodecFallbacks, module: () => WebAssembly.Module = codecModule): BodyWriter {
  let write: BodyWriter | undefined;
  return (output, count) => (write ??= makeBodyWriter(texts, rows, fallbacks, module()))(output, count);
}

function makeBodyWriter(texts: BodyTexts, rows: number, fallbacks: CodecFallbacks, module: WebAssembly.Module): BodyWriter {
  const codec = new CodecMemory(module, fallbacks);
  const pieces = [texts.prediction, texts.confidence, texts.probabilities, texts.tail, ...texts.labels].map((text) => encoder.encode(text));
  const encoding = pieces.every((bytes) => bytes.every((b) => b < 0x80)) ? 'latin1' : 'utf8';
  const table = codec.start;
  let at = align(table + pieces.length * 8);
  codec.ensure(at + pieces.reduce((sum, bytes) => sum + bytes.length, 0));
  const offsets = new Int32Array(codec.exports.memory.buffer, table, pieces.length * 2);
  pieces.forEach((bytes, i) => {
    codec.bytes.set(bytes, at);
    offsets[2 * i] = at;
    offsets[2 * i + 1] = bytes.length;
    at += bytes.length;
  });
  codec.exports.setTexts(table);

  const width = texts.labels.length;
  const valuesPerRow = Math.max(1, width);
  const widest = Math.max(0, ...pieces.slice(4).map((bytes) => bytes.length));
  const fixed = pieces.slice(0, 4).reduce((sum, bytes) => sum + bytes.length, 0);
  // Per row: its values and their commas, the brackets, its label and comma, its confidence and comma.
  const rowBytes = valuesPerRow * (VALUE_BYTES + 1) + 3 + widest + 1 + VALUE_BYTES + 1;
  const outputAt = align(at);
  let capacity = 0;
  let confidencesAt = 0;
  let columnsAt = 0;
  let bodyAt = 0;
  const layOut = (count: number) => {
    confidencesAt = align(outputAt + count * valuesPerRow * 4);
    columnsAt = align(confidencesAt + count * 8);
    bodyAt = align(columnsAt + count * 8);
    codec.ensure(bodyAt + fixed + count * rowBytes + SCRATCH_BYTES);
    capacity = count;
  };
  layOut(Math.max(1, rows));

  return (output, count) => {
    if (count > capacity) layOut(count);
    const values = count * valuesPerRow;
    codec.floats.set(output.length === values ? output : output.subarray(0, values), outputAt / 4);
    if (width === 0) {
      const end = codec.exports.writeRegression(outputAt, count, bodyAt);
      return { body: codec.bytes.toString(encoding, bodyAt, end), confidences: undefined, confidenceText: undefined };
    }
    const end = codec.exports.writeClassification(outputAt, count, width, bodyAt, confidencesAt, columnsAt);
    const first = confidencesAt / 8;
    // A loop, not Array.from: for a hundred rows Array.from takes longer than writing the body.
    const confidences = new Array<number>(count);
    let finite = true;
    for (let r = 0; r < count; r++) {
      const confidence = codec.doubles[first + r]!;
      confidences[r] = confidence;
      finite &&= Number.isFinite(confidence);
    }
    const body = codec.bytes.toString(encoding, bodyAt, end);
    // The confidence section, between its fixed texts: no label's JSON text can contain them (a label's quotes are
    // escaped), so the first of each is the section's.
    const from = body.indexOf(texts.confidence) + texts.confidence.length;
    const confidenceText = finite ? body.slice(from, body.indexOf(texts.probabilities, from)) : undefined;
    return { body, confidences, confidenceText };
  };
}
