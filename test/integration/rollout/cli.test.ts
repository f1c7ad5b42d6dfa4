/**
 * `npm run rollout` as a process, against moto server through AWS_ENDPOINT_URL: exit codes, messages, --json, and
 * what a crash or Ctrl-C leaves on the alias. The alias is read back from moto after every run.
 */
import { GetAliasCommand } from '@aws-sdk/client-lambda';
import test from 'ava';
import { spawn } from 'node:child_process';
import path from 'node:path';
import { ROOT } from '../../helpers/function.js';
import { startMoto, type Moto } from '../../helpers/moto.js';
import { runNpm } from '../../helpers/npm.js';
import { aliasRouting, clients, createBed, destroy, motoEnv, registerScalingTarget, scalingSuspended, serveTraffic, type Bed } from '../../helpers/rollout-bed.js';

let moto: Moto;

test.before(async () => {
  moto = await startMoto();
});

test.after.always(async () => {
  await moto?.stop();
});

const CLI = path.join(ROOT, 'commands', 'rollout', 'cli.ts');

interface Proc {
  readonly code: number | null;
  readonly signal: NodeJS.Signals | null;
  readonly stdout: string;
  readonly stderr: string;
  /** The --json events, parsed. */
  readonly events: Record<string, unknown>[];
}

/**
 * Runs the CLI with node (no npm in between, so signals reach it); `onEvent` sees each --json event as it comes and
 * may signal the process.
 */
function cli(args: readonly string[], onEvent: (event: Record<string, unknown>, kill: (signal: NodeJS.Signals) => void) => void = () => {}): Promise<Proc> {
  const child = spawn(process.execPath, ['--import', 'tsx', CLI, ...args], { cwd: ROOT, env: { ...process.env, ...motoEnv(moto.endpoint) }, stdio: ['ignore', 'pipe', 'pipe'] });
  let stdout = '';
  let stderr = '';
  let pending = '';
  const events: Record<string, unknown>[] = [];
  child.stdout.on('data', (chunk: Buffer) => {
    stdout += chunk.toString();
    pending += chunk.toString();
    let newline: number;
    while ((newline = pending.indexOf('\n')) >= 0) {
      const line = pending.slice(0, newline);
      pending = pending.slice(newline + 1);
      if (!line.startsWith('{')) continue;
      const event = JSON.parse(line) as Record<string, unknown>;
      events.push(event);
      onEvent(event, (signal) => child.kill(signal));
    }
  });
  child.stderr.on('data', (chunk: Buffer) => {
    stderr += chunk.toString();
  });
  // 'close', not 'exit': 'exit' can fire before the last chunks of output have been read.
  return new Promise((resolve) => child.once('close', (code, signal) => resolve({ code, signal, stdout, stderr, events })));
}

/** moto cannot invoke functions, so these runs skip the traffic checks (test/emulator/rollout-traffic-check.test.ts runs them). */
function base(bed: Bed): string[] {
  return ['--function', bed.functionName, '--alias', bed.alias, '--skip-traffic-check'];
}

