/**
 * The measurements, the same for every function under the emulator, by bench/under-emulator.ts's method: a cold
 * start is a new emulator invoked once with one row, timed by the caller's round trip of that first invocation and
 * by RIE's `INIT REPORT` duration; a warm request is timed by RIE's `REPORT` Duration (what Lambda bills) and by the
 * caller's round trip. Every answer is checked against golden.json. Peak memory is the runtime process's VmHWM.
 */
import { randomUUID } from 'node:crypto';
import { readFileSync, readdirSync } from 'node:fs';
import { childPids, reportFor, type LambdaUnderTest } from '../../tools/emulator.js';
import { checkPrediction, percentile, predictEvent, type BenchBundle } from '../bench-data.js';

export interface Subject {
  /** Short key for the JSON: `node`, `python-onnx`, `python-sklearn`. */
  readonly key: string;
  readonly label: string;
  start(): Promise<LambdaUnderTest>;
}

export interface Stats {
  readonly p50: number;
  readonly p90: number;
  readonly n: number;
}

export function stats(values: readonly number[]): Stats {
  return { p50: percentile(values, 50), p90: percentile(values, 90), n: values.length };
}

/** The runtime process under a running emulator, and what it is. */
export interface RuntimeProcess {
  readonly pid: number;
  /** Its command line, to show which process was read. */
  readonly command: string;
}

function cmdline(pid: number | string): string[] {
  try {
    return readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0').filter((arg) => arg !== '');
  } catch {
    return [];
  }
}

/**
 * The runtime of the function at `invokeUrl`: the emulator is the aws-lambda-rie process whose command line holds
 * `--runtime-interface-emulator-address 127.0.0.1:<the invoke URL's port>`, and the runtime its one child process
 * (RIE starts the bootstrap as a direct child, on the first invocation).
 */
export function runtimeProcess(invokeUrl: string): RuntimeProcess {
  const address = `127.0.0.1:${new URL(invokeUrl).port}`;
  const emulators = readdirSync('/proc')
    .filter((entry) => /^\d+$/.test(entry))
    .filter((entry) => {
      const args = cmdline(entry);
      const flag = args.indexOf('--runtime-interface-emulator-address');
      return (args[0] ?? '').endsWith('aws-lambda-rie') && flag !== -1 && args[flag + 1] === address;
    });
  if (emulators.length !== 1) throw new Error(`expected one aws-lambda-rie serving ${address}, found ${emulators.length}`);
  const children = childPids(Number(emulators[0]));
  if (children.length !== 1) throw new Error(`expected one runtime process under aws-lambda-rie ${emulators[0]}, found ${children.length}: ${children.join(', ')}`);
  const pid = children[0]!;
  return { pid, command: cmdline(pid).join(' ') };
}

/** A process's peak resident set so far (VmHWM in /proc/<pid>/status), in MiB. */
export function peakRssMiB(pid: number): number {
  const match = /^VmHWM:\s+(\d+) kB$/m.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
  if (match?.[1] === undefined) throw new Error(`/proc/${pid}/status has no VmHWM line`);
  return Number(match[1]) / 1024;
}

interface Call {
  readonly wallMs: number;
  readonly durationMs: number;
}

/** One invocation through RIE's invoke API: timed by the caller, the answer checked, RIE's REPORT line read. */
async function call(bundle: BenchBundle, subject: Subject, fn: LambdaUnderTest, rows: number, eventText: string): Promise<Call> {
  const requestId = randomUUID();
  const t0 = performance.now();
  const response = await fetch(fn.invokeUrl, { method: 'POST', headers: { 'content-type': 'application/json', 'x-amzn-requestid': requestId }, body: eventText });
  const raw = await response.text();
  const wallMs = performance.now() - t0;
  let payload: { statusCode?: number; body?: string } = {};
  try {
    payload = JSON.parse(raw) as typeof payload;
  } catch {
    // reported below
  }
  if (response.status !== 200 || payload.statusCode !== 200) throw new Error(`${subject.label} answered ${response.status}: ${raw.slice(0, 500)}\n${fn.logs().slice(-3000)}`);
  checkPrediction(bundle, rows, `${subject.label} under the emulator`, JSON.parse(payload.body ?? '') as Record<string, unknown>);
  const report = await reportFor(() => fn.logs(), requestId);
  return { wallMs, durationMs: report.durationMs };
}

export interface Cold {
  /** RIE's INIT REPORT duration: the runtime starting and the handler module's init. */
  readonly initMs: Stats & { readonly values: readonly number[] };
  /** The first invocation's round trip as the caller sees it: runtime start, init and the request. */
  readonly firstResponseMs: Stats & { readonly values: readonly number[] };
  /** VmHWM of the runtime right after its first answer. */
  readonly peakRssAfterFirstMiB: Stats;
}

