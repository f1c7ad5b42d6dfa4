/**
 * Runs checkov (installed by tools/testbed/install.ts into .testbed/checkov-venv) over synthesized Terraform and returns its
 * findings as data.
 *
 * Offline: `--skip-download` and `BC_SKIP_MAPPING=TRUE` keep it off the Prisma Cloud platform (policy metadata,
 * guidelines), `CKV_SKIP_PACKAGE_UPDATE_CHECK=True` stops the PyPI version check it makes on import; the caller's
 * `BC_*`, `CKV_*`, `CHECKOV_*` and `PRISMA_*` variables are dropped so a developer's settings can't change a scan.
 * Exit 0 means no failed check, 1 means some failed (data, not an error); anything else is an error.
 *
 * Skips written in code. Terraform JSON (what cdktf writes unless told to write HCL) has no comments, and checkov's
 * `terraform_json` runner honours no inline suppression at all (3.3.30: it drops every "//" key while parsing and
 * passes no skips to its checks; upstream issue bridgecrewio/checkov#4634 asked for one and was closed unfixed).
 * `#checkov:skip=` comments work only in HCL (framework `terraform`), and cdktf writes none there: its HCL output
 * leaves the "//" keys out. So this helper applies skips itself, from a resource's "//" comment key:
 *
 *   bucket.addOverride('//.checkov.skip.CKV_AWS_18', 'Access logs of the log bucket would log themselves');
 *
 * which synthesizes to `"//": { "checkov": { "skip": { "CKV_AWS_18": "<reason>" } }, "metadata": {...} }` beside the
 * resource's arguments (Terraform ignores "//"). One call per check, so constructs and stacks can add skips
 * independently. As with checkov's own comments, that check's result on that resource is reported as skipped with
 * the reason, whether it failed or passed. A skip without a reason, or one for a check that did not run on that
 * resource (a typo, or a check checkov dropped), makes runCheckov throw.
 * Global skips (`skipChecks`, checkov's `--skip-check`) remove the check from the scan: it is not reported at all.
 */
import { execFile } from 'node:child_process';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { CHECKOV_BIN } from '../../tools/testbed/paths.js';

export interface CheckovFailure {
  /** e.g. `CKV_AWS_21`. */
  readonly checkId: string;
  readonly checkName: string;
  /** Terraform address, e.g. `aws_s3_bucket.models`. */
  readonly resource: string;
  /** The scanned file, relative to the scanned directory, e.g. `stacks/service/cdk.tf.json`. */
  readonly file: string;
  /** Link to the check's documentation; checkov only knows it from the platform, so offline it is absent. */
  readonly guideline?: string;
}

export interface CheckovSkip {
  readonly checkId: string;
  readonly checkName: string;
  readonly resource: string;
  readonly file: string;
  /** Why it is skipped, as written in code. */
  readonly reason: string;
}

export interface CheckovResult {
  /** Checks that passed, skipped ones excluded. */
  readonly passed: number;
  readonly failed: CheckovFailure[];
  readonly skipped: CheckovSkip[];
  /** checkov's own JSON report. */
  readonly raw: unknown;
}

export interface CheckovOptions {
  /** Check ids left out of the scan entirely (checkov's `--skip-check`). @default none */
  readonly skipChecks?: readonly string[];
  /** `terraform_json` for cdktf's `cdk.tf.json`, `terraform` for HCL (`cdk.tf`). @default 'terraform_json' */
  readonly framework?: 'terraform_json' | 'terraform';
  /** @default 120000, far more than a scan of one stack needs */
  readonly timeoutMs?: number;
}

/** checkov could not scan, or the code's skips are malformed. */
export class CheckovError extends Error {
  override readonly name = 'CheckovError';
}

interface CheckovRecord {
  readonly check_id: string;
  readonly check_name: string;
  readonly resource: string;
  readonly file_abs_path: string;
  readonly guideline?: string | null;
  readonly check_result?: { readonly suppress_comment?: string };
}

interface CheckovReport {
  readonly check_type: string;
  readonly results: {
    readonly passed_checks?: CheckovRecord[];
    readonly failed_checks?: CheckovRecord[];
    readonly skipped_checks?: CheckovRecord[];
    readonly parsing_errors?: string[];
  };
}

const OWN_SETTINGS = /^(BC_|CKV_|CHECKOV_|PRISMA_)/;

