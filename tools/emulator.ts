/**
 * Runs a function the way Lambda runs it, for the tests and `npm run invoke`: AWS's Runtime Interface Emulator
 * (RIE) serving the invoke API and the Runtime API, with AWS's Node.js runtime interface client (RIC) as the
 * bootstrap that loads the handler.
 * The client runs on the Node of the function's Lambda runtime, not on the Node running the tests: for `nodejs24.x`
 * (what `npm run build` targets, dist/build.json's "runtime") that is the Node 24 in `.testbed/node24`, with
 * aws-lambda-ric 4.x compiled for it, so the built code is tested on the Node major it deploys to. Only nodejs24.x is
 * installed; asking for another runtime fails with a message saying so.
 * One pair per started function, on free loopback ports, so tests can run functions side by side (RIE serves one
 * invocation at a time). All of it comes from `.testbed/`, installed by tools/testbed/install.ts.
 * `startEmulator` runs any runtime's bootstrap the same way (the Python baseline's functions, for one).
 *
 * Layout mimics Lambda with temp folders: the code in a task root (Lambda's /var/task, also the cwd), layers in an
 * opt folder (Lambda's /opt) whose `nodejs/node24/node_modules` and `nodejs/node_modules` are on NODE_PATH.
 */
import { spawn } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { connect, type Socket } from 'node:net';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { LATEST_VERSION, lambdaLogGroup } from '../functions/contract/aws-names.js';
import { ARCHES, DEFAULT_RUNTIME, HANDLER, NODE_ARCH, type Arch } from '../functions/contract/build-record.js';
import { LAMBDA_ENV } from '../functions/contract/env.js';
import { freePort } from './free-port.js';
import { startTraceHeaderProxy } from './trace-header-proxy.js';
import { LAMBDA_RUNTIMES, RIE_BIN, type LambdaRuntime, type RuntimeInstallPaths } from './testbed/paths.js';

/** The numbers of RIE's `REPORT RequestId: …` line for one invocation. */
export interface Report {
  readonly requestId: string;
  readonly durationMs: number;
  readonly billedMs: number;
  /** RIE prints the configured memory size here; it does not measure memory. */
  readonly memoryMB: number;
  /** RIE prints the configured memory size here too, not what was used. */
  readonly maxMemoryMB: number;
  /**
   * Present only on the invocation that started the runtime (a cold start). RIE times an asynchronous call, so the
   * number is near 0 and the init time lands in `durationMs`; the real init time is `Invocation.runtimeInitMs`.
   */
  readonly initDurationMs?: number;
}

export interface Invocation {
  /** The HTTP status of RIE's invoke API: 200 also for a handler that threw, 502 when the runtime failed. */
  readonly status: number;
  /** The function's result parsed as JSON, or the error object the runtime reported; `raw` when it is not JSON. */
  readonly payload: unknown;
  readonly raw: string;
  readonly report: Report | undefined;
  /** The runtime could not load the handler (an exception at module scope, a missing module, a bad handler name). */
  readonly initError: boolean;
  /** RIE answered "Task timed out after N.00 seconds". */
  readonly timedOut: boolean;
  /** From RIE's `INIT REPORT(durationMs: …)` log line, when this invocation (re)started the runtime. */
  readonly runtimeInitMs: number | undefined;
  /** What the function and the emulator printed during this invocation. */
  readonly logs: string;
}

export interface LambdaUnderTest {
  readonly invokeUrl: string;
  /** Invokes the function once; calls made while one is running wait their turn, as RIE serves one at a time. */
  /** `traceHeader` goes to the emulator as X-Amzn-Trace-Id, which it hands to the runtime as Lambda does. */
  invoke(event: unknown, options?: { readonly requestId?: string; readonly traceHeader?: string }): Promise<Invocation>;
  /** Everything the function and the emulator printed so far. */
  logs(): string;
  /** Stops the runtime and the emulator; safe to call twice. */
  stop(): Promise<void>;
}

