import { parseArgs, type ParseArgsConfig } from 'node:util';

/**
 * The command line of a before/after tool (bench/cold-ab.ts): a git revision, then `--name value`
 * options, each with its default. Anything else prints the usage and exits 1.
 */
export function revisionArgs<Name extends string>(usage: string, defaults: Readonly<Record<Name, string>>): { readonly revision: string; readonly values: Readonly<Record<Name, string>> } {
  const options: ParseArgsConfig['options'] = {};
  for (const [name, value] of Object.entries<string>(defaults)) options[name] = { type: 'string', default: value };
  try {
    const { positionals, values } = parseArgs({ args: process.argv.slice(2), options, allowPositionals: true, strict: true });
    const [revision] = positionals;
    if (revision !== undefined && positionals.length === 1) return { revision, values: values as Record<Name, string> };
  } catch (error) {
    console.error(error instanceof Error ? error.message : String(error));
  }
  console.error(usage);
  process.exit(1);
}
