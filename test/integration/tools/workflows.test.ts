/**
 * The GitHub Actions workflows (.github/workflows): actionlint (with shellcheck on every `run:` script) finds nothing
 * in them, and the properties that keep them safe and in step with the project are asserted one by one.
 *
 * Where the pinned SHAs come from (no network here; read from workflows in the search index, each SHA found with
 * the same version comment in several repositories):
 * - actions/checkout 3d3c42e5… v7.0.1, actions/setup-go b7ad1dad… v7.0.0, hashicorp/setup-terraform dfe3c3f8…
 *   v4.0.1: hashicorp/terraform-provider-aws `.github/workflows/examples.yml`;
 * - actions/upload-artifact 043fb46d… v7.0.1: aws-powertools/powertools-lambda-typescript
 *   `.github/workflows/reusable_deploy_layer_stack.yml` (which pins configure-aws-credentials v6.1.3, 99214aa6…);
 * - actions/setup-node 82076278… v7.0.0, actions/setup-python 5fda3b95… v7.0.0, aws-actions/configure-aws-credentials
 *   e1253824… v6.3.0: the newest releases found, each pinned with that comment in several other repositories.
 */
import test from 'ava';
import { mkdtempSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { parse } from 'yaml';
import { spawn, spawnSync } from 'node:child_process';
import { parseRolloutArgs } from '../../../commands/rollout/args.js';
import { DEFAULT_CONFIG, validateAppConfig } from '../../../infra/config.js';
import { DEPLOY_SESSION_SECONDS } from '../../../infra/stacks/bootstrap-stack.js';
import { RIC_BUILD_PACKAGES } from '../../../tools/testbed/paths.js';
import { ROOT } from '../../helpers/function.js';
import { formatFindings, runActionlint } from '../../helpers/actionlint.js';

const WORKFLOWS = ['ci.yml', 'deploy.yml', 'promote.yml'] as const;
type WorkflowFile = (typeof WORKFLOWS)[number];

interface Step {
  readonly name?: string;
  readonly uses?: string;
  readonly if?: string;
  readonly run?: string;
  readonly with?: Record<string, unknown>;
  readonly env?: Record<string, unknown>;
}

interface Job {
  readonly name?: string;
  readonly permissions?: Record<string, string> | string;
  readonly environment?: unknown;
  readonly concurrency?: unknown;
  readonly 'timeout-minutes'?: unknown;
  readonly steps: readonly Step[];
}

interface Workflow {
  readonly on: Record<string, unknown>;
  readonly permissions?: unknown;
  readonly concurrency?: { readonly group?: string; readonly 'cancel-in-progress'?: unknown };
  readonly jobs: Record<string, Job>;
}

const workflowPath = (file: WorkflowFile) => path.join(ROOT, '.github', 'workflows', file);
const text = (file: WorkflowFile) => readFileSync(workflowPath(file), 'utf8');
const workflow = (file: WorkflowFile) => parse(text(file)) as Workflow;
const jobs = (file: WorkflowFile) => Object.entries(workflow(file).jobs);
const steps = (file: WorkflowFile) => jobs(file).flatMap(([, job]) => job.steps);

const AWS_CREDENTIALS = 'aws-actions/configure-aws-credentials@';
const assumesAwsRole = (job: Job) => job.steps.some((step) => step.uses?.startsWith(AWS_CREDENTIALS) === true);
/** Index of the first step whose `run:` matches, -1 when none does. */
const runIndex = (list: readonly Step[], pattern: RegExp) => list.findIndex((step) => step.run !== undefined && pattern.test(step.run));

test('actionlint finds nothing in the workflows', async (t) => {
  const findings = await runActionlint(WORKFLOWS.map((file) => path.join('.github', 'workflows', file)), ROOT);
  t.deepEqual(findings, [], `actionlint:\n${formatFindings(findings)}`);
});

test('actionlint reports a broken workflow, shellcheck findings included', async (t) => {
  const dir = mkdtempSync(path.join(tmpdir(), 'actionlint-'));
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  mkdirSync(path.join(dir, '.github', 'workflows'), { recursive: true });
  const broken = [
    'on: push',
    'jobs:',
    '  build:',
    '    runs-on: ubuntu-24.04',
    '    needs: [missing]',
    '    steps:',
    '      - run: echo ${{ github.event.head_commit.message }}',
    '      - run: echo $UNQUOTED',
    '',
  ].join('\n');
  writeFileSync(path.join(dir, '.github', 'workflows', 'broken.yml'), broken);
  const findings = await runActionlint([path.join('.github', 'workflows', 'broken.yml')], dir);
  const report = formatFindings(findings);
  t.true(findings.some((f) => f.kind === 'job-needs' && f.message.includes('missing')), report);
  t.true(findings.some((f) => f.kind === 'expression' && f.message.includes('potentially untrusted')), report);
  t.true(findings.some((f) => f.kind === 'shellcheck' && f.message.includes('SC2086')), report);
});

test('every action is pinned to a full commit SHA with its version in a comment', (t) => {
  const pins = new Map<string, string>();
  for (const file of WORKFLOWS) {
    const lines = text(file).split('\n').entries();
    const parsed = steps(file).filter((step) => step.uses !== undefined);
    let count = 0;
    for (const [index, line] of lines) {
      if (!/^\s*(-\s+)?uses:/.test(line)) continue;
      count += 1;
      const match = /^\s*(?:-\s+)?uses:\s+([\w.-]+\/[\w./-]+)@([0-9a-f]{40}) # (v\d+\.\d+\.\d+)$/.exec(line);
      if (match === null) {
        t.fail(`${file}:${index + 1}: \`${line.trim()}\` is not \`owner/repo@<40-hex SHA> # vX.Y.Z\``);
        continue;
      }
      const [, action, sha, version] = match;
      const pin = `${sha} # ${version}`;
      t.is(pins.get(action!) ?? pin, pin, `${file}:${index + 1}: ${action} is pinned differently in another workflow`);
      pins.set(action!, pin);
    }
    t.true(parsed.length > 0 && count === parsed.length, `${file}: ${count} uses: lines for ${parsed.length} steps that use an action`);
    for (const step of parsed) t.regex(step.uses ?? '', /@[0-9a-f]{40}$/, `${file}: ${step.uses}`);
  }
});

test('workflows grant contents: read and only the jobs that assume the AWS role get an OIDC token', (t) => {
  let awsJobs = 0;
  for (const file of WORKFLOWS) {
    t.deepEqual(workflow(file).permissions, { contents: 'read' }, `${file}: workflow-level permissions`);
    for (const [id, job] of jobs(file)) {
      const idToken = typeof job.permissions === 'object' && job.permissions['id-token'] === 'write';
      t.is(idToken, assumesAwsRole(job), `${file}: job ${id} has id-token: write ${idToken ? 'but assumes no AWS role' : 'missing'}`);
      if (typeof job.permissions === 'object') {
        t.deepEqual(Object.keys(job.permissions).sort(), idToken ? ['contents', 'id-token'] : ['contents'], `${file}: job ${id} permissions`);
      }
      if (idToken) awsJobs += 1;
    }
  }
  t.is(awsJobs, 2, 'deploy and promote each have one job that assumes the deploy role');
  t.false(jobs('ci.yml').some(([, job]) => assumesAwsRole(job)), 'ci.yml never touches AWS');
});

test('deploy and promote run one at a time per environment and never cancel a run in progress', (t) => {
  const deploy = workflow('deploy.yml').concurrency;
  const promote = workflow('promote.yml').concurrency;
  t.is(deploy?.group, "deploy-${{ inputs.environment || 'dev' }}", 'a push (no inputs) deploys dev, in the dev group');
  t.is(promote?.group, 'deploy-${{ inputs.environment }}', 'promote shares the deploy group of its environment');
  t.is(deploy?.['cancel-in-progress'], false);
  t.is(promote?.['cancel-in-progress'], false);
});

test('deploy and promote jobs run in the GitHub environment they deploy to', (t) => {
  const expected: Record<string, string> = { 'deploy.yml': "${{ inputs.environment || 'dev' }}", 'promote.yml': '${{ inputs.environment }}' };
  for (const file of ['deploy.yml', 'promote.yml'] as const) {
    for (const [id, job] of jobs(file)) {
      if (assumesAwsRole(job)) t.is(job.environment, expected[file], `${file}: job ${id}`);
    }
    const options = (workflow(file).on['workflow_dispatch'] as { inputs: { environment: { options: string[] } } }).inputs.environment.options;
    t.deepEqual(options, ['dev', 'prod'], `${file}: environment choices`);
  }
});

test('deploy applies the synthesized HCL with cdktf deploy and then rolls out each model\'s published version', (t) => {
  const list = steps('deploy.yml');
  const order = [/^npm ci\b/, /^npm run build$/, /^npm run synth$/].map((pattern) => runIndex(list, pattern));
  const deploy = runIndex(list, /\bcdktf deploy\b/);
  const rollout = runIndex(list, /\bnpm run rollout\b/);
  t.true(order.every((index, i) => index >= 0 && (i === 0 || index > order[i - 1]!)), `npm ci, build, synth in order: ${order.join(', ')}`);
  t.true(deploy > order[2]!, 'cdktf deploy after synth');
  const deployRun = list[deploy]?.run ?? '';
  for (const flag of ['--skip-synth', '--auto-approve', '--outputs-file']) t.true(deployRun.includes(flag), `cdktf deploy ${flag}`);
  t.true(rollout > deploy, 'npm run rollout after cdktf deploy');
  const rolloutRun = list[rollout]?.run ?? '';
  for (const flag of ['--environment "$DEPLOY_ENV"', '--model "$name"', '--function', '--alias', '--to "$(field "$name" function_version)"', '--alarm-prefix', '--steps 10,50,100', '--interval 300', '--max-wait 900', '--min-requests 100', '--canary-requests "$CANARY_REQUESTS"', '--json']) {
    t.true(rolloutRun.includes(flag), `npm run rollout ${flag}`);
  }
  t.false(rolloutRun.includes('--build'), 'the build folder of each model comes from --environment and --model');
  t.is(list[rollout]?.env?.['MODELS'], '${{ steps.stack.outputs.models }}');
  t.is(list[rollout]?.env?.['CANARY_REQUESTS'], "${{ (inputs.environment || 'dev') == 'dev' && '1000' || '0' }}", 'dev, which has no users, gets canary traffic; prod gets none');
  const credentials = list.findIndex((step) => step.uses?.startsWith(AWS_CREDENTIALS));
  t.true(credentials >= 0 && credentials < deploy, 'AWS credentials before cdktf deploy');
});

test('deploy builds and pushes each container-image build before the apply, and only image builds', (t) => {
  const list = steps('deploy.yml');
  const target = runIndex(list, /\binfra\/image-target\.ts "\$DEPLOY_ENV" --json\b/);
  const budget = list.findIndex((step) => step.name === 'Check the time budget');
  const push = runIndex(list, /\bdocker buildx build\b/);
  const deploy = runIndex(list, /\bcdktf deploy\b/);
  const credentials = list.findIndex((step) => step.uses?.startsWith(AWS_CREDENTIALS));
  t.true(target >= 0 && target < budget && budget < credentials && credentials < push && push < deploy, `image targets, budget, credentials, push, deploy in order: ${[target, budget, credentials, push, deploy].join(', ')}`);
  t.is(list[push]?.if, "steps.models.outputs.images != '0'", 'zip and S3 builds push nothing');
  const run = list[push]?.run ?? '';
  for (const part of ['select(.packaging == "image")', 'for image in "${images[@]}"', '--provenance=false', '--push', 'imagetools inspect', 'GITHUB_STEP_SUMMARY']) t.true(run.includes(part), `the push step: ${part}`);
});

test('promote rolls out, resumes or rolls back the requested version with the requested steps, interval and minimum requests', (t) => {
  const list = steps('promote.yml');
  const rollout = list[runIndex(list, /\bnpm run rollout\b/)];
  t.truthy(rollout);
  t.deepEqual(rollout?.env, {
    ACTION: '${{ inputs.action }}',
    MODEL: '${{ steps.stack.outputs.model }}',
    FUNCTION_NAME: '${{ steps.stack.outputs.function_name }}',
    ALIAS_NAME: '${{ steps.stack.outputs.alias_name }}',
    ALARM_PREFIX: '${{ steps.stack.outputs.alarm_prefix }}',
    TO_VERSION: '${{ inputs.version }}',
    STEPS: '${{ inputs.steps }}',
    INTERVAL: '${{ inputs.interval }}',
    MIN_REQUESTS: '${{ inputs.min-requests }}',
    MAX_WAIT: '${{ steps.budget.outputs.max_wait }}',
  });
  const inputs = (workflow('promote.yml').on['workflow_dispatch'] as { inputs: Record<string, { default?: unknown; required?: boolean }> }).inputs;
  t.is(inputs['version']?.required, false, 'a rollback needs no version; the script requires one to promote');
  t.deepEqual((inputs['action'] as { options?: unknown } | undefined)?.options, ['promote', 'resume', 'rollback']);
  for (const flag of ['--environment "$DEPLOY_ENV"', '--model "$MODEL"', '--to "$TO_VERSION"', '--resume', '--rollback', '--max-wait "$MAX_WAIT"']) t.true(rollout?.run?.includes(flag), flag);
  t.false(rollout?.run?.includes('--build'), 'the model\'s build folder comes from --environment and --model');
  t.is(inputs['model']?.required, false, 'an environment that serves one model needs no model input');
  t.is(inputs['steps']?.default, '10,50,100');
  t.is(inputs['interval']?.default, 300);
  t.is(inputs['min-requests']?.default, 100);
  t.true(runIndex(list, /terraform -chdir="\$stack_dir" output -json/) >= 0, 'names come from the stack\'s Terraform outputs');
});

test('no run script interpolates an expression; values reach the shell through env', (t) => {
  for (const file of WORKFLOWS) {
    for (const step of steps(file)) {
      if (step.run !== undefined) t.false(step.run.includes('${{'), `${file}: step "${step.name ?? step.run}" interpolates into its script`);
    }
  }
});

test('every npm script the workflows run exists in package.json', (t) => {
  const scripts = (JSON.parse(readFileSync(path.join(ROOT, 'package.json'), 'utf8')) as { scripts: Record<string, string> }).scripts;
  const used = new Set<string>();
  for (const file of WORKFLOWS) {
    for (const step of steps(file)) {
      for (const match of (step.run ?? '').matchAll(/\bnpm run\s+([\w:.-]+)/g)) used.add(match[1]!);
      if (/\bnpm test\b/.test(step.run ?? '')) used.add('test');
    }
  }
  t.deepEqual([...used].sort(), ['build', 'lint', 'rollout', 'synth', 'test', 'typecheck']);
  for (const script of used) t.true(script in scripts, `npm run ${script} is not in package.json's scripts`);
});

test('ci type-checks, lints, tests, builds and synthesizes, then uploads dist and cdktf.out', (t) => {
  t.deepEqual(Object.keys(workflow('ci.yml').on).sort(), ['pull_request', 'push']);
  const list = steps('ci.yml');
  const order = [/^npm ci\b/, /^npm run typecheck$/, /^npm run lint$/, /^npm test$/, /^npm run build$/, /^npm run synth$/].map((pattern) => runIndex(list, pattern));
  t.true(order.every((index, i) => index >= 0 && (i === 0 || index > order[i - 1]!)), `npm ci, typecheck, test, build, synth in order: ${order.join(', ')}`);
  const uploads = list.filter((step) => step.uses?.startsWith('actions/upload-artifact@')).map((step) => step.with?.['path']);
  t.deepEqual(uploads, ['dist/', 'cdktf.out/']);
});

test('ci sets up what the test bed needs before npm test', (t) => {
  const list = steps('ci.yml');
  const test = runIndex(list, /^npm test$/);
  const setup = (action: string) => list.findIndex((step) => step.uses?.startsWith(`actions/${action}@`));
  for (const action of ['setup-node', 'setup-python', 'setup-go']) t.true(setup(action) >= 0 && setup(action) < test, `${action} before npm test`);
  t.is(list[setup('setup-node')]?.with?.['node-version'], '20');
  t.is(list[setup('setup-node')]?.with?.['cache'], 'npm');
  t.is(list[setup('setup-python')]?.with?.['python-version'], '3.11');
  const go = String(list[setup('setup-go')]?.with?.['go-version']).split('.').map(Number);
  t.true(go[0] === 1 && go[1] === 26 && (go[2] ?? 0) >= 6, `Go ${go.join('.')}: the emulator's pseudo-version needs 1.26.6+`);
  const apt = runIndex(list, /sudo apt-get install/);
  t.true(apt >= 0 && apt < test, 'Debian packages installed with sudo before npm test');
  const installed = /sudo apt-get install (.*)$/m.exec(list[apt]?.run ?? '')?.[1]?.split(/\s+/) ?? [];
  for (const name of RIC_BUILD_PACKAGES) t.true(installed.includes(name), `${name} is installed before the test bed needs it`);
});

test('every job has a timeout within GitHub\'s six-hour limit', (t) => {
  for (const file of WORKFLOWS) {
    for (const [id, job] of jobs(file)) {
      const minutes = job['timeout-minutes'];
      t.true(typeof minutes === 'number' && minutes > 0 && minutes <= 360, `${file}: job ${id} timeout-minutes ${String(minutes)}`);
    }
  }
});

test('every AWS session lasts as long as its job, within the deploy role\'s longest session', (t) => {
  let sessions = 0;
  for (const file of ['deploy.yml', 'promote.yml'] as const) {
    for (const [id, job] of jobs(file)) {
      for (const step of job.steps.filter((s) => s.uses?.startsWith(AWS_CREDENTIALS) === true)) {
        const seconds = step.with?.['role-duration-seconds'];
        t.is(seconds, (job['timeout-minutes'] as number) * 60, `${file}: job ${id}, step "${step.name}": a session as long as the job cannot expire before it`);
        t.true(typeof seconds === 'number' && seconds <= DEPLOY_SESSION_SECONDS, `${file}: ${String(seconds)} s is more than the deploy role allows (${DEPLOY_SESSION_SECONDS} s)`);
        sessions += 1;
      }
    }
  }
  t.is(sessions, 3, 'deploy assumes the role for the apply and again for the rollout; promote once');
});

/** Minutes the workflows' comments allow for what is not a step's observation. */
const SETUP_MINUTES = 10;
const AROUND_STEPS_MINUTES = 30;
const APPLY_MINUTES = 40;

/** Minutes the rollout's pre- and post-traffic checks and a restore of what it changed may take, beside its timeouts. */
const CHECKS_MINUTES = 5;

test('the rollout\'s own waits around the steps fit the workflows\' allowance for them', (t) => {
  // Neither workflow passes --pc-timeout or --settle-timeout: the rollout's defaults apply.
  const options = parseRolloutArgs(['--function', 'f', '--to', '2']);
  const aroundSeconds = options.pcTimeoutS + options.settleTimeoutS + CHECKS_MINUTES * 60;
  t.true(aroundSeconds <= AROUND_STEPS_MINUTES * 60, `${aroundSeconds} s around the steps; the workflows allow ${AROUND_STEPS_MINUTES} min`);
});

/** The deploy job's rollout command as the rollout parses it, with the script's variables filled in. */
function deployRolloutArgv(): string[] {
  const [, job] = jobs('deploy.yml')[0]!;
  const run = job.steps[runIndex(job.steps, /\bnpm run rollout\b/)]?.run ?? '';
  const command = /npm run rollout --([\s\S]*?--json)/.exec(run.replace(/\\\n/g, ' '))?.[1] ?? '';
  const values: Record<string, string> = { DEPLOY_ENV: 'dev', name: 'iris', function_version: '7', CANARY_REQUESTS: '1000', function_name: 'onnx-lambda-dev-iris-predict', alias_name: 'live', alarm_prefix: 'onnx-lambda-dev-iris-' };
  return command
    .replace(/"\$\(field "\$name" ([a-z_]+)\)"/g, (_, key: string) => values[key] ?? key)
    .replace(/"\$([A-Za-z_]+)"/g, (_, key: string) => values[key] ?? key)
    .trim()
    .split(/\s+/);
}

/** The "Check the time budget" step's numbers in deploy.yml. */
function deployBudgetNumbers(): { job: number; before: number; rollout: number } {
  const env = steps('deploy.yml').find((step) => step.name === 'Check the time budget')?.env ?? {};
  return { job: Number(env['JOB_MINUTES']), before: Number(env['BEFORE_ROLLOUTS_MINUTES']), rollout: Number(env['ROLLOUT_MINUTES']) };
}

test('deploy\'s budget for the rollouts covers one rollout\'s observed steps and everything around them, and the job fits them', (t) => {
  const [, job] = jobs('deploy.yml')[0]!;
  const [dev, prod] = DEFAULT_CONFIG.environments;
  const config = validateAppConfig({ ...DEFAULT_CONFIG, environments: [{ ...dev!, models: [{ name: 'iris' }] }, prod!] });
  const options = parseRolloutArgs(deployRolloutArgv(), () => config);
  const observedMinutes = (options.steps.filter((percent) => percent < 100).length * options.maxWaitS) / 60;
  t.is(observedMinutes, 30, 'two observed steps of 900 s, as the comment says');
  const budget = deployBudgetNumbers();
  t.is(budget.job, job['timeout-minutes'] as number, 'the check uses the job\'s own timeout');
  t.true(budget.rollout >= observedMinutes + AROUND_STEPS_MINUTES, `${budget.rollout} min for the rollouts, ${observedMinutes} min of observation and ${AROUND_STEPS_MINUTES} around it`);
  t.true(budget.before >= SETUP_MINUTES + APPLY_MINUTES, `${budget.before} min before the rollouts`);
  t.true(budget.before + budget.rollout <= budget.job, 'the rollouts, which run at the same time, fit');
});

/** Runs a step's script with bash as the runner does (`-eo pipefail`), with `env` and fake commands in `bin`. */
function runStep(file: WorkflowFile, name: string, env: Record<string, string>, bin: Record<string, string> = {}): { code: number | null; stdout: string; output: string; summary: string; dir: string } {
  const step = steps(file).find((s) => s.name === name);
  const dir = mkdtempSync(path.join(tmpdir(), 'workflow-step-'));
  try {
    mkdirSync(path.join(dir, 'bin'));
    for (const [command, script] of Object.entries(bin)) writeFileSync(path.join(dir, 'bin', command), `#!/bin/bash\n${script}\n`, { mode: 0o755 });
    const output = path.join(dir, 'output');
    const summary = path.join(dir, 'summary');
    writeFileSync(output, '');
    writeFileSync(summary, '');
    const stepEnv = Object.fromEntries(Object.entries(step?.env ?? {}).filter(([, value]) => !String(value).includes('${{')).map(([key, value]) => [key, String(value)]));
    const run = spawnSync('bash', ['--noprofile', '--norc', '-eo', 'pipefail', '-c', step?.run ?? 'exit 99'], {
      env: { PATH: `${path.join(dir, 'bin')}:${process.env['PATH'] ?? ''}`, RUNNER_TEMP: dir, GITHUB_OUTPUT: output, GITHUB_STEP_SUMMARY: summary, ...stepEnv, ...env },
      encoding: 'utf8',
    });
    return { code: run.status, stdout: run.stdout, output: readFileSync(output, 'utf8'), summary: readFileSync(summary, 'utf8'), dir };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

const DEPLOY_BUDGETS: readonly { models: string; env?: Record<string, string>; passes: boolean; message?: RegExp }[] = [
  { models: '1', passes: true },
  { models: '2', passes: true },
  { models: '12', passes: true, message: /12 model\(s\), rolled out at the same time: up to 110 of 180 min/ },
  { models: '2', env: { ROLLOUT_MINUTES: '140' }, passes: false, message: /50 \+ 140 = 190 min; this job allows 180 min .* Give this job's rollouts shorter steps \(--max-wait\) and ROLLOUT_MINUTES to match/ },
  { models: '0', passes: false, message: /lists no model to roll out/ },
];

for (const { models, env, passes, message } of DEPLOY_BUDGETS) {
  test(`deploy's time budget check ${passes ? 'passes' : 'refuses'} ${models} model(s)${env === undefined ? '' : ` with ${JSON.stringify(env)}`}`, (t) => {
    const result = runStep('deploy.yml', 'Check the time budget', { MODELS: models, ...env });
    t.is(result.code === 0, passes, result.stdout);
    if (message !== undefined) t.regex(result.stdout, message);
  });
}

/** A stand-in for npm that logs its arguments and exits with the code given for the model it was asked to roll out. */
const FAKE_NPM = 'echo "$*" >> "$RUNNER_TEMP/npm.log"; model=$(sed -E \'s/.*--model ([^ ]+).*/\\1/\' <<< "$*"); code_var="EXIT_$model"; exit "${!code_var:-0}"';

function rollOut(models: Record<string, Record<string, string>>, exits: Record<string, number>): { code: number | null; stdout: string; summary: string; calls: string[] } {
  const dir = mkdtempSync(path.join(tmpdir(), 'deploy-models-'));
  try {
    const file = path.join(dir, 'models.json');
    writeFileSync(file, JSON.stringify(models));
    const log = path.join(dir, 'npm.log');
    const result = runStep('deploy.yml', 'Roll out the published versions', {
      MODELS: file,
      DEPLOY_ENV: 'dev',
      CANARY_REQUESTS: '1000',
      ...Object.fromEntries(Object.entries(exits).map(([model, code]) => [`EXIT_${model}`, String(code)])),
    }, { npm: FAKE_NPM.replace('$RUNNER_TEMP/npm.log', log) });
    let calls: string[] = [];
    try {
      calls = readFileSync(log, 'utf8').trim().split('\n');
    } catch {
      calls = [];
    }
    return { ...result, calls };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

const MODELS_OUTPUT = {
  fraud: { function_name: 'onnx-lambda-dev-fraud-predict', function_version: '4', alias_name: 'live', alarm_prefix: 'onnx-lambda-dev-fraud-', endpoint_url: 'https://f' },
  iris: { function_name: 'onnx-lambda-dev-iris-predict', function_version: '9', alias_name: 'live', alarm_prefix: 'onnx-lambda-dev-iris-', endpoint_url: 'https://i' },
};

test('deploy rolls out every model of the models output at the same time, each with its own names and version', (t) => {
  const run = rollOut(MODELS_OUTPUT, {});
  t.is(run.code, 0, run.stdout);
  t.deepEqual([...run.calls].sort(), [
    'run rollout -- --environment dev --model fraud --function onnx-lambda-dev-fraud-predict --alias live --to 4 --alarm-prefix onnx-lambda-dev-fraud- --steps 10,50,100 --interval 300 --max-wait 900 --min-requests 100 --canary-requests 1000 --json',
    'run rollout -- --environment dev --model iris --function onnx-lambda-dev-iris-predict --alias live --to 9 --alarm-prefix onnx-lambda-dev-iris- --steps 10,50,100 --interval 300 --max-wait 900 --min-requests 100 --canary-requests 1000 --json',
  ]);
  t.is(run.summary, '### Rollouts\n- fraud: version 4, promoted\n- iris: version 9, promoted\n');
  t.regex(run.stdout, /::group::fraud: version 4\n[^]*::endgroup::\n::group::iris: version 9/);
});

test('a model rolled back does not stop the next model\'s rollout, and fails the job at the end', (t) => {
  const run = rollOut(MODELS_OUTPUT, { fraud: 2 });
  t.is(run.code, 1);
  t.is(run.calls.length, 2, 'iris is rolled out though fraud rolled back');
  t.regex(run.stdout, /::error::fraud: version 4 rolled back/);
  t.regex(run.stdout, /::error::not promoted: fraud$/m);
  t.true(run.summary.includes('- fraud: version 4, rolled back\n- iris: version 9, promoted'), run.summary);
});

test('a cancelled deploy passes SIGTERM to every rollout running, and each rolls back', async (t) => {
  const dir = mkdtempSync(path.join(tmpdir(), 'deploy-cancel-'));
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  mkdirSync(path.join(dir, 'bin'));
  // A rollout that rolls back on SIGTERM, as commands/rollout/cli.ts does.
  writeFileSync(path.join(dir, 'bin', 'npm'), '#!/bin/bash\nmodel=$(sed -E \'s/.*--model ([^ ]+).*/\\1/\' <<< "$*")\ntrap \'echo "rolled back $model"; exit 2\' TERM\necho "started $model"\nsleep 30 & wait $!\n', { mode: 0o755 });
  writeFileSync(path.join(dir, 'models.json'), JSON.stringify(MODELS_OUTPUT));
  writeFileSync(path.join(dir, 'summary'), '');
  const script = steps('deploy.yml').find((s) => s.name === 'Roll out the published versions')?.run ?? 'exit 99';
  const child = spawn('bash', ['--noprofile', '--norc', '-eo', 'pipefail', '-c', script], {
    env: { PATH: `${path.join(dir, 'bin')}:${process.env['PATH'] ?? ''}`, RUNNER_TEMP: dir, GITHUB_STEP_SUMMARY: path.join(dir, 'summary'), MODELS: path.join(dir, 'models.json'), DEPLOY_ENV: 'dev', CANARY_REQUESTS: '0' },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stdout = '';
  child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
  const started = () => ['fraud', 'iris'].every((model) => { try { return readFileSync(path.join(dir, `rollout-${model}.log`), 'utf8').includes('started'); } catch { return false; } });
  for (let i = 0; i < 200 && !started(); i++) await new Promise((resolve) => setTimeout(resolve, 25));
  child.kill('SIGTERM');
  const code = await new Promise<number | null>((resolve) => child.once('close', resolve));
  t.is(code, 1, stdout);
  t.regex(stdout, /rolled back fraud[^]*rolled back iris/);
  t.is(readFileSync(path.join(dir, 'summary'), 'utf8'), '### Rollouts\n- fraud: version 4, rolled back\n- iris: version 9, rolled back\n');
});

/** A stand-in for terraform whose `output -json` prints `outputs`. */
function promoteOutputs(outputs: unknown, model: string): ReturnType<typeof runStep> {
  return runStep('promote.yml', 'Read the stack outputs', { DEPLOY_ENV: 'dev', MODEL: model }, { terraform: `if [ "$2" = output ]; then echo '${JSON.stringify(outputs)}'; fi` });
}

test('promote reads the named model\'s function, alias and alarm prefix from the models output', (t) => {
  const run = promoteOutputs({ models: { value: MODELS_OUTPUT } }, 'iris');
  t.is(run.code, 0, run.stdout);
  t.is(run.output, 'model=iris\nfunction_name=onnx-lambda-dev-iris-predict\nalias_name=live\nalarm_prefix=onnx-lambda-dev-iris-\n');
});

test('promote takes the only model when none is named', (t) => {
  const run = promoteOutputs({ models: { value: { iris: MODELS_OUTPUT.iris } } }, '');
  t.is(run.code, 0, run.stdout);
  t.regex(run.output, /^model=iris\nfunction_name=onnx-lambda-dev-iris-predict\n/);
});

const PROMOTE_REFUSALS: readonly { what: string; outputs: unknown; model: string; message: RegExp }[] = [
  { what: 'no model where the environment serves several, listing them', outputs: { models: { value: MODELS_OUTPUT } }, model: '', message: /::error::dev serves several models \(fraud, iris\); give the model input/ },
  { what: 'a model the environment does not serve, listing the ones it does', outputs: { models: { value: MODELS_OUTPUT } }, model: 'irs', message: /::error::model is irs; dev serves fraud, iris/ },
  { what: 'a state with no models output', outputs: { function_name: { value: 'f' } }, model: '', message: /::error::the dev state has no models output; deploy the environment first/ },
];

for (const { what, outputs, model, message } of PROMOTE_REFUSALS) {
  test(`promote refuses ${what}`, (t) => {
    const run = promoteOutputs(outputs, model);
    t.is(run.code, 1);
    t.regex(run.stdout, message);
  });
}

/** The promote job's budget check, run by bash as the runner runs it. */
function budget(stepsInput: string, interval: string): { code: number | null; output: string; stdout: string } {
  const script = steps('promote.yml').find((step) => step.name === 'Check the time budget')?.run ?? '';
  const dir = mkdtempSync(path.join(tmpdir(), 'budget-'));
  try {
    const output = path.join(dir, 'output');
    writeFileSync(output, '');
    const run = spawnSync('bash', ['--noprofile', '--norc', '-eo', 'pipefail', '-c', script], {
      env: { PATH: process.env['PATH'] ?? '', STEPS: stepsInput, INTERVAL: interval, GITHUB_OUTPUT: output },
      encoding: 'utf8',
    });
    return { code: run.status, output: readFileSync(output, 'utf8'), stdout: run.stdout };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

/** Observation seconds the promote job allows: its timeout less setup and what happens around the steps. */
const promoteLimit = () => (((jobs('promote.yml')[0]![1]['timeout-minutes'] as number) - SETUP_MINUTES - AROUND_STEPS_MINUTES) * 60);

const BUDGETS: readonly { title: string; stepsInput: string; interval: () => string; passes: boolean; message?: RegExp }[] = [
  { title: 'passes the default steps and interval, with a maximum wait of three intervals', stepsInput: '10,50,100', interval: () => '300', passes: true },
  { title: 'passes two observed steps that use the whole budget', stepsInput: '10,50,100', interval: () => String(promoteLimit() / 6), passes: true },
  { title: 'refuses two observed steps one second per interval over the budget', stepsInput: '10,50,100', interval: () => String(promoteLimit() / 6 + 1), passes: false, message: /can observe 2 steps for up to \d+ s each/ },
  { title: 'refuses six observed steps of 700 s', stepsInput: '1,2,5,10,25,50,100', interval: () => '700', passes: false, message: /can observe 6 steps for up to 2100 s each \(12600 s\)/ },
  { title: 'passes a promotion straight to 100 whatever the interval', stepsInput: '100', interval: () => '86400', passes: true },
  { title: 'refuses an interval that is not whole seconds', stepsInput: '10,50,100', interval: () => '12.5', passes: false, message: /interval is 12\.5; give a whole number of seconds/ },
];

for (const { title, stepsInput, interval, passes, message } of BUDGETS) {
  test(`promote's time budget check ${title}`, (t) => {
    const result = budget(stepsInput, interval());
    t.is(result.code === 0, passes, result.stdout);
    if (passes) t.is(result.output, `max_wait=${Number(interval()) * 3}\n`);
    else t.regex(result.stdout, message!);
  });
}