export interface FunctionOptions {
  /** The function's code, as Lambda unpacks it into /var/task; must be an absolute path. */
  readonly taskRoot: string;
  /** A folder standing in for /opt, where Lambda unpacks layers. @default none: NODE_PATH holds the task root only */
  readonly optDir?: string;
  /** @default HANDLER, 'index.handler' */
  readonly handler?: string;
  /** Function environment variables, applied over (and able to replace) what Lambda sets. @default {} */
  readonly env?: Readonly<Record<string, string>>;
  /** The function timeout, which RIE also applies to init. @default 30 */
  readonly timeoutSeconds?: number;
  /** @default 1024 */
  readonly memoryMB?: number;
  /** @default 'test-function' */
  readonly functionName?: string;
  /**
   * The Lambda runtime to run the function on, as dist/build.json's "runtime" names it; only the runtimes in
   * tools/testbed/paths.ts's LAMBDA_RUNTIMES are installed. @default DEFAULT_RUNTIME, 'nodejs24.x'
   */
  readonly runtime?: string;
  /**
   * Called with the emulator's process id as soon as it is spawned, before it listens and before it starts the
   * runtime (which it does on the first invocation), so everything the emulator starts inherits what the hook set
   * up: `npm run tune` places the process in a control group with Lambda's CPU share and memory limit for a size.
   * A hook that throws stops the emulator, and startFunction rejects with its error. @default none
   */
  readonly onSpawn?: (pid: number) => void | Promise<void>;
  /** How long to wait for the emulator to listen before giving up with a message saying so. @default 10,000 */
  readonly startTimeoutMs?: number;
  /** The emulator program: a test gives one that never listens, to see the bounded wait. @default RIE_BIN */
  readonly emulatorBin?: string;
  /**
   * Hand each invocation's `traceHeader` to the runtime as Lambda does, which the emulator cannot
   * (tools/trace-header-proxy.ts, a simulation of that header). Off by default: the proxy adds a hop to every
   * runtime API call, which timings should not carry. @default false
   */
  readonly traceHeaders?: boolean;
}

/** The Node binary, major and runtime interface client that stand in for Lambda's `runtime`. */
export interface RuntimeInstall extends RuntimeInstallPaths {
  readonly runtime: LambdaRuntime;
}

/** Maps a Lambda runtime name to what the test bed installed for it; throws for one it does not install. */
export function lambdaRuntime(runtime: string = DEFAULT_RUNTIME): RuntimeInstall {
  if (!Object.hasOwn(LAMBDA_RUNTIMES, runtime)) {
    throw new Error(`the emulator runs only the Lambda runtime(s) ${Object.keys(LAMBDA_RUNTIMES).join(', ')} (tools/testbed/install.ts installs their Node); got "${runtime}"`);
  }
  const install = LAMBDA_RUNTIMES[runtime as LambdaRuntime];
  return { runtime: runtime as LambdaRuntime, ...install };
}

/** The Lambda architecture of this machine: the only one whose build the emulator can run. */
export function hostArch(): Arch {
  return ARCHES.find((arch) => NODE_ARCH[arch] === process.arch) ?? 'x86_64';
}

/** RIE's invoke API, as Lambda's Invoke API spells it. */
const INVOKE_PATH = '/2015-03-31/functions/function/invocations';
const START_TIMEOUT_MS = 10_000;
/** How long to wait, after RIE answered, for its log lines about the invocation to come through the pipes. */
const LOG_SETTLE_MS = 3_000;

/** What Lambda tells any runtime about the function, with this run's folders in place of /var/task and /var/runtime. */
export interface RuntimeEnvironment {
  readonly taskRoot: string;
  /** Lambda's /var/runtime: where the runtime interface client lives. */
  readonly runtimeDir: string;
  /** The folder of the runtime's interpreter, first on PATH as Lambda's /var/lang/bin is. */
  readonly binDir: string;
  readonly handler: string;
  /** The runtime's name as AWS_EXECUTION_ENV spells it, e.g. `nodejs24.x`, `python3.12`. */
  readonly runtime: string;
  readonly functionName: string;
  readonly memoryMB: number;
  readonly timeoutSeconds: number;
}

