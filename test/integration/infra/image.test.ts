// Container images in the infrastructure: the ECR repository construct, an InferenceFunction that runs an image, the
// service stack for an image build, the bootstrap stack's repositories and push permissions, and the build record's
// image section.
import test from 'ava';
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { BUILD_RECORD_FILE } from '../../../functions/contract/build-record.js';
import { readBuildRecord } from '../../../infra/build-record.js';
import { DEFAULT_CONFIG, validateAppConfig } from '../../../infra/config.js';
import { ImageRepository, type ImageRepositoryProps } from '../../../infra/constructs/image-repository.js';
import { InferenceFunction } from '../../../infra/constructs/inference-function.js';
import { SettingError } from '../../../infra/errors.js';
import { imageTarget } from '../../../infra/image-target.js';
import { BootstrapStack, bootstrapProps } from '../../../infra/stacks/bootstrap-stack.js';
import { all, buildDist, constructStack, deployableBuild, editedDist, environment, one, serviceStack, statementsBySid, synth, testApp, type Json } from '../../helpers/infra-synth.js';

let imageDist = '';
let zipDist = '';
let tag = '';
test.before(async () => {
  [imageDist, zipDist] = await Promise.all([buildDist(['--package', 'image']), buildDist()]);
  tag = (JSON.parse(await readFile(path.join(imageDist, BUILD_RECORD_FILE), 'utf8')) as Json)['image']['sha256'] as string;
});

const uri = (t: string) => `123456789012.dkr.ecr.eu-west-1.amazonaws.com/onnx-lambda-dev-predict:${t}`;

function synthRepository(props: Partial<ImageRepositoryProps> = {}): Json {
  const stack = constructStack();
  new ImageRepository(stack, 'images', { repositoryName: 'onnx-lambda-dev-predict', lambdaFunctionArns: ['arn:aws:lambda:eu-west-1:123456789012:function:onnx-lambda-dev-predict'], ...props });
  return synth(stack);
}

test('the image repository has immutable tags, scans every push and encrypts with KMS', (t) => {
  const repository = one(synthRepository(), 'aws_ecr_repository');
  t.is(repository['name'], 'onnx-lambda-dev-predict');
  t.is(repository['image_tag_mutability'], 'IMMUTABLE');
  t.deepEqual(repository['image_scanning_configuration'], { scan_on_push: true });
  t.deepEqual(repository['encryption_configuration'], [{ encryption_type: 'KMS' }]);
});

test('the image repository encrypts with the configured KMS key when there is one', (t) => {
  const key = 'arn:aws:kms:eu-west-1:123456789012:key/0a1b2c3d-0000-1111-2222-333344445555';
  t.deepEqual(one(synthRepository({ kmsKeyArn: key }), 'aws_ecr_repository')['encryption_configuration'], [{ encryption_type: 'KMS', kms_key: key }]);
});

test('the lifecycle policy keeps the newest 10 images by default, or the configured count', (t) => {
  const rules = (out: Json) => (JSON.parse(one(out, 'aws_ecr_lifecycle_policy')['policy'] as string) as Json)['rules'] as Json[];
  t.deepEqual(rules(synthRepository()), [
    { rulePriority: 1, description: 'Keep the newest 10 images', selection: { tagStatus: 'any', countType: 'imageCountMoreThan', countNumber: 10 }, action: { type: 'expire' } },
  ]);
  t.is(rules(synthRepository({ keepImages: 3 }))[0]!['selection']['countNumber'], 3);
});

test('only the Lambda service, for the named function, may pull from the repository', (t) => {
  const out = synthRepository();
  const statement = statementsBySid(one(out, 'aws_iam_policy_document', 'data'))['LambdaPull']!;
  t.deepEqual(statement['actions'], ['ecr:BatchGetImage', 'ecr:GetDownloadUrlForLayer']);
  t.deepEqual(statement['principals'], [{ type: 'Service', identifiers: ['lambda.amazonaws.com'] }]);
  t.deepEqual(statement['condition'], [{ test: 'StringLike', variable: 'aws:sourceArn', values: ['arn:aws:lambda:eu-west-1:123456789012:function:onnx-lambda-dev-predict'] }]);
});