function checkovEnv(): NodeJS.ProcessEnv {
  const env = Object.fromEntries(Object.entries(process.env).filter(([name]) => !OWN_SETTINGS.test(name)));
  return { ...env, BC_SKIP_MAPPING: 'TRUE', CKV_SKIP_PACKAGE_UPDATE_CHECK: 'True' };
}

function exec(args: string[], timeoutMs: number): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve, reject) => {
    execFile(CHECKOV_BIN, args, { env: checkovEnv(), timeout: timeoutMs, maxBuffer: 256 * 1024 * 1024, encoding: 'utf8' }, (error, stdout, stderr) => {
      if (error === null) return resolve({ code: 0, stdout, stderr });
      if (error.killed === true) return reject(new CheckovError(`checkov ${args.join(' ')} did not finish within ${timeoutMs} ms; raise timeoutMs if the stack is large`));
      if (typeof error.code === 'number') return resolve({ code: error.code, stdout, stderr });
      reject(new CheckovError(`could not run ${CHECKOV_BIN}: ${error.message}`));
    });
  });
}

type Json = Record<string, unknown>;
/** file (absolute) → resource address → check id → reason. */
type SkipsInCode = Map<string, Map<string, Map<string, string>>>;

function isObject(value: unknown): value is Json {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** The `*.tf.json` files checkov scans under a directory (it skips hidden folders and node_modules). */
function terraformJsonFiles(directory: string): string[] {
  return readdirSync(directory, { recursive: true, encoding: 'utf8' })
    .filter((file) => file.endsWith('.tf.json') && !file.split(path.sep).some((part) => part.startsWith('.') || part === 'node_modules'))
    .map((file) => path.join(directory, file));
}

function resourcesOf(file: string): Map<string, Json> {
  const resources = new Map<string, Json>();
  const config: unknown = JSON.parse(readFileSync(file, 'utf8'));
  const byType = isObject(config) && isObject(config['resource']) ? config['resource'] : {};
  for (const [type, byName] of Object.entries(byType)) {
    if (!isObject(byName)) continue;
    for (const [name, resource] of Object.entries(byName)) {
      if (name !== '//' && isObject(resource)) resources.set(`${type}.${name}`, resource);
    }
  }
  return resources;
}

function skipsInCode(files: readonly string[], resources: (file: string) => Map<string, Json>): SkipsInCode {
  const found: SkipsInCode = new Map();
  for (const file of files) {
    const byResource = new Map<string, Map<string, string>>();
    for (const [address, resource] of resources(file)) {
      const comment = resource['//'];
      const checkov = isObject(comment) ? comment['checkov'] : undefined;
      if (checkov === undefined) continue;
      const skip = isObject(checkov) ? checkov['skip'] : undefined;
      if (!isObject(skip)) {
        throw new CheckovError(`${address} in ${file}: "//".checkov must be { skip: { <check id>: <reason> } }, got ${JSON.stringify(checkov)}; write resource.addOverride('//.checkov.skip.CKV_AWS_18', '<why>')`);
      }
      const reasons = new Map<string, string>();
      for (const [checkId, reason] of Object.entries(skip)) {
        if (typeof reason !== 'string' || reason.trim() === '') {
          throw new CheckovError(`${address} in ${file} skips ${checkId} without a reason (got ${JSON.stringify(reason)}); say why: resource.addOverride('//.checkov.skip.${checkId}', '<why>')`);
        }
        reasons.set(checkId, reason);
      }
      byResource.set(address, reasons);
    }
    found.set(file, byResource);
  }
  return found;
}

/**
 * checkov 3.3.30's terraform_json runner names some resources `resource.<name>` (e.g. CKV_AWS_93 on buckets); put
 * the type back when exactly one resource of that file has that name.
 */
function addressOf(record: CheckovRecord, file: string, resources: (file: string) => Map<string, Json>): string {
  if (!record.resource.startsWith('resource.') || !file.endsWith('.tf.json')) return record.resource;
  const name = record.resource.slice('resource.'.length);
  const matches = [...resources(file).keys()].filter((address) => address.split('.')[1] === name);
  return matches.length === 1 ? matches[0]! : record.resource;
}

function reportsOf(parsed: unknown, stdout: string): CheckovReport[] {
  const reports = Array.isArray(parsed) ? parsed : [parsed];
  if (reports.every((report) => isObject(report) && isObject(report['results']))) return reports as CheckovReport[];
  throw new CheckovError(`checkov's JSON has no results: ${stdout.slice(0, 500)}`);
}

/**
 * Scans a directory of synthesized Terraform (e.g. cdktf's outdir, or `cdktf.out/stacks/<stack>`) with checkov.
 * Throws when checkov is not installed, crashes, times out, cannot parse a file or finds nothing to scan.
 */
export async function runCheckov(directory: string, options: CheckovOptions = {}): Promise<CheckovResult> {
  if (!existsSync(CHECKOV_BIN)) {
    throw new CheckovError(`checkov is not installed at ${CHECKOV_BIN}; run "npm test" (its pretest step installs it) or "npx tsx tools/testbed/install.ts"`);
  }
  const root = path.resolve(directory);
  const framework = options.framework ?? 'terraform_json';
  const skipChecks = options.skipChecks ?? [];
  const resourceCache = new Map<string, Map<string, Json>>();
  const resources = (file: string): Map<string, Json> => {
    let found = resourceCache.get(file);
    if (found === undefined) resourceCache.set(file, (found = resourcesOf(file)));
    return found;
  };
  const inCode: SkipsInCode = framework === 'terraform_json' ? skipsInCode(terraformJsonFiles(root), resources) : new Map();
  const args = ['--directory', root, '--framework', framework, '--output', 'json', '--skip-download'];
  if (skipChecks.length > 0) args.push('--skip-check', skipChecks.join(','));

  const { code, stdout, stderr } = await exec(args, options.timeoutMs ?? 120_000);
  if (code !== 0 && code !== 1) {
    throw new CheckovError(`checkov ${args.join(' ')} exited with ${code}:\n${stderr.trimEnd().split('\n').slice(-25).join('\n')}`);
  }
  let raw: unknown;
  try {
    raw = JSON.parse(stdout);
  } catch {
    throw new CheckovError(`checkov printed no JSON (exit ${code}): ${stdout.slice(0, 500)}${stderr.slice(-2000)}`);
  }
  // With nothing to scan checkov prints only a summary ({ passed: 0, failed: 0, ... }) and exits 0.
  if (isObject(raw) && !('results' in raw)) {
    const expected = framework === 'terraform_json' ? '*.tf.json' : '*.tf';
    throw new CheckovError(`checkov found no Terraform (${expected}) to scan under ${root}`);
  }
  const reports = reportsOf(raw, stdout);
  const parsingErrors = reports.flatMap((report) => report.results.parsing_errors ?? []);
  if (parsingErrors.length > 0) throw new CheckovError(`checkov could not parse ${parsingErrors.join(', ')}`);

  const used = new Set<string>();
  const located = (record: CheckovRecord) => {
    const absolute = path.resolve(root, record.file_abs_path);
    const resource = addressOf(record, absolute, resources);
    const reason = inCode.get(absolute)?.get(resource)?.get(record.check_id);
    if (reason !== undefined) used.add(`${absolute}\0${resource}\0${record.check_id}`);
    return { checkId: record.check_id, checkName: record.check_name, resource, file: path.relative(root, absolute), reason };
  };

  let passed = 0;
  const failed: CheckovFailure[] = [];
  const skipped: CheckovSkip[] = [];
  for (const report of reports) {
    for (const record of report.results.passed_checks ?? []) {
      const { reason, ...where } = located(record);
      if (reason === undefined) passed += 1;
      else skipped.push({ ...where, reason });
    }
    for (const record of report.results.failed_checks ?? []) {
      const { reason, ...where } = located(record);
      if (reason !== undefined) skipped.push({ ...where, reason });
      else failed.push(record.guideline == null ? where : { ...where, guideline: record.guideline });
    }
    for (const record of report.results.skipped_checks ?? []) {
      const { reason, ...where } = located(record);
      skipped.push({ ...where, reason: reason ?? record.check_result?.suppress_comment ?? '' });
    }
  }

  const unused = [...inCode].flatMap(([file, byResource]) =>
    [...byResource].flatMap(([resource, reasons]) =>
      [...reasons.keys()]
        .filter((checkId) => !skipChecks.includes(checkId) && !used.has(`${file}\0${resource}\0${checkId}`))
        .map((checkId) => `${resource} skips ${checkId} (${path.relative(root, file)})`),
    ),
  );
  if (unused.length > 0) {
    throw new CheckovError(`skips in code for checks that did not run on their resource (a wrong id, or a check this checkov no longer has): ${unused.join('; ')}`);
  }
  return { passed, failed, skipped, raw };
}