/** The environment variables Lambda sets for a function on any runtime. */
export function lambdaRuntimeEnvironment(options: RuntimeEnvironment): Record<string, string> {
  return {
    PATH: [options.binDir, '/usr/local/bin', '/usr/bin', '/bin'].join(':'),
    LANG: 'en_US.UTF-8',
    TZ: ':UTC',
    [LAMBDA_ENV.TASK_ROOT]: options.taskRoot,
    LAMBDA_RUNTIME_DIR: options.runtimeDir,
    _HANDLER: options.handler,
    AWS_EXECUTION_ENV: `AWS_Lambda_${options.runtime}`,
    AWS_LAMBDA_INITIALIZATION_TYPE: 'on-demand',
    [LAMBDA_ENV.FUNCTION_NAME]: options.functionName,
    [LAMBDA_ENV.FUNCTION_VERSION]: LATEST_VERSION,
    [LAMBDA_ENV.FUNCTION_MEMORY_SIZE]: String(options.memoryMB),
    AWS_LAMBDA_FUNCTION_TIMEOUT: String(options.timeoutSeconds),
    AWS_LAMBDA_LOG_GROUP_NAME: lambdaLogGroup(options.functionName),
    AWS_LAMBDA_LOG_STREAM_NAME: `${new Date().toISOString().slice(0, 10).replaceAll('-', '/')}/[$LATEST]${randomUUID().replaceAll('-', '')}`,
    AWS_REGION: 'us-east-1',
    AWS_DEFAULT_REGION: 'us-east-1',
  };
}

/**
 * The environment Lambda gives a function on `install`'s runtime, with the folders of this test in place of
 * /var/task and /opt, and the runtime's Node (Lambda's /var/lang/bin) first on PATH.
 */
function nodeEnvironment(options: FunctionOptions, handler: string, install: RuntimeInstall): Record<string, string> {
  const layerModules = options.optDir === undefined ? [] : [path.join(options.optDir, 'nodejs', `node${install.nodeMajor}`, 'node_modules'), path.join(options.optDir, 'nodejs', 'node_modules')];
  return {
    ...lambdaRuntimeEnvironment({
      taskRoot: options.taskRoot,
      runtimeDir: install.ricDir,
      binDir: path.dirname(install.node),
      handler,
      runtime: install.runtime,
      functionName: options.functionName ?? 'test-function',
      memoryMB: options.memoryMB ?? 1024,
      timeoutSeconds: options.timeoutSeconds ?? 30,
    }),
    NODE_PATH: [...layerModules, options.taskRoot].join(':'),
    AWS_ACCESS_KEY_ID: 'testing',
    AWS_SECRET_ACCESS_KEY: 'testing',
    AWS_SESSION_TOKEN: 'testing',
    ...options.env,
  };
}

/** Parses RIE's `REPORT RequestId: <id>\tInit Duration: … ms\tDuration: … ms\t…` line. */
export function parseReport(line: string): Report | undefined {
  const match = /^REPORT RequestId: (\S+)\t(.*)$/.exec(line.trimEnd());
  if (match === null) return undefined;
  const fields = new Map<string, number>();
  for (const field of (match[2] ?? '').split('\t')) {
    const parsed = /^([A-Za-z ]+): ([\d.]+) (?:ms|MB)$/.exec(field.trim());
    if (parsed?.[1] !== undefined && parsed[2] !== undefined) fields.set(parsed[1], Number(parsed[2]));
  }
  const durationMs = fields.get('Duration');
  const billedMs = fields.get('Billed Duration');
  const memoryMB = fields.get('Memory Size');
  const maxMemoryMB = fields.get('Max Memory Used');
  if (durationMs === undefined || billedMs === undefined || memoryMB === undefined || maxMemoryMB === undefined) return undefined;
  const report = { requestId: match[1] ?? '', durationMs, billedMs, memoryMB, maxMemoryMB };
  const initDurationMs = fields.get('Init Duration');
  return initDurationMs === undefined ? report : { ...report, initDurationMs };
}

