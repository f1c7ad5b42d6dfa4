/**
 * `npm run rollout` as a process, against moto server through AWS_ENDPOINT_URL: exit codes, messages, --json, and
 * what a crash or Ctrl-C leaves on the alias. The alias is read back from moto after every run.
 */
import test from 'ava';
import { spawn } from 'node:child_process';
import path from 'node:path';
import { ROOT } from '../../helpers/function.js';
import { startMoto, type Moto } from '../../helpers/moto.js';
import { runNpm } from '../../helpers/npm.js';
import { aliasRouting, createBed, motoEnv, serveTraffic, type Bed } from '../../helpers/rollout-bed.js';

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

function base(bed: Bed): string[] {
  return ['--function', bed.functionName, '--alias', bed.alias];
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

test('Ctrl-C mid-step rolls back and exits 2', async (t) => {
  const bed = await createBed(moto.endpoint);
  const run = await cli([...base(bed), '--to', '2', '--interval', '60', '--json'], (event, kill) => {
    if (event['event'] === 'step') kill('SIGINT');
  });
  t.is(run.code, 2, run.stderr);
  t.regex(run.stderr, /SIGINT: rolling back/);
  t.is(run.events.at(-1)?.['event'], 'rolled-back');
  t.deepEqual(await aliasRouting(moto.endpoint, bed), { version: '1', weights: {} });
});

test('--rollback puts an interrupted rollout back on the stable version', async (t) => {
  const bed = await createBed(moto.endpoint);
  const crashed = await cli([...base(bed), '--to', '2', '--interval', '60', '--json'], (event, kill) => {
    if (event['event'] === 'step') kill('SIGKILL');
  });
  t.is(crashed.signal, 'SIGKILL');
  const run = await cli([...base(bed), '--rollback']);
  t.is(run.code, 2);
  t.regex(run.stdout, /rolled back by request: alias live serves version 1 again; version 2 had 10\.0%/);
  t.deepEqual(await aliasRouting(moto.endpoint, bed), { version: '1', weights: {} });
});
