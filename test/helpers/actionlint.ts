/**
 * Runs actionlint (built by tools/testbed/install.ts into .testbed/bin) over workflow files and returns its findings
 * as data. shellcheck is handed over by path (.testbed/shellcheck-venv), so `run:` scripts are always checked,
 * whatever is on PATH; pyflakes is turned off, as no workflow here has a `shell: python` step.
 * actionlint exits 0 with no finding and 1 with findings (data, not an error); anything else is an error.
 */
import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import { ACTIONLINT_BIN, SHELLCHECK_BIN } from '../../tools/testbed/paths.js';

export interface ActionlintFinding {
  readonly message: string;
  readonly filepath: string;
  readonly line: number;
  readonly column: number;
  /** The rule, e.g. `syntax-check`, `expression`, `shellcheck`. */
  readonly kind: string;
}

/** actionlint could not run, or printed something other than its JSON report. */
export class ActionlintError extends Error {
  override readonly name = 'ActionlintError';
}

export async function runActionlint(files: readonly string[], cwd: string): Promise<ActionlintFinding[]> {
  for (const [what, bin] of [['actionlint', ACTIONLINT_BIN], ['shellcheck', SHELLCHECK_BIN]] as const) {
    if (!existsSync(bin)) throw new ActionlintError(`${what} is not installed at ${bin}; run \`npx tsx tools/testbed/install.ts\` (npm test does it first)`);
  }
  const { code, stdout, stderr } = await new Promise<{ code: number | null; stdout: string; stderr: string }>((resolve) => {
    execFile(ACTIONLINT_BIN, ['-no-color', '-format', '{{json .}}', `-shellcheck=${SHELLCHECK_BIN}`, '-pyflakes=', ...files], { cwd, timeout: 60_000 }, (error, out, err) => {
      resolve({ code: error === null ? 0 : typeof error.code === 'number' ? error.code : null, stdout: out, stderr: err });
    });
  });
  if (code !== 0 && code !== 1) throw new ActionlintError(`actionlint exited with ${code ?? 'a signal'}: ${stderr.trim() || stdout.trim()}`);
  let findings: unknown;
  try {
    findings = JSON.parse(stdout.trim() === '' ? '[]' : stdout);
  } catch {
    throw new ActionlintError(`actionlint printed no JSON report (exit ${code}): ${stdout.slice(0, 500)}${stderr.slice(0, 500)}`);
  }
  if (!Array.isArray(findings)) throw new ActionlintError(`actionlint's report is not a list: ${stdout.slice(0, 500)}`);
  if (code === 1 && findings.length === 0) throw new ActionlintError(`actionlint exited with 1 but reported nothing: ${stderr.trim()}`);
  return findings.map((finding: ActionlintFinding) => ({
    message: finding.message,
    filepath: finding.filepath,
    line: finding.line,
    column: finding.column,
    kind: finding.kind,
  }));
}

/** One line per finding, `file:line:column: message [kind]`, as actionlint prints them. */
export function formatFindings(findings: readonly ActionlintFinding[]): string {
  return findings.map((f) => `${f.filepath}:${f.line}:${f.column}: ${f.message} [${f.kind}]`).join('\n');
}