/**
 * The REPORT line RIE prints for `requestId`, read from `logs` as it comes through the pipes (RIE prints it before it
 * answers, but the pipes are read asynchronously); throws when none arrives within `timeoutMs`.
 */
export async function reportFor(logs: () => string, requestId: string, timeoutMs = 3000): Promise<Report> {
  const prefix = `REPORT RequestId: ${requestId}\t`;
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const text = logs();
    const at = text.lastIndexOf(prefix);
    const end = at === -1 ? -1 : text.indexOf('\n', at);
    if (end !== -1) {
      const report = parseReport(text.slice(at, end));
      if (report === undefined) throw new Error(`cannot read the emulator's REPORT line: ${text.slice(at, end)}`);
      return report;
    }
    if (Date.now() > deadline) throw new Error(`the emulator printed no REPORT line for ${requestId}:\n${text.slice(-2000)}`);
    await sleep(1);
  }
}

/** The processes RIE started: each runtime runs in a process group of its own, which a signal to RIE's misses. */
export function childPids(parent: number): number[] {
  const pids: number[] = [];
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const stat = readFileSync(`/proc/${entry}/stat`, 'utf8');
      if (Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]) === parent) pids.push(Number(entry));
    } catch {
      // the process ended while we looked
    }
  }
  return pids;
}

/** Signals a process group, if it is still there. */
export function signalGroup(pid: number, signal: NodeJS.Signals): void {
  try {
    process.kill(-pid, signal);
  } catch {
    // already gone
  }
}

/** Stops whatever a test left running when its worker exits, so no emulator outlives the run. */
const leftovers = new Set<() => void>();
process.once('exit', () => {
  for (const kill of leftovers) kill();
});

/**
 * Stops an emulator started in a process group of its own, and the runtime it started: SIGTERM, then SIGKILL to
 * what is still there.
 */
export async function stopEmulator(pid: number, running: () => boolean, exited: Promise<unknown>): Promise<void> {
  const runtimes = childPids(pid);
  if (running()) {
    signalGroup(pid, 'SIGTERM');
    await Promise.race([exited, sleep(3000)]);
    if (running()) signalGroup(pid, 'SIGKILL');
    await Promise.race([exited, sleep(2000)]);
  }
  for (const runtime of runtimes) signalGroup(runtime, 'SIGKILL');
}

/** Whether something listens on the loopback port. */
export async function accepting(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = connect({ host: '127.0.0.1', port });
    socket.once('connect', () => {
      socket.destroy();
      resolve(true);
    });
    socket.once('error', () => resolve(false));
  });
}

class PortTaken extends Error {}

function tail(text: string, lines = 40): string {
  return text.trimEnd().split('\n').slice(-lines).join('\n');
}

/** One function for the emulator to run, on any runtime. */
export interface Emulation {
  /** The function's code and the runtime's cwd. */
  readonly taskRoot: string;
  /** The command that starts the runtime; RIE takes its last argument as the handler. */
  readonly bootstrap: readonly string[];
  readonly env: Readonly<Record<string, string>>;
  /** The function timeout RIE applies to init and to each invocation. */
  readonly timeoutSeconds: number;
  /** See FunctionOptions.onSpawn. @default none */
  readonly onSpawn?: (pid: number) => void | Promise<void>;
  /** See FunctionOptions.startTimeoutMs. @default 10,000 */
  readonly startTimeoutMs?: number;
  /** See FunctionOptions.emulatorBin. @default RIE_BIN */
  readonly emulatorBin?: string;
  /** See FunctionOptions.traceHeaders. @default false */
  readonly traceHeaders?: boolean;
}