test('the image repository refuses a keep count or a name ECR would not take', (t) => {
  t.throws(() => synthRepository({ keepImages: 0 }), { instanceOf: SettingError, message: /test\/images: keepImages is 0; allowed: a whole number of images from 1 to 1000/ });
  t.throws(() => synthRepository({ repositoryName: 'Onnx_Dev' }), { instanceOf: SettingError, message: /test\/images: repositoryName is "Onnx_Dev"; allowed: 2 to 256 lowercase letters/ });
});

function synthImageFunction(props: { imageUri?: string; layers?: string[] } = {}): Json {
  const stack = constructStack();
  new InferenceFunction(stack, 'fn', { build: deployableBuild(imageDist), functionName: 'onnx-test-predict', imageUri: uri(tag), ...props });
  return synth(stack);
}

test('an image build deploys a function with package type Image at the build\'s tag, without handler, runtime, zip or layers', (t) => {
  const fn = one(synthImageFunction(), 'aws_lambda_function');
  t.is(fn['package_type'], 'Image');
  t.is(fn['image_uri'], uri(tag));
  t.deepEqual(fn['architectures'], ['arm64']);
  for (const absent of ['handler', 'runtime', 'filename', 'source_code_hash', 'layers']) t.is(fn[absent], undefined, absent);
  t.is(fn['publish'], true);
  t.is(fn['ephemeral_storage']['size'], 512);
});

test('an image function refuses a missing image URI, another tag, or layers', (t) => {
  t.throws(() => synthImageFunction({ imageUri: undefined as unknown as string }), { instanceOf: SettingError, message: new RegExp(`imageUri is unset; allowed: the image's URI in ECR, tagged ${tag}`) });
  t.throws(() => synthImageFunction({ imageUri: uri('0'.repeat(64)) }), { instanceOf: SettingError, message: new RegExp(`allowed: a tag of "${tag}", build.json's image.sha256`) });
  t.throws(() => synthImageFunction({ imageUri: 'public.ecr.aws/lambda/nodejs:24' }), { instanceOf: SettingError, message: /an ECR image tagged by content sha256/ });
  t.throws(() => synthImageFunction({ layers: ['arn:aws:lambda:eu-west-1:123456789012:layer:x:1'] }), { instanceOf: SettingError, message: /layers is .*; allowed: none: Lambda attaches no layers to a container image/ });
});

test('an image function refuses a layer added after construction', (t) => {
  const stack = constructStack();
  const fn = new InferenceFunction(stack, 'fn', { build: deployableBuild(imageDist), functionName: 'onnx-test-predict', imageUri: uri(tag) });
  t.throws(() => fn.addLayer('arn:aws:lambda:eu-west-1:123456789012:layer:x:1'), { instanceOf: SettingError, message: /test\/fn: layers is ".*"; allowed: no layers: Lambda attaches none to a container image/ });
});

test('a zip build refuses an image URI', (t) => {
  const stack = constructStack();
  t.throws(() => new InferenceFunction(stack, 'fn', { build: deployableBuild(zipDist), functionName: 'onnx-test-predict', imageUri: uri(tag) }), {
    instanceOf: SettingError,
    message: /imageUri is ".*"; allowed: unset, because build.json packages a function zip/,
  });
});

test('the service stack of an image build runs the image from the environment\'s repository and publishes no layer', (t) => {
  const out = synth(serviceStack(environment(imageDist)));
  const fn = one(out, 'aws_lambda_function');
  t.is(fn['package_type'], 'Image');
  t.is(fn['image_uri'], `123456789012.dkr.ecr.us-east-1.amazonaws.com/onnx-lambda-dev-predict:${tag}`);
  t.deepEqual(all(out, 'aws_lambda_layer_version'), []);
  t.deepEqual(all(out, 'aws_ecr_repository'), [], 'the repository is the bootstrap stack\'s');
  t.is(out['output']['image_uri']['value'], fn['image_uri']);
});

test('an environment\'s image repository name and keep count come from its config', (t) => {
  const out = synth(serviceStack(environment(imageDist, { image: { repositoryName: 'team/iris-images' } })));
  t.is(one(out, 'aws_lambda_function')['image_uri'], `123456789012.dkr.ecr.us-east-1.amazonaws.com/team/iris-images:${tag}`);
});

