/**
 * Runs a Python function the way Lambda runs one, with tools/emulator.ts's emulator (whose startFunction runs only
 * Node runtimes): `python -m awslambdaric handler.handler` as the bootstrap, the package as the task root and the
 * cwd, awslambdaric's folder on PYTHONPATH as Lambda's /var/runtime is.
 */
import path from 'node:path';
import { lambdaRuntimeEnvironment, startEmulator, type LambdaUnderTest } from '../../tools/emulator.js';
import { PYTHON_MINOR, type PythonRuntime } from './packages.js';

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

/** Starts RIE with the Python bootstrap on free loopback ports. */
export async function startPythonFunction(options: PythonFunctionOptions): Promise<LambdaUnderTest> {
  const handler = options.handler ?? 'handler.handler';
  const timeoutSeconds = options.timeoutSeconds ?? 30;
  const env = {
    ...lambdaRuntimeEnvironment({
      taskRoot: options.taskRoot,
      runtimeDir: options.runtime.runtimeDir,
      binDir: path.dirname(options.runtime.python),
      handler,
      runtime: `python${PYTHON_MINOR}`,
      functionName: 'python-baseline',
      memoryMB: options.memoryMB,
      timeoutSeconds,
    }),
    PYTHONPATH: options.runtime.runtimeDir,
    // Lambda's /var/task is read-only, so Python cannot cache the handler's bytecode there either.
    PYTHONDONTWRITEBYTECODE: '1',
    ...options.env,
  };
  return startEmulator({ taskRoot: options.taskRoot, bootstrap: [options.runtime.python, '-m', 'awslambdaric', handler], env, timeoutSeconds });
}