async function launch(emulation: Emulation): Promise<LambdaUnderTest> {
  const { timeoutSeconds } = emulation;
  const [runtimePort, invokePort] = [await freePort(), await freePort()];
  const invokeUrl = `http://127.0.0.1:${invokePort}${INVOKE_PATH}`;
  const proxy = emulation.traceHeaders === true ? await startTraceHeaderProxy(runtimePort) : undefined;
  // The runtime reaches the proxy instead of the emulator's runtime API: `env` sets its address over the emulator's.
  const bootstrap = proxy === undefined ? emulation.bootstrap : ['/usr/bin/env', `AWS_LAMBDA_RUNTIME_API=${proxy.address}`, ...emulation.bootstrap];
  const args = ['--runtime-api-address', `127.0.0.1:${runtimePort}`, '--runtime-interface-emulator-address', `127.0.0.1:${invokePort}`, '--log-level', 'info', ...bootstrap];
  const bin = emulation.emulatorBin ?? RIE_BIN;
  const child = spawn(bin, args, { cwd: emulation.taskRoot, env: emulation.env, detached: true, stdio: ['ignore', 'pipe', 'pipe'] });
  const pid = child.pid;
  if (pid === undefined) throw new Error(`could not start ${bin}`);
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  let all = '';
  let stdout = '';
  let stderr = '';
  child.stdout.setEncoding('utf8').on('data', (chunk: string) => {
    stdout += chunk;
    all += chunk;
  });
  child.stderr.setEncoding('utf8').on('data', (chunk: string) => {
    stderr += chunk;
    all += chunk;
  });
  const running = () => child.exitCode === null && child.signalCode === null;
  const kill = () => {
    for (const runtime of childPids(pid)) signalGroup(runtime, 'SIGKILL');
    signalGroup(pid, 'SIGKILL');
  };
  leftovers.add(kill);
  // A test that forgets stop() must not keep its worker alive; the exit hook above still kills the pair.
  child.unref();
  for (const stream of [child.stdout, child.stderr]) (stream as Socket).unref();
  if (emulation.onSpawn !== undefined) {
    try {
      await emulation.onSpawn(pid);
    } catch (error) {
      kill();
      leftovers.delete(kill);
      throw error;
    }
  }

  const startTimeoutMs = emulation.startTimeoutMs ?? START_TIMEOUT_MS;
  const deadline = Date.now() + startTimeoutMs;
  while (!(await accepting(invokePort))) {
    if (!running()) {
      leftovers.delete(kill);
      await sleep(50);
      const message = `aws-lambda-rie exited with ${child.exitCode ?? child.signalCode} before listening on 127.0.0.1:${invokePort}:\n${tail(all)}`;
      throw all.includes('address already in use') ? new PortTaken(message) : new Error(message);
    }
    if (Date.now() > deadline) {
      kill();
      leftovers.delete(kill);
      throw new Error(`aws-lambda-rie did not listen on 127.0.0.1:${invokePort} within ${startTimeoutMs / 1000} s:\n${tail(all)}`);
    }
    await sleep(50);
  }

  async function invokeOnce(event: unknown, requestId: string, traceHeader: string | undefined): Promise<Invocation> {
    if (!running()) throw new Error(`aws-lambda-rie is not running (exit ${child.exitCode ?? child.signalCode}); its output:\n${tail(all)}`);
    const [allStart, stdoutStart, stderrStart] = [all.length, stdout.length, stderr.length];
    // Init and invoke each get the function timeout from RIE; past both, something is stuck.
    const limitMs = 2 * timeoutSeconds * 1000 + 10_000;
    let status: number;
    let raw: string;
    if (traceHeader !== undefined) proxy?.set(requestId, traceHeader);
    try {
      const response = await fetch(invokeUrl, {
        method: 'POST',
        headers: { 'content-type': 'application/json', 'x-amzn-requestid': requestId, ...(traceHeader === undefined ? {} : { 'x-amzn-trace-id': traceHeader }) },
        body: JSON.stringify(event),
        signal: AbortSignal.timeout(limitMs),
      });
      status = response.status;
      raw = await response.text();
    } catch (error) {
      throw new Error(`invoking ${invokeUrl} failed or took over ${limitMs / 1000} s: ${String(error)}; the emulator printed:\n${tail(all.slice(allStart))}`, { cause: error });
    }
    // RIE prints its lines before it answers, but the pipes are read asynchronously.
    const reportPrefix = `REPORT RequestId: ${requestId}\t`;
    const settled = () => (status === 200 ? stdout.includes(reportPrefix, stdoutStart) : /Invoke DONE failed|Reset initiated/.test(stderr.slice(stderrStart)));
    const settleBy = Date.now() + LOG_SETTLE_MS;
    while (!settled() && running() && Date.now() < settleBy) await sleep(10);
    const reportLine = stdout
      .slice(stdoutStart)
      .split('\n')
      .find((line) => line.startsWith(reportPrefix));
    const rapidLog = stderr.slice(stderrStart);
    const initReports = [...rapidLog.matchAll(/INIT REPORT\(durationMs: ([\d.]+)\)/g)].map((match) => Number(match[1]));
    let payload: unknown = raw;
    try {
      payload = JSON.parse(raw);
    } catch {
      // not JSON: a timeout message, or a function that returned nothing
    }
    return {
      status,
      payload,
      raw,
      report: reportLine === undefined ? undefined : parseReport(reportLine),
      initError: status === 502 && /INIT RTDONE\(status: error\)|Init failed/.test(rapidLog),
      timedOut: raw.startsWith('Task timed out after'),
      runtimeInitMs: initReports.at(-1),
      logs: all.slice(allStart),
    };
  }

  let queue: Promise<unknown> = Promise.resolve();
  let stopping: Promise<void> | undefined;
  return {
    invokeUrl,
    invoke(event, invokeOptions = {}) {
      const next = queue.then(() => invokeOnce(event, invokeOptions.requestId ?? randomUUID(), invokeOptions.traceHeader));
      queue = next.catch(() => undefined);
      return next;
    },
    logs: () => all,
    stop() {
      stopping ??= (async () => {
        await stopEmulator(pid, running, exited);
        await proxy?.close();
        leftovers.delete(kill);
      })();
      return stopping;
    },
  };
}

