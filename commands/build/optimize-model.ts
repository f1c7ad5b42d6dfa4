/**
 * Build-time graph optimisation, so that the function's init skips it: the model saved in ORT format after
 * onnxruntime's "extended" optimisations, which the function hands to onnxruntime as bytes used in place
 * (contract/model-format.ts): the session points into the buffer instead of parsing protobuf and copying every
 * initializer. docs/PERFORMANCE.md ("Cold start against model size") has the figures: about 2.5 times faster session
 * creation at 500 MB, and half the peak RSS. "extended" rather than "all": the "all" level adds layout changes for
 * the building machine's CPU, wrong for a build on x86_64 of an arm64 function; the session still applies them at load.
 *
 * onnxruntime's ORT file differs between two saves of one model (a hash map's order, in its header), so the build
 * rewrites that header in a canonical order (canonicalOrt) and the same model.onnx always ships the same bytes.
 * The ORT file is checked as it will run: in a folder laid out as the function's model folder (model.ort and the
 * model.json the build ships), loaded by the function's own loader and held to golden.json by the build's golden
 * check (golden-check.ts), so every signature the function serves (several inputs, any element type) is covered.
 */
import { readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import * as ort from 'onnxruntime-node';
import { GOLDEN_FILE } from '../../functions/contract/build-record.js';
import { MODEL_MANIFEST_FILE, ORT_MODEL_FILE } from '../../functions/contract/env.js';
import { verifyBundle, type GoldenCheck } from './golden-check.js';

/** Why model.ort cannot ship; the message is one clause, for the build's line or its failure. */
export class OptimizeModelError extends Error {
  constructor(message: string, options?: ErrorOptions) {
    super(message, options);
    this.name = 'OptimizeModelError';
  }
}

export interface OptimizeInput {
  /** The bundle's model.onnx, already checked against golden.json. */
  readonly onnxFile: string;
  /** model.json as the build ships it (the derived manifest of a bare bundle included). */
  readonly manifestJson: Uint8Array;
  /** golden.json's bytes; without them nothing can show that model.ort answers as it should. */
  readonly goldenJson: Uint8Array | undefined;
  /** An empty folder of the build's own (never the bundle folder): model.ort is written there and checked. */
  readonly workDir: string;
}

export interface OptimizedModel {
  /** `<workDir>/model.ort`. */
  readonly file: string;
  readonly data: Buffer;
  /** What golden.json showed of model.ort, under the bundle's own rules (tolerance, top-1 agreement). */
  readonly golden: GoldenCheck;
}

/**
 * Writes `<workDir>/model.ort` from model.onnx, in canonical form, and checks it against golden.json through the
 * function's loader.
 * Throws an OptimizeModelError saying why when it cannot be made, cannot be loaded, or answers outside the bundle's
 * rules; the caller decides whether that fails the build or ships model.onnx.
 */
export async function optimizeModel(input: OptimizeInput): Promise<OptimizedModel> {
  if (input.goldenJson === undefined) {
    throw new OptimizeModelError(`the bundle has no ${GOLDEN_FILE} to check ${ORT_MODEL_FILE} against (--allow-missing-golden)`);
  }
  const file = path.join(input.workDir, ORT_MODEL_FILE);
  try {
    await ort.InferenceSession.create(input.onnxFile, { graphOptimizationLevel: 'extended', optimizedModelFilePath: file });
  } catch (error) {
    throw new OptimizeModelError(`onnxruntime could not save it in ORT format (${error instanceof Error ? error.message : String(error)})`, { cause: error });
  }
  let data: Buffer;
  try {
    data = canonicalOrt(await readFile(file));
  } catch (error) {
    throw new OptimizeModelError(`onnxruntime saved an ORT file this build cannot make byte-reproducible (${error instanceof Error ? error.message : String(error)})`, { cause: error });
  }
  await writeFile(file, data);
  await writeFile(path.join(input.workDir, MODEL_MANIFEST_FILE), input.manifestJson);
  await writeFile(path.join(input.workDir, GOLDEN_FILE), input.goldenJson);
  let checked;
  try {
    checked = await verifyBundle(input.workDir, { modelFile: ORT_MODEL_FILE });
  } catch (error) {
    throw new OptimizeModelError(`${ORT_MODEL_FILE} does not pass ${GOLDEN_FILE} (${error instanceof Error ? error.message : String(error)})`, { cause: error });
  }
  return { file, data, golden: checked.golden! };
}

/**
 * The flatbuffer reads the ORT file's header needs: tables through their vtables, strings, vectors of tables. Every
 * read is bounds-checked, so a file of another shape fails here, not later.
 */
class FlatReader {
  constructor(private readonly data: Buffer) {}

  private at(pos: number, size: number): number {
    if (!Number.isInteger(pos) || pos < 0 || pos + size > this.data.length) throw new Error(`offset ${pos} is outside the file (${this.data.length} bytes)`);
    return pos;
  }

  u8(pos: number): number {
    return this.data.readUInt8(this.at(pos, 1));
  }

  u32(pos: number): number {
    return this.data.readUInt32LE(this.at(pos, 4));
  }

  /** A table's vtable position. */
  vtable(table: number): number {
    return table - this.data.readInt32LE(this.at(table, 4));
  }

  /** How many field slots a table's vtable lists. */
  slots(table: number): number {
    return (this.data.readUInt16LE(this.at(this.vtable(table), 2)) - 4) / 2;
  }

  /** Where field `slot` of a table is stored, or undefined when the field is absent. */
  field(table: number, slot: number): number | undefined {
    if (slot >= this.slots(table)) return undefined;
    const offset = this.data.readUInt16LE(this.at(this.vtable(table) + 4 + 2 * slot, 2));
    return offset === 0 ? undefined : table + offset;
  }

  /** The object a uoffset field points to. */
  ref(pos: number): number {
    return pos + this.u32(pos);
  }

  string(pos: number): string {
    const length = this.u32(pos);
    return this.data.toString('utf8', this.at(pos + 4, length), pos + 4 + length);
  }

  tables(vector: number): number[] {
    return Array.from({ length: this.u32(vector) }, (_, i) => this.ref(vector + 4 + 4 * i));
  }
}

/** One field of a table the writer lays out: a reference patched later, a scalar, or an absent slot. */
type FieldSpec = { readonly kind: 'ref' } | { readonly kind: 'u32'; readonly value: number } | { readonly kind: 'i8'; readonly value: number } | { readonly kind: 'absent' };

/** A forward-only flatbuffer writer: parents first, children after them, so every uoffset points forward as it must. */
class FlatWriter {
  private bytes: number[] = [];
  /** Vtables written so far, by their contents. */
  private readonly vtables = new Map<string, number>();

  get length(): number {
    return this.bytes.length;
  }

  pad(to: number): void {
    while (this.bytes.length < to) this.bytes.push(0);
  }

  private align(n: number): void {
    this.pad(Math.ceil(this.bytes.length / n) * n);
  }

  private put(value: number, size: 1 | 2 | 4): void {
    for (let i = 0; i < size; i++) this.bytes.push((value >>> (8 * i)) & 0xff);
  }

  /** Writes a uoffset at `at` that points to `target`. */
  patch(at: number, target: number): void {
    const value = target - at;
    if (value <= 0) throw new Error(`a reference at ${at} would point backwards to ${target}`);
    for (let i = 0; i < 4; i++) this.bytes[at + i] = (value >>> (8 * i)) & 0xff;
  }

  /** A placeholder uoffset at the current position (4-aligned); returns where to patch it. */
  placeholder(): number {
    this.align(4);
    const at = this.bytes.length;
    this.put(0, 4);
    return at;
  }

  raw(data: Uint8Array): void {
    for (const byte of data) this.bytes.push(byte);
  }

  /**
   * A table, after its vtable unless an identical one was written before (flatbuffers shares them). Scalars equal to
   * their default (0) are left out, as flatbuffers does. Returns the table's position and where each reference field
   * is to be patched.
   */
  table(fields: readonly FieldSpec[]): { readonly at: number; readonly refs: (number | undefined)[] } {
    const present = fields.map((f, slot) => ({ f, slot })).filter(({ f }) => f.kind === 'ref' || ((f.kind === 'u32' || f.kind === 'i8') && f.value !== 0));
    const wide = present.filter(({ f }) => f.kind !== 'i8');
    const narrow = present.filter(({ f }) => f.kind === 'i8');
    const offsets: number[] = fields.map(() => 0);
    let size = 4;
    for (const { slot } of wide) {
      offsets[slot] = size;
      size += 4;
    }
    for (const { slot } of narrow) {
      offsets[slot] = size;
      size += 1;
    }
    size = Math.ceil(size / 4) * 4;
    const vtableBytes = [4 + 2 * fields.length, size, ...offsets];
    const key = vtableBytes.join(',');
    let vtable = this.vtables.get(key);
    if (vtable === undefined) {
      this.align(4);
      vtable = this.bytes.length;
      for (const value of vtableBytes) this.put(value, 2);
      this.vtables.set(key, vtable);
    }
    this.align(4);
    const at = this.bytes.length;
    this.put(at - vtable, 4);
    const refs: (number | undefined)[] = fields.map(() => undefined);
    for (const { f, slot } of wide) {
      if (f.kind === 'ref') refs[slot] = this.bytes.length;
      this.put(f.kind === 'u32' ? f.value : 0, 4);
    }
    for (const { f } of narrow) this.put(f.kind === 'i8' ? f.value & 0xff : 0, 1);
    this.pad(at + size);
    return { at, refs };
  }

  string(value: string): number {
    this.align(4);
    const at = this.bytes.length;
    const utf8 = Buffer.from(value, 'utf8');
    this.put(utf8.length, 4);
    this.raw(utf8);
    this.put(0, 1);
    return at;
  }

  /** A vector of `count` references; returns its position and where each element is to be patched. */
  vector(count: number): { readonly at: number; readonly elements: number[] } {
    this.align(4);
    const at = this.bytes.length;
    this.put(count, 4);
    return { at, elements: Array.from({ length: count }, () => this.placeholder()) };
  }

  toBuffer(): Buffer {
    return Buffer.from(this.bytes);
  }
}

/** The kernel type string resolver of an ORT file: for each operator, which inputs and outputs each type string binds. */
interface ResolverEntry {
  readonly opId: string;
  readonly kernelTypeStrs: readonly { readonly kernelTypeStr: string; readonly args: readonly { readonly argType: number; readonly index: number }[] }[];
}

/** InferenceSession's fields (ort.fbs): ort_version, model, session_state (deprecated, never written), kernel_type_str_resolver. */
const SESSION = { ortVersion: 0, model: 1, sessionState: 2, resolver: 3 } as const;
/**
 * How far the model's bytes may move and keep their alignment: flatbuffers aligns every object relative to the
 * buffer's end and pads the whole buffer to its largest alignment, so that alignment (a power of two) divides the
 * file's length; the largest power of two that does, up to a page, is a safe step.
 */
function tailStep(length: number): number {
  return Math.min(4096, length & -length);
}

function byteOrder(a: string, b: string): number {
  return Buffer.compare(Buffer.from(a, 'utf8'), Buffer.from(b, 'utf8'));
}

/** The header of an ORT file: where the model's bytes start, and the resolver's entries in canonical (sorted) order. */
function readOrtHeader(data: Buffer): { readonly tail: number; readonly ortVersion: number; readonly model: number; readonly resolver: ResolverEntry[] } {
  const r = new FlatReader(data);
  if (data.toString('latin1', 4, 8) !== 'ORTM') throw new Error('the file identifier is not "ORTM"');
  const session = r.ref(0);
  if (r.slots(session) > 4 || r.field(session, SESSION.sessionState) !== undefined) throw new Error(`the session table has fields this build does not know (${r.slots(session)} slots)`);
  const versionAt = r.field(session, SESSION.ortVersion);
  const modelAt = r.field(session, SESSION.model);
  const resolverAt = r.field(session, SESSION.resolver);
  if (versionAt === undefined || modelAt === undefined || resolverAt === undefined) throw new Error('the session table lacks ort_version, model or kernel_type_str_resolver');
  const model = r.ref(modelAt);
  const ortVersion = r.ref(versionAt);
  const tail = Math.min(model, r.vtable(model));
  const resolverTable = r.ref(resolverAt);
  const entriesAt = r.field(resolverTable, 0);
  const resolver = (entriesAt === undefined ? [] : r.tables(r.ref(entriesAt))).map((entry): ResolverEntry => {
    const opIdAt = r.field(entry, 0);
    const argsAt = r.field(entry, 1);
    if (opIdAt === undefined) throw new Error('a kernel type string entry has no op_id');
    const kernelTypeStrs = (argsAt === undefined ? [] : r.tables(r.ref(argsAt))).map((typeEntry) => {
      const strAt = r.field(typeEntry, 0);
      const listAt = r.field(typeEntry, 1);
      if (strAt === undefined) throw new Error('a kernel type string entry has no kernel_type_str');
      const args = (listAt === undefined ? [] : r.tables(r.ref(listAt))).map((arg) => {
        const typeAt = r.field(arg, 0);
        const indexAt = r.field(arg, 1);
        return { argType: typeAt === undefined ? 0 : r.u8(typeAt), index: indexAt === undefined ? 0 : r.u32(indexAt) };
      });
      return { kernelTypeStr: r.string(r.ref(strAt)), args };
    });
    kernelTypeStrs.sort((a, b) => byteOrder(a.kernelTypeStr, b.kernelTypeStr));
    return { opId: r.string(r.ref(opIdAt)), kernelTypeStrs };
  });
  resolver.sort((a, b) => byteOrder(a.opId, b.opId));
  // Everything before the model's bytes must be the header itself: the session table and the resolver.
  for (const pos of [session, resolverTable, entriesAt ?? session]) if (pos >= tail) throw new Error('the session or resolver table lies among the model\'s bytes');
  if (ortVersion < tail) throw new Error('ort_version lies before the model\'s bytes');
  return { tail, ortVersion, model, resolver };
}

/**
 * The ORT file in a canonical form, so the same model.onnx always gives the same bytes (SPEC: the same inputs give
 * byte-identical zips). onnxruntime writes the kernel type string resolver, the header before the model's bytes, in
 * the iteration order of a hash map seeded per process, so two saves of one model differ there and only there; the
 * model's own bytes (graph, initializers) come out the same. This rewrites the header with the resolver's entries
 * sorted by key (as flatbuffers orders keyed tables), and keeps the model's bytes as they are, moved (if the header
 * grew) by a step that keeps their alignment. It checks its own output reads back to the same header and model bytes, and
 * throws on a file of any other shape.
 */
export function canonicalOrt(data: Buffer): Buffer {
  const header = readOrtHeader(data);
  const w = new FlatWriter();
  const root = w.placeholder();
  w.raw(Buffer.from('ORTM', 'latin1'));
  const session = w.table([{ kind: 'ref' }, { kind: 'ref' }, { kind: 'absent' }, { kind: 'ref' }]);
  w.patch(root, session.at);
  const resolver = w.table([{ kind: 'ref' }]);
  w.patch(session.refs[SESSION.resolver]!, resolver.at);
  const entries = w.vector(header.resolver.length);
  w.patch(resolver.refs[0]!, entries.at);
  header.resolver.forEach((entry, i) => {
    const table = w.table([{ kind: 'ref' }, { kind: 'ref' }]);
    w.patch(entries.elements[i]!, table.at);
    w.patch(table.refs[0]!, w.string(entry.opId));
    const types = w.vector(entry.kernelTypeStrs.length);
    w.patch(table.refs[1]!, types.at);
    entry.kernelTypeStrs.forEach((typeEntry, j) => {
      const typeTable = w.table([{ kind: 'ref' }, { kind: 'ref' }]);
      w.patch(types.elements[j]!, typeTable.at);
      w.patch(typeTable.refs[0]!, w.string(typeEntry.kernelTypeStr));
      const args = w.vector(typeEntry.args.length);
      w.patch(typeTable.refs[1]!, args.at);
      typeEntry.args.forEach((arg, k) => {
        const argTable = w.table([{ kind: 'i8', value: arg.argType }, { kind: 'u32', value: arg.index }]);
        w.patch(args.elements[k]!, argTable.at);
      });
    });
  });
  // The model's bytes stay where onnxruntime put them if the header fits before them, else move by whole steps.
  const step = tailStep(data.length);
  const tail = header.tail + Math.ceil(Math.max(0, w.length - header.tail) / step) * step;
  w.pad(tail);
  w.patch(session.refs[SESSION.ortVersion]!, tail + (header.ortVersion - header.tail));
  w.patch(session.refs[SESSION.model]!, tail + (header.model - header.tail));
  const out = Buffer.concat([w.toBuffer(), data.subarray(header.tail)]);
  const again = readOrtHeader(out);
  if (JSON.stringify(again.resolver) !== JSON.stringify(header.resolver) || !out.subarray(again.tail).equals(data.subarray(header.tail))) {
    throw new Error('the rewritten header does not read back as the original');
  }
  return out;
}
