/**
 * Lambda's `REPORT RequestId: …` log line, the one record of what an invocation was billed: the AWS mode of
 * `npm run tune` reads it from the log tail an Invoke with `LogType: Tail` returns. Lambda separates the fields with
 * tabs, but copies of it (the CLI's decoded tail, consoles) use spaces, and AWS's Runtime Interface Emulator prints
 * Init Duration before Duration: fields are found by name, in any order, whatever separates them.
 */

export interface ReportLine {
  readonly requestId: string;
  readonly durationMs: number;
  readonly billedMs: number;
  readonly memorySizeMb: number;
  readonly maxMemoryUsedMb: number;
  /** Only on the invocation that started the execution environment (a cold start). */
  readonly initMs?: number;
  /** "Status: timeout" / "Status: error" on the lines of failed invocations, where Lambda writes it. */
  readonly status?: string;
  /** "Error Type: Runtime.OutOfMemory" and the like, where Lambda writes it. */
  readonly errorType?: string;
}

const NUMBER = String.raw`(\d+(?:\.\d+)?)`;
const FIELDS = {
  // Duration alone: not Billed, Init or Restore Duration (a letter and a space before it).
  durationMs: new RegExp(String.raw`(?<![A-Za-z] )Duration:\s*${NUMBER}\s*ms`),
  billedMs: new RegExp(String.raw`Billed Duration:\s*${NUMBER}\s*ms`),
  memorySizeMb: new RegExp(String.raw`Memory Size:\s*${NUMBER}\s*MB`),
  maxMemoryUsedMb: new RegExp(String.raw`Max Memory Used:\s*${NUMBER}\s*MB`),
} as const;
const INIT = new RegExp(String.raw`Init Duration:\s*${NUMBER}\s*ms`);
const STATUS = /Status:\s*(\w+)/;
const ERROR_TYPE = /Error Type:\s*([\w.]+)/;
/** X-Ray's fields share the line ("XRAY TraceId: … SegmentId: … Sampled: true"): cut them off before reading "Status". */
const XRAY = /\s+XRAY TraceId:.*$/;

/** The REPORT line's figures, or undefined when `line` is not a complete REPORT line. */
export function parseReportLine(line: string): ReportLine | undefined {
  const requestId = /^REPORT RequestId:\s*(\S+)/.exec(line.trim())?.[1];
  if (requestId === undefined) return undefined;
  const body = line.slice(line.indexOf(requestId) + requestId.length).replace(XRAY, '');
  const figures: Record<string, number> = {};
  for (const [field, pattern] of Object.entries(FIELDS)) {
    const value = pattern.exec(body)?.[1];
    if (value === undefined) return undefined;
    figures[field] = Number(value);
  }
  const init = INIT.exec(body)?.[1];
  const status = STATUS.exec(body)?.[1];
  const errorType = ERROR_TYPE.exec(body)?.[1];
  return {
    requestId,
    durationMs: figures['durationMs'] as number,
    billedMs: figures['billedMs'] as number,
    memorySizeMb: figures['memorySizeMb'] as number,
    maxMemoryUsedMb: figures['maxMemoryUsedMb'] as number,
    ...(init === undefined ? {} : { initMs: Number(init) }),
    ...(status === undefined ? {} : { status }),
    ...(errorType === undefined ? {} : { errorType }),
  };
}

/** The last REPORT line in a log (a tail holds one per invocation, the last one being the invocation's own). */
export function findReportLine(log: string): ReportLine | undefined {
  const lines = log.split('\n');
  for (let i = lines.length - 1; i >= 0; i -= 1) {
    const report = parseReportLine(lines[i] as string);
    if (report !== undefined) return report;
  }
  return undefined;
}