/**
 * `runs` cold starts of every subject, the order rotating each round so the machine's load hits all alike, after
 * one unmeasured start of each for the file cache.
 */
export async function coldStarts(bundle: BenchBundle, subjects: readonly Subject[], runs: number): Promise<Record<string, Cold>> {
  const event = JSON.stringify(predictEvent(bundle, 1));
  const once = async (subject: Subject) => {
    const fn = await subject.start();
    try {
      const first = await call(bundle, subject, fn, 1, event);
      const init = [...fn.logs().matchAll(/INIT REPORT\(durationMs: ([\d.]+)\)/g)].map((m) => Number(m[1]));
      if (init.length !== 1) throw new Error(`expected one INIT REPORT from ${subject.label}, found ${init.length}:\n${fn.logs().slice(-2000)}`);
      return { init: init[0]!, first: first.wallMs, peak: peakRssMiB(runtimeProcess(fn.invokeUrl).pid) };
    } finally {
      await fn.stop();
    }
  };
  for (const subject of subjects) await once(subject);
  const results = new Map(subjects.map((s) => [s.key, [] as { init: number; first: number; peak: number }[]]));
  for (let round = 0; round < runs; round++) {
    for (let k = 0; k < subjects.length; k++) {
      const subject = subjects[(round + k) % subjects.length]!;
      results.get(subject.key)!.push(await once(subject));
    }
  }
  return Object.fromEntries(
    subjects.map((s) => {
      const r = results.get(s.key)!;
      const init = r.map((x) => x.init);
      const first = r.map((x) => x.first);
      return [s.key, { initMs: { ...stats(init), values: init }, firstResponseMs: { ...stats(first), values: first }, peakRssAfterFirstMiB: stats(r.map((x) => x.peak)) }];
    }),
  );
}

export interface WarmSize {
  readonly rows: number;
  /** RIE's REPORT Duration, ms. */
  readonly durationMs: Stats;
  /** The invoke API's round trip as the caller sees it, ms. */
  readonly wallMs: Stats;
}

export interface Warm {
  readonly sizes: readonly WarmSize[];
  /** VmHWM of the runtime process after all the warm requests, MiB. */
  readonly peakRssMiB: number;
  readonly runtimeProcess: RuntimeProcess;
  readonly requests: number;
}

/**
 * Warm requests: every subject started once; `warmup` calls per size and subject first (not kept), then `samples`
 * timed calls per size and subject in runs of 5 (the first of each run not kept, as it follows another subject),
 * the subject order rotating each round. Then each runtime's VmHWM.
 */
export async function warmRequests(bundle: BenchBundle, subjects: readonly Subject[], sizes: readonly number[], warmup: number, samples: number): Promise<Record<string, Warm>> {
  const RUN = 5;
  const running: LambdaUnderTest[] = [];
  try {
    for (const subject of subjects) running.push(await subject.start());
    const events = sizes.map((rows) => ({ rows, text: JSON.stringify(predictEvent(bundle, rows)) }));
    const requests = subjects.map(() => 0);
    for (let k = 0; k < subjects.length; k++) {
      for (const { rows, text } of events) {
        for (let i = 0; i < warmup; i++) await call(bundle, subjects[k]!, running[k]!, rows, text);
        requests[k]! += warmup;
      }
    }
    const kept = subjects.map(() => events.map(() => [] as Call[]));
    for (let round = 0; round < Math.ceil(samples / (RUN - 1)); round++) {
      for (let e = 0; e < events.length; e++) {
        for (let j = 0; j < subjects.length; j++) {
          const k = (round + j) % subjects.length;
          for (let i = 0; i < RUN; i++) {
            const timed = await call(bundle, subjects[k]!, running[k]!, events[e]!.rows, events[e]!.text);
            if (i > 0) kept[k]![e]!.push(timed);
          }
          requests[k]! += RUN;
        }
      }
    }
    return Object.fromEntries(
      subjects.map((s, k) => {
        const runtime = runtimeProcess(running[k]!.invokeUrl);
        const warm: Warm = {
          sizes: events.map(({ rows }, e) => ({ rows, durationMs: stats(kept[k]![e]!.map((c) => c.durationMs)), wallMs: stats(kept[k]![e]!.map((c) => c.wallMs)) })),
          peakRssMiB: peakRssMiB(runtime.pid),
          runtimeProcess: runtime,
          requests: requests[k]!,
        };
        return [s.key, warm];
      }),
    );
  } finally {
    for (const fn of running) await fn.stop();
  }
}
