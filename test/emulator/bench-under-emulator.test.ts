import test from 'ava';
import { cp, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { buildFor } from '../../bench/artifact-sizes.js';
import { readBundle } from '../../bench/bench-data.js';
import { coldUnderEmulator, warmUnderEmulator } from '../../bench/under-emulator.js';
import { hostArch } from '../../tools/emulator.js';
import { stageArtifacts, type StagedArtifacts } from '../../tools/stage-artifacts.js';
import { MODELS } from '../helpers/function.js';

// The bench's events come from the project's own event builder (tools/http-api-event.ts): these runs simulate API
// Gateway rather than go through it.

const iris = readBundle(path.join(MODELS, 'iris'));
let staged: StagedArtifacts;
let work: string;

test.before(async () => {
  work = await mkdtemp(path.join(tmpdir(), 'bench-under-emulator-'));
  const built = await buildFor(hostArch(), path.join(work, 'dist'), iris.dir);
  staged = await stageArtifacts(built.outDir);
});

test.after.always(async () => {
  await staged?.remove();
  await rm(work, { recursive: true, force: true });
});

test.serial('the function, the naive function and the naive function writing as much log all answer warm invocations, and the function\'s EMF bytes are counted per size', async (t) => {
  const results = await warmUnderEmulator(staged, iris, [1, 100], 2, 8);
  t.deepEqual(
    results.map((r) => r.rows),
    [1, 100],
  );
  for (const r of results) {
    t.is(r.function.duration.n, 8);
    t.is(r.naive.duration.n, 8);
    t.is(r.naiveLogged.duration.n, 8);
    t.true(r.function.duration.p50 > 0 && r.naive.duration.p50 > 0);
    t.true(r.function.billed.p50 >= 1 && Number.isInteger(r.function.billed.p50));
    // The caller's round trip encloses the invocation RIE times, call by call, so their medians keep that order.
    t.true(r.function.wall.p50 >= r.function.duration.p50, `wall ${r.function.wall.p50} ms, REPORT Duration ${r.function.duration.p50} ms`);
  }
  t.true(results[0]!.emfBytes > 100, `${results[0]!.emfBytes} bytes of EMF for one row`);
  t.true(results[1]!.emfBytes > results[0]!.emfBytes);
});

test.serial('a cold start is measured for both, with the emulator\'s INIT REPORT', async (t) => {
  const cold = await coldUnderEmulator(staged, iris, 1);
  t.is(cold.handlerFirst.n, 1);
  t.is(cold.floorFirst.n, 1);
  t.true(cold.handlerInit.p50 > 0 && cold.floorInit.p50 > 0);
  t.true(cold.handlerFirst.p50 >= cold.handlerInit.p50);
});

test.serial('an answer that differs from golden.json fails the measurement', async (t) => {
  const dir = path.join(work, 'wrong-golden');
  await cp(iris.dir, dir, { recursive: true });
  const golden = JSON.parse(await readFile(path.join(dir, 'golden.json'), 'utf8')) as { outputs: number[][] };
  golden.outputs[0]![0]! += 0.01;
  await writeFile(path.join(dir, 'golden.json'), JSON.stringify(golden));
  await t.throwsAsync(() => warmUnderEmulator(staged, readBundle(dir), [1], 0, 4), { message: /^wrong prediction: .*function under the emulator on iris: row 0 value 0/ });
});
