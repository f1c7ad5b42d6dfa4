import { writeFile } from 'node:fs/promises';
import path from 'node:path';
import test from 'ava';
import { DEFAULT_MEMORY_SIZES, parseTuneArgs } from '../../../commands/tune/args.js';
import { TunePayloadError, TuneUsageError } from '../../../commands/tune/errors.js';
import { findFloor } from '../../../commands/tune/floor.js';
import { eventFilePayload, repeatRows } from '../../../commands/tune/payload.js';
import { cpuQuota } from '../../../tools/tune/control-group.js';
import { tempDir } from '../../helpers/temp-dir.js';

test('memory sizes default to Lambda\'s common steps and parse sorted without duplicates', (t) => {
  t.deepEqual(parseTuneArgs([]).memorySizes, DEFAULT_MEMORY_SIZES);
  t.deepEqual(parseTuneArgs(['--memory', '3008,512, 1024,512']).memorySizes, [512, 1024, 3008]);
  t.deepEqual(parseTuneArgs(['--memory', '128,10240']).memorySizes, [128, 10_240]);
});

for (const bad of ['127', '10241', '512.5', '1e3', 'big', '512,,1024', '-512', '']) {
  test(`memory size ${JSON.stringify(bad)} is refused with the value and Lambda's range`, (t) => {
    const error = t.throws(() => parseTuneArgs([`--memory=${bad}`]), { instanceOf: TuneUsageError });
    t.regex(error.message, /^--memory is /);
    t.true(error.message.includes(JSON.stringify(bad)));
    t.regex(error.message, /whole number of MB from 128 to 10240/);
  });
}

test('the other flags are checked and named in their errors', (t) => {
  t.throws(() => parseTuneArgs(['--invocations', '0']), { message: /^--invocations is "0"; expected a whole number from 1/ });
  t.throws(() => parseTuneArgs(['--max-latency', 'soon']), { message: /^--max-latency is "soon"/ });
  t.throws(() => parseTuneArgs(['--timeout', '901']), { message: /^--timeout is "901"; expected a whole number from 1 to 900/ });
  t.throws(() => parseTuneArgs(['--function', 'f']), { message: /^--region is missing; expected --function and --region together/ });
  t.throws(() => parseTuneArgs(['--rows', '5', '--event', 'e.json']), { message: /^--rows is "5"; expected no --rows with --event/ });
  t.throws(() => parseTuneArgs(['--model', 'models/iris', '--build', 'dist']), { message: /either --model or --build/ });
  t.throws(() => parseTuneArgs(['--colour']), { message: /^--flags is "--colour"; expected known flags only/ });
  t.like(parseTuneArgs(['--max-latency', '25', '--rows', 'max', '--function', 'f', '--region', 'eu-west-1']), { maxLatencyMs: 25, rows: 'max', aws: { functionName: 'f', region: 'eu-west-1' } });
});

test('an event file that is not JSON is refused naming the file', async (t) => {
  const file = path.join(await tempDir(t, 'tune-event-'), 'event.json');
  await writeFile(file, '{"body": ');
  const error = t.throws(() => eventFilePayload(file), { instanceOf: TunePayloadError });
  t.true(error.message.startsWith(`--event ${file} is not JSON`));
  t.throws(() => eventFilePayload(`${file}.missing`), { message: /cannot be read/ });
});

test('golden rows repeat in order to make a larger request', (t) => {
  t.deepEqual(repeatRows(['a', 'b', 'c'], 7), ['a', 'b', 'c', 'a', 'b', 'c', 'a']);
});

test('the CPU period is as short as keeps the quota at the kernel\'s 1 ms', (t) => {
  // 512 MB: 0.2894 of a CPU; 1 ms / 0.2894 = 3455.1 µs, rounded up.
  t.deepEqual(cpuQuota(512 / 1769), { periodUs: 3456, quotaUs: 1000 });
  t.deepEqual(cpuQuota(128 / 1769), { periodUs: 13_821, quotaUs: 1000 });
  t.deepEqual(cpuQuota(1), { periodUs: 1000, quotaUs: 1000 });
  t.deepEqual(cpuQuota(3008 / 1769), { periodUs: 1000, quotaUs: 1700 });
});

test('the memory floor is found by binary search: the smallest size that completes', async (t) => {
  const sizes = [128, 256, 512, 1024, 1536, 2048, 3008];
  const tried: number[] = [];
  const result = await findFloor(sizes, async (memoryMb) => {
    tried.push(memoryMb);
    return { memoryMb, completes: memoryMb >= 1000 };
  });
  t.is(result.floorMb, 1024);
  t.deepEqual(tried, [1024, 256, 512]);
  t.is((await findFloor(sizes, async (memoryMb) => ({ memoryMb, completes: false }))).floorMb, null);
});