test('two environments may not share an image repository', (t) => {
  const [dev, prod] = DEFAULT_CONFIG.environments;
  t.throws(() => validateAppConfig({ ...DEFAULT_CONFIG, environments: [{ ...dev!, image: { repositoryName: 'shared' } }, { ...prod!, image: { repositoryName: 'shared' } }] }), {
    message: /environments\[prod\]: image.repositoryName is "shared"; allowed: a repository used by one environment only/,
  });
});

test('the bootstrap stack creates each environment\'s repository and lets the deploy role push to exactly those', (t) => {
  const out = synth(new BootstrapStack(testApp(), 'bootstrap', bootstrapProps(DEFAULT_CONFIG)));
  const repositories = all(out, 'aws_ecr_repository');
  t.deepEqual(repositories.map((r) => r['name']).sort(), ['onnx-lambda-dev-predict', 'onnx-lambda-prod-predict']);
  t.is(all(out, 'aws_ecr_lifecycle_policy').length, 2);
  const documents = out['data']['aws_iam_policy_document'] as Record<string, Json>;
  const deploy = statementsBySid(documents[Object.keys(documents).find((id) => id.includes('deploy-permissions'))!]!);
  t.deepEqual(deploy['ImageRegistryLogin']!['actions'], ['ecr:GetAuthorizationToken']);
  const resources = deploy['ImagePush']!['resources'] as string[];
  t.is(resources.length, 2);
  t.true(resources.every((r) => /^\$\{aws_ecr_repository\.images-(dev|prod)_repository_[0-9A-F]{8}\.arn\}$/.test(r)), resources.join(', '));
  t.true((deploy['ImagePush']!['actions'] as string[]).includes('ecr:PutImage'));
  t.truthy(out['output']['image_repository_url_dev']);
});

test('the build record of an image build is read with its context, platform and tag', (t) => {
  const build = readBuildRecord(imageDist, { arch: 'arm64', runtime: 'nodejs24.x', where: 'test' });
  t.is(build.model.packaging, 'image');
  t.is(build.functionZip, undefined);
  t.is(build.image?.sha256, tag);
  t.is(build.image?.platform, 'linux/arm64');
  t.is(build.image?.context, path.join(imageDist, 'image'));
  t.is(build.image?.baseImage, 'public.ecr.aws/lambda/nodejs:24');
});

test('an image build record whose files do not add up to its tag is refused as edited or stale', async (t) => {
  const edited = await editedDist(imageDist, (json) => {
    json['image']['context'] = path.join(imageDist, 'image');
    json['image']['files'][0]['sha256'] = 'f'.repeat(64);
  });
  const error = t.throws(() => readBuildRecord(edited, { arch: 'arm64', runtime: 'nodejs24.x', where: 'test' }));
  t.regex(error?.message ?? '', /image\.sha256 is "[0-9a-f]{64}"; allowed: "[0-9a-f]{64}", the sha256 of the files build\.json lists; build\.json was edited or is stale/);
});

test('the deploy workflow\'s image target names the registry, repository, tag and context synth deploys', (t) => {
  const config = { ...DEFAULT_CONFIG, environments: DEFAULT_CONFIG.environments.map((e) => ({ ...e, distDir: imageDist })) };
  t.deepEqual(imageTarget(config, 'prod'), {
    packaging: 'image',
    registry: '123456789012.dkr.ecr.us-east-1.amazonaws.com',
    repository: 'onnx-lambda-prod-predict',
    tag,
    image_uri: `123456789012.dkr.ecr.us-east-1.amazonaws.com/onnx-lambda-prod-predict:${tag}`,
    context: path.join(imageDist, 'image'),
    platform: 'linux/arm64',
    base_image: 'public.ecr.aws/lambda/nodejs:24',
  });
});

test('the image target of a zip build says only its packaging, and an unknown environment is refused', (t) => {
  const config = { ...DEFAULT_CONFIG, environments: DEFAULT_CONFIG.environments.map((e) => ({ ...e, distDir: zipDist })) };
  t.deepEqual(imageTarget(config, 'dev'), { packaging: 'zip' });
  t.throws(() => imageTarget(config, 'staging'), { message: 'environment "staging" is not in infra/config.ts; use one of dev, prod' });
});