/** Starts RIE with `emulation`'s runtime on free loopback ports, trying again if another process took a port first. */
export async function startEmulator(emulation: Emulation): Promise<LambdaUnderTest> {
  for (let attempt = 1; ; attempt += 1) {
    try {
      return await launch(emulation);
    } catch (error) {
      // Another process took a port between freePort() and RIE binding it: pick new ones.
      if (!(error instanceof PortTaken) || attempt === 3) throw error;
    }
  }
}

/**
 * Starts one emulator + runtime client pair for the function in `options.taskRoot`. The runtime starts (and the
 * handler's module loads) on the first invocation, as in Lambda.
 */
export async function startFunction(options: FunctionOptions): Promise<LambdaUnderTest> {
  const install = lambdaRuntime(options.runtime);
  for (const [file, what] of [
    [RIE_BIN, 'the Lambda Runtime Interface Emulator'],
    [install.node, `the Node.js ${install.nodeMajor} of Lambda's ${install.runtime} runtime`],
    [install.ric, `the Lambda Node.js runtime interface client for ${install.runtime}`],
  ] as const) {
    if (!existsSync(file)) throw new Error(`${what} is not installed at ${file}; run "npm test" (its pretest step installs it) or "npx tsx tools/testbed/install.ts"`);
  }
  if (!path.isAbsolute(options.taskRoot) || !existsSync(options.taskRoot) || !statSync(options.taskRoot).isDirectory()) {
    throw new Error(`taskRoot must be an absolute path to a folder with the function's code; got "${options.taskRoot}"`);
  }
  const handler = options.handler ?? HANDLER;
  return startEmulator({
    taskRoot: options.taskRoot,
    bootstrap: [install.node, install.ric, handler],
    env: nodeEnvironment(options, handler, install),
    timeoutSeconds: options.timeoutSeconds ?? 30,
    ...(options.onSpawn === undefined ? {} : { onSpawn: options.onSpawn }),
    ...(options.startTimeoutMs === undefined ? {} : { startTimeoutMs: options.startTimeoutMs }),
    ...(options.emulatorBin === undefined ? {} : { emulatorBin: options.emulatorBin }),
    ...(options.traceHeaders === undefined ? {} : { traceHeaders: options.traceHeaders }),
  });
}
