import path from 'node:path';
import test from 'ava';
import { loadConfig } from '../../../functions/predict/config.js';
import { ConfigError } from '../../../functions/predict/errors.js';

const ROOT = '/var/task';
const SHA = 'a'.repeat(64);

function load(env: Record<string, string | undefined> = {}) {
  return loadConfig({ LAMBDA_TASK_ROOT: ROOT, ...env });
}

function configError(t: import('ava').ExecutionContext, env: Record<string, string | undefined>, variable: string): ConfigError {
  const error = t.throws(() => load(env), { instanceOf: ConfigError });
  t.is(error.variable, variable);
  t.true(error.message.startsWith(`${variable}: `), error.message);
  return error;
}

test('defaults to the packaged model under the task root: model.onnx, or the build\'s model.ort where there is none', (t) => {
  const config = load();
  t.is(config.modelDir, '/var/task/model');
  t.deepEqual(config.artifact, { kind: 'bundle', file: '/var/task/model/model.onnx', fallback: '/var/task/model/model.ort' });
});

test('MODEL_FILE names the one file to load, with nothing to fall back on', (t) => {
  t.deepEqual(load({ MODEL_FILE: 'model.ort' }).artifact, { kind: 'bundle', file: '/var/task/model/model.ort' });
});

test('defaults everything else', (t) => {
  const { modelDir: _dir, artifact: _artifact, ...rest } = load();
  t.deepEqual(rest, {
    modelSha256: undefined,
    downloadDir: '/tmp',
    metricsNamespace: 'OnnxLambda',
    functionName: 'local',
    functionVersion: '$LATEST',
    intraOpThreads: 1,
    logLevel: 'info',
    maxRequestElements: 4_194_304,
    download: {},
    xrayDaemonAddress: undefined,
    captureSampleRate: 0,
  });
});

test('takes the X-Ray daemon address Lambda sets, and the capture sampling rate', (t) => {
  t.like(load({ AWS_XRAY_DAEMON_ADDRESS: '169.254.79.129:2000', CAPTURE_SAMPLE_RATE: '0.05' }), { xrayDaemonAddress: '169.254.79.129:2000', captureSampleRate: 0.05 });
  t.is(load({ CAPTURE_SAMPLE_RATE: '1' }).captureSampleRate, 1);
});

for (const bad of ['1.5', '-0.1', 'half', '5%', 'NaN']) {
  test(`refuses CAPTURE_SAMPLE_RATE ${bad}, naming the variable and the fix`, (t) => {
    t.throws(() => load({ CAPTURE_SAMPLE_RATE: bad }), { message: new RegExp(`CAPTURE_SAMPLE_RATE: got "${bad.replace('.', '\\.')}"; set the share of requests to capture, a number from 0 to 1`) });
  });
}

test('derives the request element cap from the function memory, one value per 256 bytes, unless MAX_REQUEST_ELEMENTS is set', (t) => {
  t.is(load({ AWS_LAMBDA_FUNCTION_MEMORY_SIZE: '128' }).maxRequestElements, 524_288);
  t.is(load({ AWS_LAMBDA_FUNCTION_MEMORY_SIZE: '10240' }).maxRequestElements, 41_943_040);
  t.is(load({ AWS_LAMBDA_FUNCTION_MEMORY_SIZE: '128', MAX_REQUEST_ELEMENTS: '1000' }).maxRequestElements, 1000);
  t.throws(() => load({ MAX_REQUEST_ELEMENTS: '0' }), { message: /MAX_REQUEST_ELEMENTS: got "0"; set a whole number from 1 to 2147483648/ });
});

test('takes the packaged model file from MODEL_FILE, relative to the model folder', (t) => {
  t.deepEqual(load({ MODEL_FILE: 'resnet.onnx' }).artifact, { kind: 'bundle', file: '/var/task/model/resnet.onnx' });
});

test('resolves the model folder against the working directory without a task root', (t) => {
  t.is(loadConfig({}).modelDir, path.resolve(process.cwd(), 'model'));
});

test('resolves a relative MODEL_DIR against LAMBDA_TASK_ROOT', (t) => {
  t.is(load({ MODEL_DIR: 'models/iris' }).modelDir, '/var/task/models/iris');
});

test('keeps an absolute MODEL_DIR', (t) => {
  t.is(load({ MODEL_DIR: '/opt/model' }).modelDir, '/opt/model');
});

