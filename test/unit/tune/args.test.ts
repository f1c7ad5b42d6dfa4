import { writeFile } from 'node:fs/promises';
import path from 'node:path';
import test from 'ava';
import { DEFAULT_MEMORY_SIZES, parseTuneArgs } from '../../../commands/tune/args.js';
import { DEFAULT_CONFIG, validateAppConfig } from '../../../infra/config.js';
import { ROOT } from '../../helpers/function.js';
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

/** dev lists two models, one with a bundle and memory of its own; prod lists none. */
const [DEV, PROD] = DEFAULT_CONFIG.environments;
const CONFIG = validateAppConfig({
  ...DEFAULT_CONFIG,
  environments: [{ ...DEV!, region: 'eu-west-1', models: [{ name: 'iris' }, { name: 'fraud', bundle: 'models/fraud-v2', memorySizeMb: 2048 }] }, PROD!],
});
const config = () => CONFIG;

test('the AWS mode takes the function and region of --environment\'s model, and its build\'s golden rows', (t) => {
  const options = parseTuneArgs(['--aws', '--environment', 'dev', '--model', 'fraud', '--keep-versions'], config);
  t.deepEqual(options.aws, { functionName: 'onnx-lambda-dev-fraud-predict', region: 'eu-west-1', keepVersions: true });
  t.is(options.build, path.join(ROOT, 'dist', 'fraud'));
  t.is(options.model, undefined);
  t.deepEqual(options.deployment, { label: 'dev/fraud', memorySizeMb: 2048 });
  t.is(parseTuneArgs(['--aws', '--environment', 'dev', '--model', 'iris', '--build', 'elsewhere'], config).build, 'elsewhere');
});

test('an environment without a models list gives the AWS mode its own function and region', (t) => {
  const options = parseTuneArgs(['--aws', '--environment', 'prod'], config);
  t.deepEqual(options.aws, { functionName: 'onnx-lambda-prod-predict', region: 'us-east-1', keepVersions: false });
  t.deepEqual(options.deployment, { label: 'prod', memorySizeMb: PROD!.memorySizeMb });
});

test('without --aws, --environment and --model measure the model\'s bundle locally', (t) => {
  const options = parseTuneArgs(['--environment', 'dev', '--model', 'fraud'], config);
  t.is(options.aws, undefined);
  t.is(options.model, path.join(ROOT, 'models', 'fraud-v2'));
  t.deepEqual(options.deployment, { label: 'dev/fraud', memorySizeMb: 2048 });
  t.is(parseTuneArgs(['--environment', 'dev', '--model', 'iris'], config).model, path.join(ROOT, 'models', 'iris'));
  t.is(parseTuneArgs(['--environment', 'prod'], config).model, undefined, 'the single model: the default bundle');
});

test('the configuration is read only with --environment', (t) => {
  t.is(parseTuneArgs(['--model', 'models/iris'], () => t.fail('the configuration was read') as never).model, 'models/iris');
});

const REFUSED_TARGETS: readonly { readonly what: string; readonly argv: readonly string[]; readonly message: string | RegExp }[] = [
  { what: 'an unknown environment, with the choices', argv: ['--aws', '--environment', 'staging'], message: '--environment is "staging"; expected one of the environments in infra/config.ts: dev, prod' },
  { what: 'an unknown model, with the choices', argv: ['--environment', 'dev', '--model', 'models/iris'], message: '--model is "models/iris"; expected one of the models environment dev serves (infra/config.ts): iris, fraud' },
  { what: 'a missing --model where the environment lists several', argv: ['--aws', '--environment', 'dev'], message: '--model is missing; expected one of the models environment dev serves (infra/config.ts): iris, fraud' },
  { what: '--aws without an environment or function', argv: ['--aws'], message: /^--environment is missing; expected with --aws, the environment whose deployed function to measure/ },
  { what: '--environment with --function', argv: ['--aws', '--environment', 'dev', '--function', 'f'], message: /^--function is "f"; expected either --environment .* or --function and --region, not both/ },
  { what: '--environment with --region', argv: ['--environment', 'dev', '--region', 'eu-west-1'], message: /^--region is "eu-west-1"; expected either --environment/ },
  { what: '--floor in the AWS mode', argv: ['--aws', '--environment', 'prod', '--floor'], message: /^--floor is true; expected no --floor in the AWS mode/ },
  { what: '--keep-versions without --aws', argv: ['--environment', 'prod', '--keep-versions'], message: /^--keep-versions is true; expected the AWS mode \(--aws --environment <env>/ },
  { what: 'a local --model beside --build', argv: ['--environment', 'dev', '--model', 'iris', '--build', 'dist'], message: /^--build is "dist"; expected either --model \(its bundle from infra\/config\.ts\) or --build/ },
];

for (const { what, argv, message } of REFUSED_TARGETS) {
  test(`refuses ${what}`, (t) => {
    t.throws(() => parseTuneArgs(argv, config), { instanceOf: TuneUsageError, message });
  });
}
