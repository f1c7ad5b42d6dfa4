/**
 * Runs a Python function the way Lambda runs one, beside tools/emulator.ts (which runs only Node runtimes): AWS's
 * Runtime Interface Emulator as the entry, `python -m awslambdaric handler.handler` as the bootstrap, the package as
 * the task root and the cwd, awslambdaric's folder on PYTHONPATH as Lambda's /var/runtime is.
 */
import { spawn } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { accepting, childPids, signalGroup, stopEmulator } from '../../tools/emulator.js';
import { freePort } from '../../tools/free-port.js';
import { RIE_BIN } from '../../tools/testbed/install.js';
import { PYTHON_MINOR, type PythonRuntime } from './packages.js';

/** What the measurements need of a function under the emulator; tools/emulator.ts's LambdaUnderTest fits it too. */
export interface RunningFunction {
  readonly invokeUrl: string;
  logs(): string;
  stop(): Promise<void>;
}

export interface PythonFunctionOptions {
  readonly taskRoot: string;
  readonly runtime: PythonRuntime;
  readonly memoryMB: number;
  /** @default 30 */
  readonly timeoutSeconds?: number;
  /** @default 'handler.handler' */
  readonly handler?: string;
  /** Function environment variables, applied over (and able to replace) what Lambda sets. @default {} */
  readonly env?: Readonly<Record<string, string>>;
}

const INVOKE_PATH = '/2015-03-31/functions/function/invocations';

/** The environment Lambda's Python runtime gives a function, with this run's folders for /var/task and /var/runtime. */
function lambdaEnvironment(options: PythonFunctionOptions, handler: string): Record<string, string> {
  const functionName = 'python-baseline';
  return {
    PATH: [path.dirname(options.runtime.python), '/usr/local/bin', '/usr/bin', '/bin'].join(':'),
    LANG: 'en_US.UTF-8',
    TZ: ':UTC',
    PYTHONPATH: options.runtime.runtimeDir,
    // Lambda's /var/task is read-only, so Python cannot cache the handler's bytecode there either.
    PYTHONDONTWRITEBYTECODE: '1',
    LAMBDA_TASK_ROOT: options.taskRoot,
    LAMBDA_RUNTIME_DIR: options.runtime.runtimeDir,
    _HANDLER: handler,
    AWS_EXECUTION_ENV: `AWS_Lambda_python${PYTHON_MINOR}`,
    AWS_LAMBDA_INITIALIZATION_TYPE: 'on-demand',
    AWS_LAMBDA_FUNCTION_NAME: functionName,
    AWS_LAMBDA_FUNCTION_VERSION: '$LATEST',
    AWS_LAMBDA_FUNCTION_MEMORY_SIZE: String(options.memoryMB),
    AWS_LAMBDA_FUNCTION_TIMEOUT: String(options.timeoutSeconds ?? 30),
    AWS_LAMBDA_LOG_GROUP_NAME: `/aws/lambda/${functionName}`,
    AWS_LAMBDA_LOG_STREAM_NAME: `${new Date().toISOString().slice(0, 10).replaceAll('-', '/')}/[$LATEST]${randomUUID().replaceAll('-', '')}`,
    AWS_REGION: 'us-east-1',
    AWS_DEFAULT_REGION: 'us-east-1',
    ...options.env,
  };
}

async function launch(options: PythonFunctionOptions): Promise<RunningFunction> {
  const handler = options.handler ?? 'handler.handler';
  const [runtimePort, invokePort] = [await freePort(), await freePort()];
  const args = ['--runtime-api-address', `127.0.0.1:${runtimePort}`, '--runtime-interface-emulator-address', `127.0.0.1:${invokePort}`, '--log-level', 'info', options.runtime.python, '-m', 'awslambdaric', handler];
  const child = spawn(RIE_BIN, args, { cwd: options.taskRoot, env: lambdaEnvironment(options, handler), detached: true, stdio: ['ignore', 'pipe', 'pipe'] });
  const pid = child.pid;
  if (pid === undefined) throw new Error(`could not start ${RIE_BIN}`);
  let all = '';
  for (const stream of [child.stdout, child.stderr]) stream.setEncoding('utf8').on('data', (chunk: string) => (all += chunk));
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  const running = () => child.exitCode === null && child.signalCode === null;
  const kill = () => {
    for (const runtime of childPids(pid)) signalGroup(runtime, 'SIGKILL');
    signalGroup(pid, 'SIGKILL');
  };
  process.once('exit', kill);
  const deadline = Date.now() + 10_000;
  while (!(await accepting(invokePort))) {
    if (!running() || Date.now() > deadline) {
      kill();
      throw new Error(`aws-lambda-rie did not listen on 127.0.0.1:${invokePort}${running() ? ' within 10 s' : ` (exit ${child.exitCode ?? child.signalCode})`}:\n${all.slice(-3000)}`);
    }
    await sleep(50);
  }
  let stopping: Promise<void> | undefined;
  return {
    invokeUrl: `http://127.0.0.1:${invokePort}${INVOKE_PATH}`,
    logs: () => all,
    stop() {
      stopping ??= (async () => {
        await stopEmulator(pid, running, exited);
        process.removeListener('exit', kill);
      })();
      return stopping;
    },
  };
}

/** Starts RIE with the Python bootstrap on free loopback ports, trying again if another process took a port first. */
export async function startPythonFunction(options: PythonFunctionOptions): Promise<RunningFunction> {
  for (let attempt = 1; ; attempt++) {
    try {
      return await launch(options);
    } catch (error) {
      if (attempt >= 3 || !String(error).includes('address already in use')) throw error;
    }
  }
}