const COULD_NOT_RUN: readonly { readonly what: string; readonly args: (bed: Bed) => string[]; readonly stderr: (bed: Bed) => RegExp }[] = [
  {
    what: 'on a bad --steps, naming the flag',
    args: (bed) => [...base(bed), '--to', '2', '--steps', '50,10,100'],
    stderr: () => /--steps is "50,10,100"; expected percents separated by commas, increasing, ending at 100.*step 2 \(10\) is not above step 1 \(50\)/,
  },
  { what: 'on an unknown flag', args: (bed) => [...base(bed), '--to', '2', '--stepz', '10,100'], stderr: () => /--flags is .*; expected known flags only \(.*stepz/ },
  { what: 'on $LATEST', args: (bed) => [...base(bed), '--to', '$LATEST'], stderr: () => /--to is "\$LATEST"; expected a published version number/ },
  {
    what: 'on an unknown version, listing the published ones',
    args: (bed) => [...base(bed), '--to', '9'],
    stderr: (bed) => new RegExp(`version 9 of function ${bed.functionName} does not exist; published versions: 1, 2`),
  },
  { what: 'on a missing alias', args: (bed) => ['--function', bed.functionName, '--alias', 'nope', '--to', '2'], stderr: (bed) => new RegExp(`alias nope of function ${bed.functionName} does not exist`) },
  { what: 'on a missing function', args: () => ['--function', 'no-such-function', '--to', '2'], stderr: () => /alias live of function no-such-function does not exist/ },
  {
    what: 'without a build record to take golden rows from, naming it and how to skip the check',
    args: (bed) => ['--function', bed.functionName, '--alias', bed.alias, '--to', '2', '--build', 'test/fixtures/no-such-dist'],
    stderr: () => /the build record test\/fixtures\/no-such-dist cannot be read .*the traffic check takes its golden rows from it; rerun npm run build for the version you roll out, or point to its folder/,
  },
  {
    what: 'on --canary-requests with --skip-traffic-check',
    args: (bed) => [...base(bed), '--to', '2', '--canary-requests', '5'],
    stderr: () => /--canary-requests is "5"; expected 0 with --skip-traffic-check: canary requests are the build's golden rows/,
  },
];

for (const { what, args, stderr } of COULD_NOT_RUN) {
  test(`exits 1 ${what}, with the alias untouched`, async (t) => {
    const bed = await createBed(moto.endpoint);
    const run = await cli(args(bed));
    t.is(run.code, 1);
    t.regex(run.stderr, stderr(bed));
    t.deepEqual(await aliasRouting(moto.endpoint, bed), { version: '1', weights: {} });
  });
}

test('npm run rollout promotes with --json, one event per line, exit 0', async (t) => {
  const bed = await createBed(moto.endpoint);
  const run = await runNpm('rollout', [...base(bed), '--to', '2', '--steps', '25,100', '--interval', '0.5', '--min-requests', '0', '--alarm-prefix', bed.alarmPrefix, '--json'], motoEnv(moto.endpoint));
  t.is(run.code, 0, `${run.stdout}${run.stderr}`);
  const events = run.stdout.trim().split('\n').map((line) => JSON.parse(line) as Record<string, unknown>);
  t.deepEqual(events.map((e) => e['event']).filter((e) => e !== 'warning'), ['plan', 'step', 'analysis', 'step', 'promoted']);
  t.true(events.every((e) => typeof e['at'] === 'string' && typeof e['message'] === 'string'));
  t.deepEqual(await aliasRouting(moto.endpoint, bed), { version: '2', weights: {} });
});

test('a crashed run leaves weights that a plain rerun refuses and --resume finishes', async (t) => {
  const bed = await createBed(moto.endpoint);
  const flags = [...base(bed), '--to', '2', '--steps', '10,50,100', '--interval', '1', '--poll', '0.2', '--min-requests', '50', '--json'];
  const crashed = await cli(flags, (event, kill) => {
    if (event['event'] === 'step') kill('SIGKILL');
  });
  t.is(crashed.signal, 'SIGKILL');
  t.deepEqual(await aliasRouting(moto.endpoint, bed), { version: '1', weights: { '2': 0.1 } });

  const refused = await cli(flags);
  t.is(refused.code, 1);
  t.regex(refused.stderr, /already routes 10\.0% to version 2 \(stable 1\): a rollout is in progress or was interrupted\. Resume it: npm run rollout -- .* --resume {2}Roll it back: npm run rollout -- .* --rollback/);
  t.deepEqual(await aliasRouting(moto.endpoint, bed), { version: '1', weights: { '2': 0.1 } });

  const weights: unknown[] = [];
  const traffic: Promise<void>[] = [];
  const resumed = await cli([...flags, '--resume'], (event) => {
    if (event['event'] === 'step') {
      weights.push(event['weight']);
      traffic.push(serveTraffic(moto.endpoint, bed, { version: '2', requests: 60 }), serveTraffic(moto.endpoint, bed, { version: '1', requests: 500 }));
    }
  });
  await Promise.all(traffic);
  t.is(resumed.code, 0, resumed.stderr);
  t.deepEqual(weights, [0.1, 0.5, 1], 'the resumed run observes the step it found, then goes on');
  t.deepEqual(await aliasRouting(moto.endpoint, bed), { version: '2', weights: {} });
});

const NONE = { dynamicIn: false, dynamicOut: false, scheduled: false };
const ALL = { dynamicIn: true, dynamicOut: true, scheduled: true };

test('Ctrl-C mid-step rolls back, resumes the scaling it suspended, and exits 2', async (t) => {
  const bed = await createBed(moto.endpoint);
  await registerScalingTarget(moto.endpoint, bed);
  const run = await cli([...base(bed), '--to', '2', '--interval', '60', '--json'], (event, kill) => {
    if (event['event'] === 'step') kill('SIGINT');
  });
  t.is(run.code, 2, run.stderr);
  t.regex(run.stderr, /SIGINT: rolling back/);
  t.deepEqual(run.events.map((e) => e['event']).filter((e) => e !== 'warning'), ['plan', 'scaling-suspended', 'step', 'scaling-resumed', 'rolled-back']);
  t.deepEqual(await aliasRouting(moto.endpoint, bed), { version: '1', weights: {} });
  t.deepEqual(await scalingSuspended(moto.endpoint, bed), NONE);
});

test('--rollback puts a killed rollout back on the stable version, and resumes the scaling the alias records it suspended', async (t) => {
  const bed = await createBed(moto.endpoint);
  await registerScalingTarget(moto.endpoint, bed);
  const crashed = await cli([...base(bed), '--to', '2', '--interval', '60', '--json'], (event, kill) => {
    if (event['event'] === 'step') kill('SIGKILL');
  });
  t.is(crashed.signal, 'SIGKILL');
  t.deepEqual(await scalingSuspended(moto.endpoint, bed), ALL, 'the killed run could put nothing back');
  const { lambda } = clients(moto.endpoint);
  const alias = await lambda.send(new GetAliasCommand({ FunctionName: bed.functionName, Name: bed.alias }));
  destroy({ lambda });
  t.regex(alias.Description ?? '', /^rollout: rolling out version 2 from 1 at \S+Z; on finish: resume scaling \(dynamic in, dynamic out, scheduled\)$/);

  const run = await cli([...base(bed), '--rollback']);
  t.is(run.code, 2, run.stderr);
  t.regex(run.stdout, /resumed scaling of function:\S+:live \(dynamic in, dynamic out, scheduled\)/);
  t.regex(run.stdout, /rolled back by request: alias live serves version 1 again; version 2 had 10\.0%/);
  t.deepEqual(await aliasRouting(moto.endpoint, bed), { version: '1', weights: {} });
  t.deepEqual(await scalingSuspended(moto.endpoint, bed), NONE);
});

const PROGRESS: readonly { readonly what: string; readonly json: boolean }[] = [
  { what: 'a plain line', json: false },
  { what: 'a progress event with --json', json: true },
];

for (const { what, json } of PROGRESS) {
  test(`writes ${what} every --progress seconds while a step waits, when stderr is not a terminal`, async (t) => {
    const bed = await createBed(moto.endpoint);
    const run = await cli([...base(bed), '--to', '2', '--steps', '50,100', '--interval', '2', '--poll', '0.2', '--progress', '0.5', '--min-requests', '0', ...(json ? ['--json'] : [])]);
    t.is(run.code, 0, run.stderr);
    const line = /^progress: step 1\/2: 50% on version 2, 50% on version 1 \| \d:\d\d left \| requests: not read yet \| alarms not checked$/;
    if (json) {
      const progress = run.events.filter((e) => e['event'] === 'progress');
      t.true(progress.length > 0, run.stdout);
      t.like(progress[0], { phase: 'step', step: 1, steps: 2, percent: 50, canary: '2', stable: '1', alarms: 'unchecked' });
      t.true(progress.every((e) => line.test(e['message'] as string)), run.stdout);
    } else {
      const lines = run.stdout.split('\n').filter((l) => l.includes(' progress: ')).map((l) => l.slice(9));
      t.true(lines.length > 0, run.stdout);
      t.true(lines.every((l) => line.test(l)), run.stdout);
    }
    t.false(run.stderr.includes('\u001b[2K'), 'no line rewritten in place: stderr is not a terminal');
  });
}
