/**
 * What a bundle is made of: the bytes each npm package contributes to one esbuild output, from esbuild's metafile
 * (`inputs[path].bytesInOutput`), so a size can be traced to the packages behind it.
 */

/** The parts of esbuild's metafile read here. */
export interface BundleMetafile {
  readonly outputs: Readonly<Record<string, { readonly bytes: number; readonly inputs: Readonly<Record<string, { readonly bytesInOutput: number }>> }>>;
}

/**
 * The npm package an input path belongs to (the last `node_modules/` in it, scoped names whole), or `(own code)`
 * for a path outside node_modules.
 */
export function packageOf(inputPath: string): string {
  const at = inputPath.lastIndexOf('node_modules/');
  if (at === -1) return '(own code)';
  const [first, second] = inputPath.slice(at + 'node_modules/'.length).split('/');
  return first?.startsWith('@') === true && second !== undefined ? `${first}/${second}` : (first ?? '(own code)');
}

export interface PackageBytes {
  readonly name: string;
  readonly bytes: number;
}

/** Bytes per package in the one output of `metafile`, largest first. */
export function bytesByPackage(metafile: BundleMetafile): PackageBytes[] {
  const outputs = Object.values(metafile.outputs);
  if (outputs.length !== 1) throw new Error(`expected one esbuild output, got ${outputs.length}`);
  const totals = new Map<string, number>();
  for (const [input, { bytesInOutput }] of Object.entries(outputs[0]!.inputs)) {
    const name = packageOf(input);
    totals.set(name, (totals.get(name) ?? 0) + bytesInOutput);
  }
  return [...totals]
    .map(([name, bytes]) => ({ name, bytes }))
    .filter((p) => p.bytes > 0)
    .sort((a, b) => b.bytes - a.bytes || a.name.localeCompare(b.name));
}
