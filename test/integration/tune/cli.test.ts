/** `npm run tune` refuses bad input before it builds or measures anything: exit 1, `tune: <message>` on stderr. */
import { writeFile } from 'node:fs/promises';
import path from 'node:path';
import test from 'ava';
import { runNpm } from '../../helpers/npm.js';
import { tempDir } from '../../helpers/temp-dir.js';

test('a memory size outside Lambda\'s range is refused naming the value', async (t) => {
  const run = await runNpm('tune', ['--memory', '512,64']);
  t.is(run.code, 1);
  t.regex(run.stderr, /^tune: --memory is "512,64"; expected memory sizes separated by commas, each a whole number of MB from 128 to 10240 \(Lambda's range\); "64" is not$/m);
});

test('a memory size that is not a whole MB is refused naming the value', async (t) => {
  const run = await runNpm('tune', ['--memory', '1536.5']);
  t.is(run.code, 1);
  t.regex(run.stderr, /^tune: --memory is "1536\.5"; .* "1536\.5" is not$/m);
});

test('an event file that is not JSON is refused naming the file', async (t) => {
  const file = path.join(await tempDir(t, 'tune-cli-'), 'event.txt');
  await writeFile(file, 'features=1,2,3,4');
  const run = await runNpm('tune', ['--event', file, '--memory', '512']);
  t.is(run.code, 1);
  t.true(run.stderr.includes(`tune: --event ${file} is not JSON`), run.stderr);
});

test('the AWS mode refuses to run without an explicit region, before it calls AWS', async (t) => {
  const run = await runNpm('tune', ['--function', 'predict'], { AWS_REGION: 'eu-west-1' });
  t.is(run.code, 1);
  t.regex(run.stderr, /^tune: --region is missing; expected --function and --region together for the AWS mode/m);
});

test('flags of one mode are refused in the other', async (t) => {
  const local = await runNpm('tune', ['--keep-versions']);
  t.is(local.code, 1);
  t.regex(local.stderr, /^tune: --keep-versions is true; expected the AWS mode \(--aws --environment <env>, or --function and --region\)/m);
  const aws = await runNpm('tune', ['--function', 'predict', '--region', 'eu-west-1', '--model', 'models/iris']);
  t.is(aws.code, 1);
  t.regex(aws.stderr, /^tune: --model is "models\/iris"; expected no --model in the AWS mode with --function/m);
});

test('the AWS mode refuses an environment infra/config.ts does not have, naming the ones it has, before it calls AWS', async (t) => {
  const run = await runNpm('tune', ['--aws', '--environment', 'staging']);
  t.is(run.code, 1);
  t.regex(run.stderr, /^tune: --environment is "staging"; expected one of the environments in infra\/config\.ts: dev, prod$/m);
});

test('--aws without --environment or --function is refused, naming what it needs', async (t) => {
  const run = await runNpm('tune', ['--aws', '--memory', '512']);
  t.is(run.code, 1);
  t.regex(run.stderr, /^tune: --environment is missing; expected with --aws, the environment whose deployed function to measure, e\.g\. --aws --environment dev --model iris/m);
});
