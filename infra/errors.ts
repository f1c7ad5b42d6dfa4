/**
 * What can be wrong with the infrastructure's input. Every message names the setting, the value it got and what is
 * allowed, so `npm run synth` fails with something a person can act on, never with a Terraform error later.
 */

function show(value: unknown): string {
  if (typeof value === 'string') return JSON.stringify(value);
  if (value === undefined) return 'unset';
  return typeof value === 'object' ? JSON.stringify(value) : String(value);
}

/** Base of the infrastructure's own errors. */
export class InfraError extends Error {
  constructor(message: string) {
    super(message);
    this.name = new.target.name;
  }
}

/**
 * A setting (an environment config key or a construct prop) outside what AWS or this kit accepts. `where` is the
 * construct path or config location (`dev/function`, `environments[prod]`), so the message says which one is wrong.
 */
export class SettingError extends InfraError {
  constructor(
    readonly where: string,
    readonly setting: string,
    readonly value: unknown,
    readonly allowed: string,
    readonly fix?: string,
  ) {
    super(`${where}: ${setting} is ${show(value)}; allowed: ${allowed}${fix === undefined ? '' : `. ${fix}`}`);
  }
}

/**
 * `build.json` is missing, malformed, or built for something other than what the configuration asks for. `where` is
 * the build.json file for a bad field, or the config location for a setting the build does not match.
 */
export class BuildRecordError extends SettingError {}
