/**
 * Linux control groups that hold the emulated function to Lambda's CPU share and memory limit for one memory size:
 * CPU quota = share x period (cgroup v2 `cpu.max`; v1 `cpu.cfs_quota_us` / `cpu.cfs_period_us`), memory limit = the
 * size (v2 `memory.max`; v1 `memory.limit_in_bytes`), no swap, and what the group used: peak memory (v2
 * `memory.peak`; v1 `memory.max_usage_in_bytes`) and out-of-memory kills (v2 `memory.events`; v1
 * `memory.oom_control`). Where neither version can be written (no root, a read-only mount), the caller runs
 * unthrottled and labels every figure with the reason this gives.
 *
 * The scheduler period: a quota is enforced per period, so with the default 100 ms a request of a few ms runs at
 * full speed until the period's quota is spent, and the next one then waits; percentiles then hide the throttling.
 * The period is therefore as short as the kernel allows for the share: the quota must be at least 1 ms, so the
 * period is max(1 ms, 1 ms / share).
 */
import { existsSync, mkdirSync, readFileSync, rmdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { MB } from '../../functions/contract/lambda-limits.js';

/** The kernel refuses a CFS quota or period under 1 ms. */
export const MIN_QUOTA_US = 1000;
export const MIN_PERIOD_US = 1000;

export interface CpuQuota {
  readonly periodUs: number;
  readonly quotaUs: number;
}

/** The shortest period whose quota for `share` CPUs is at least the kernel's 1 ms, and that quota. */
export function cpuQuota(share: number): CpuQuota {
  if (!(share > 0)) throw new RangeError(`a CPU share must be above 0; got ${share}`);
  const periodUs = Math.max(MIN_PERIOD_US, Math.ceil(MIN_QUOTA_US / share));
  return { periodUs, quotaUs: Math.max(MIN_QUOTA_US, Math.round(share * periodUs)) };
}

/** What the kernel's `cpu.stat` says the quota held back. */
export interface CpuThrottled {
  readonly periods: number;
  readonly ms: number;
}

/** One size's group: limits set, no process in it yet. */
export interface SizeGroup {
  /** Moves a process (and every thread of it) into the group; what it starts afterwards stays there. */
  place(pid: number): void;
  /** The most memory the group used, MB; undefined when the kernel does not say. */
  peakMemoryMb(): number | undefined;
  /** Processes the kernel's OOM killer killed in the group so far (0 where the kernel does not count them). */
  oomKills(): number;
  /** Scheduler periods in which the CPU quota ran out, and the time the group waited for the next, so far. */
  cpuThrottled(): CpuThrottled | undefined;
  /** Removes the group; its processes must have ended. Safe to call twice. */
  remove(): Promise<void>;
}

export interface ControlGroups {
  readonly mode: 'cgroup-v1' | 'cgroup-v2' | 'none';
  /** Why there is no throttling (mode "none"). */
  readonly reason?: string;
  /** A group for `memoryMb` with `quota`, named after `label` (default: the size); throws when the kernel refuses. */
  create(memoryMb: number, quota: CpuQuota, label?: string): SizeGroup;
}

export interface ControlGroupOptions {
  /** Where the cgroup file systems are mounted. @default '/sys/fs/cgroup' */
  readonly root?: string;
  /** The text of /proc/self/cgroup. @default read from /proc */
  readonly selfCgroup?: string;
  /** Names the groups apart from other runs'. @default process.pid */
  readonly tag?: string;
}

const PREFIX = 'onnx-lambda-tune';
/** The memory limit of the group that proves a hierarchy writable. */
const PROBE_MB = 128;

/** Removes an empty probe group at once (rmdir of an empty group does not wait). */
function rmdirProbe(group: SizeGroup): void {
  void group.remove().catch(() => undefined);
}

function write(file: string, value: string): void {
  writeFileSync(file, value);
}

function readNumber(file: string): number | undefined {
  try {
    const value = Number(readFileSync(file, 'utf8').trim());
    return Number.isFinite(value) ? value : undefined;
  } catch {
    return undefined;
  }
}

/** `key value` lines (memory.events, memory.oom_control): the value of `key`, or 0. */
function readKey(file: string, key: string): number {
  try {
    const line = readFileSync(file, 'utf8')
      .split('\n')
      .find((l) => l.startsWith(`${key} `));
    return line === undefined ? 0 : Number(line.slice(key.length + 1)) || 0;
  } catch {
    return 0;
  }
}

/** `cpu.stat`'s throttling counters: v2 gives the wait in µs, v1 in ns. */
function readThrottled(file: string, waitKey: 'throttled_usec' | 'throttled_time'): CpuThrottled | undefined {
  if (!existsSync(file)) return undefined;
  const wait = readKey(file, waitKey);
  return { periods: readKey(file, 'nr_throttled'), ms: waitKey === 'throttled_usec' ? wait / 1000 : wait / 1e6 };
}

async function removeDir(dir: string): Promise<void> {
  for (let attempt = 0; ; attempt++) {
    try {
      rmdirSync(dir);
      return;
    } catch (error) {
      const code = (error as NodeJS.ErrnoException).code;
      if (code === 'ENOENT') return;
      // EBUSY: a killed process has not left the group yet; anything else will not pass by waiting.
      if (code !== 'EBUSY' || attempt >= 50) throw new Error(`cannot remove the control group ${dir}: ${code ?? String(error)}; remove it with rmdir once its processes ended`, { cause: error });
      await sleep(100);
    }
  }
}

function once(remove: () => Promise<void>): () => Promise<void> {
  let removing: Promise<void> | undefined;
  return () => (removing ??= remove());
}

/** Each controller's path in /proc/self/cgroup: v1 lines `id:cpu,cpuacct:/path`, the v2 line `0::/path`. */
function ownPaths(selfCgroup: string): { readonly v1: ReadonlyMap<string, string>; readonly v2: string | undefined } {
  const v1 = new Map<string, string>();
  let v2: string | undefined;
  for (const line of selfCgroup.split('\n')) {
    const match = /^\d+:([^:]*):(.*)$/.exec(line.trim());
    if (match === null) continue;
    if (match[1] === '') v2 = match[2];
    else for (const controller of match[1]!.split(',')) v1.set(controller, match[2]!);
  }
  return { v1, v2 };
}

function v2Groups(root: string, tag: string): ControlGroups {
  // At the top level: a group with processes in it cannot pass controllers on to children (cgroup v2's "no internal
  // processes" rule), and the root is exempt from it.
  const controllers = readFileSync(path.join(root, 'cgroup.subtree_control'), 'utf8').split(/\s+/);
  const missing = ['cpu', 'memory'].filter((c) => !controllers.includes(c));
  if (missing.length > 0) write(path.join(root, 'cgroup.subtree_control'), missing.map((c) => `+${c}`).join(' '));
  return {
    mode: 'cgroup-v2',
    create(memoryMb, quota, label = String(memoryMb)) {
      const dir = path.join(root, `${PREFIX}-${tag}-${label}`);
      mkdirSync(dir);
      try {
        write(path.join(dir, 'cpu.max'), `${quota.quotaUs} ${quota.periodUs}`);
        write(path.join(dir, 'memory.max'), String(memoryMb * MB));
        if (existsSync(path.join(dir, 'memory.swap.max'))) write(path.join(dir, 'memory.swap.max'), '0');
      } catch (error) {
        rmdirSync(dir);
        throw error;
      }
      return {
        place: (pid) => write(path.join(dir, 'cgroup.procs'), String(pid)),
        peakMemoryMb: () => {
          const bytes = readNumber(path.join(dir, 'memory.peak'));
          return bytes === undefined ? undefined : bytes / MB;
        },
        oomKills: () => readKey(path.join(dir, 'memory.events'), 'oom_kill'),
        cpuThrottled: () => readThrottled(path.join(dir, 'cpu.stat'), 'throttled_usec'),
        remove: once(() => removeDir(dir)),
      };
    },
  };
}

function v1Groups(cpuRoot: string, memoryRoot: string, tag: string): ControlGroups {
  return {
    mode: 'cgroup-v1',
    create(memoryMb, quota, label = String(memoryMb)) {
      const name = `${PREFIX}-${tag}-${label}`;
      const cpu = path.join(cpuRoot, name);
      const memory = path.join(memoryRoot, name);
      mkdirSync(cpu);
      try {
        mkdirSync(memory);
      } catch (error) {
        rmdirSync(cpu);
        throw error;
      }
      try {
        write(path.join(cpu, 'cpu.cfs_period_us'), String(quota.periodUs));
        write(path.join(cpu, 'cpu.cfs_quota_us'), String(quota.quotaUs));
        write(path.join(memory, 'memory.limit_in_bytes'), String(memoryMb * MB));
        // Lambda has no swap: memory plus swap gets the same limit where the kernel accounts swap.
        if (existsSync(path.join(memory, 'memory.memsw.limit_in_bytes'))) write(path.join(memory, 'memory.memsw.limit_in_bytes'), String(memoryMb * MB));
        if (existsSync(path.join(memory, 'memory.swappiness'))) {
          try {
            write(path.join(memory, 'memory.swappiness'), '0');
          } catch {
            // some kernels refuse it under a parent with its own setting; the memsw limit above covers swap
          }
        }
      } catch (error) {
        rmdirSync(cpu);
        rmdirSync(memory);
        throw error;
      }
      return {
        place(pid) {
          write(path.join(cpu, 'cgroup.procs'), String(pid));
          write(path.join(memory, 'cgroup.procs'), String(pid));
        },
        peakMemoryMb: () => {
          const bytes = readNumber(path.join(memory, 'memory.max_usage_in_bytes'));
          return bytes === undefined ? undefined : bytes / MB;
        },
        oomKills: () => readKey(path.join(memory, 'memory.oom_control'), 'oom_kill'),
        cpuThrottled: () => readThrottled(path.join(cpu, 'cpu.stat'), 'throttled_time'),
        remove: once(async () => {
          await removeDir(cpu);
          await removeDir(memory);
        }),
      };
    },
  };
}

function unthrottled(reason: string): ControlGroups {
  return {
    mode: 'none',
    reason,
    create() {
      throw new Error(`no control group can be created: ${reason}`);
    },
  };
}

function errorText(error: unknown): string {
  const code = (error as NodeJS.ErrnoException | undefined)?.code;
  const message = error instanceof Error ? error.message : String(error);
  return code === 'EACCES' || code === 'EPERM' || code === 'EROFS' ? `${message} (run as root to throttle)` : message;
}

/**
 * Finds a writable cgroup hierarchy: v2 when `root` is a unified mount, else v1's cpu and memory controllers (new
 * groups go under this process's own group in each). Proves it by creating and removing a group; when that fails,
 * the result's mode is "none" and its reason says what failed.
 */
export function openControlGroups(options: ControlGroupOptions = {}): ControlGroups {
  const root = options.root ?? '/sys/fs/cgroup';
  const tag = options.tag ?? String(process.pid);
  let groups: ControlGroups;
  try {
    if (existsSync(path.join(root, 'cgroup.controllers'))) {
      const available = readFileSync(path.join(root, 'cgroup.controllers'), 'utf8').split(/\s+/);
      const absent = ['cpu', 'memory'].filter((c) => !available.includes(c));
      if (absent.length > 0) return unthrottled(`the cgroup v2 hierarchy at ${root} lacks the ${absent.join(' and ')} controller(s)`);
      groups = v2Groups(root, tag);
    } else {
      const selfCgroup = options.selfCgroup ?? readFileSync('/proc/self/cgroup', 'utf8');
      const own = ownPaths(selfCgroup);
      const mount = (controller: string, file: string) =>
        [path.join(root, controller), path.join(root, 'cpu,cpuacct')].find((dir) => existsSync(path.join(dir, file)));
      const cpuMount = mount('cpu', 'cpu.cfs_quota_us');
      const memoryMount = mount('memory', 'memory.limit_in_bytes');
      if (cpuMount === undefined || memoryMount === undefined) {
        return unthrottled(`no cgroup v2 hierarchy at ${root}, and no cgroup v1 ${cpuMount === undefined ? 'cpu' : 'memory'} controller under it`);
      }
      const cpuRoot = path.join(cpuMount, own.v1.get('cpu') ?? '/');
      const memoryRoot = path.join(memoryMount, own.v1.get('memory') ?? '/');
      groups = v1Groups(cpuRoot, memoryRoot, tag);
    }
    rmdirProbe(groups.create(PROBE_MB, cpuQuota(1), 'probe'));
  } catch (error) {
    return unthrottled(`cannot create a control group under ${root}: ${errorText(error)}`);
  }
  return groups;
}