test('reads the model from S3 when MODEL_BUCKET and MODEL_KEY are set', (t) => {
  t.deepEqual(load({ MODEL_BUCKET: 'models', MODEL_KEY: 'iris/1/model.onnx', MODEL_VERSION_ID: 'v1' }).artifact, {
    kind: 's3',
    bucket: 'models',
    key: 'iris/1/model.onnx',
    versionId: 'v1',
  });
});

test('leaves the S3 version id undefined when unset', (t) => {
  t.like(load({ MODEL_BUCKET: 'models', MODEL_KEY: 'k' }).artifact, { kind: 's3', versionId: undefined });
});

test('names MODEL_KEY when MODEL_BUCKET is set without it', (t) => {
  configError(t, { MODEL_BUCKET: 'models' }, 'MODEL_KEY');
});

test('names MODEL_BUCKET when MODEL_KEY is set without it', (t) => {
  configError(t, { MODEL_KEY: 'iris/model.onnx' }, 'MODEL_BUCKET');
});

test('treats a blank MODEL_KEY as missing', (t) => {
  configError(t, { MODEL_BUCKET: 'models', MODEL_KEY: '  ' }, 'MODEL_KEY');
});

test('names MODEL_VERSION_ID set without an S3 model', (t) => {
  configError(t, { MODEL_VERSION_ID: 'v1' }, 'MODEL_VERSION_ID');
});

test('accepts a MODEL_SHA256 of 64 hex digits and lower-cases it', (t) => {
  t.is(load({ MODEL_SHA256: 'AB'.repeat(32) }).modelSha256, 'ab'.repeat(32));
});

test('names a MODEL_SHA256 that is too short', (t) => {
  const error = configError(t, { MODEL_SHA256: 'abc123' }, 'MODEL_SHA256');
  t.true(error.message.includes('"abc123"'));
});

test('names a MODEL_SHA256 with non-hex digits', (t) => {
  configError(t, { MODEL_SHA256: `${SHA.slice(1)}g` }, 'MODEL_SHA256');
});

test('reads ORT_INTRA_OP_THREADS', (t) => {
  t.is(load({ ORT_INTRA_OP_THREADS: '4' }).intraOpThreads, 4);
});

for (const value of ['0', '-1', '1.5', 'two', '65']) {
  test(`names ORT_INTRA_OP_THREADS set to "${value}"`, (t) => {
    const error = configError(t, { ORT_INTRA_OP_THREADS: value }, 'ORT_INTRA_OP_THREADS');
    t.true(error.message.includes(`"${value}"`));
  });
}

test('reads LOG_LEVEL case-insensitively', (t) => {
  t.is(load({ LOG_LEVEL: 'DEBUG' }).logLevel, 'debug');
});

test('names a bad LOG_LEVEL and lists the levels', (t) => {
  const error = configError(t, { LOG_LEVEL: 'verbose' }, 'LOG_LEVEL');
  t.true(error.message.includes('debug, info, warn, error'));
});

test('reads the function identity, namespace and download folder', (t) => {
  t.like(
    load({ AWS_LAMBDA_FUNCTION_NAME: 'predict', AWS_LAMBDA_FUNCTION_VERSION: '12', METRICS_NAMESPACE: 'Team/Models', MODEL_DOWNLOAD_DIR: '/mnt/models' }),
    { functionName: 'predict', functionVersion: '12', metricsNamespace: 'Team/Models', downloadDir: '/mnt/models' },
  );
});

test('treats blank variables as unset', (t) => {
  t.like(load({ METRICS_NAMESPACE: ' ', LOG_LEVEL: '', ORT_INTRA_OP_THREADS: '' }), { metricsNamespace: 'OnnxLambda', logLevel: 'info', intraOpThreads: 1 });
});

test('returns a frozen configuration', (t) => {
  const config = load();
  t.true(Object.isFrozen(config));
  t.throws(() => {
    (config as { logLevel: string }).logLevel = 'debug';
  }, { instanceOf: TypeError });
});

test('takes bounds on the S3 download from MODEL_S3_* and names a bad one', (t) => {
  t.deepEqual(load({ MODEL_S3_CONNECT_TIMEOUT_MS: '500', MODEL_S3_MAX_ATTEMPTS: '4' }).download, { connectTimeoutMs: 500, maxAttempts: 4 });
  t.throws(() => load({ MODEL_S3_IDLE_TIMEOUT_MS: '5s' }), { message: /MODEL_S3_IDLE_TIMEOUT_MS: got "5s"/ });
});
