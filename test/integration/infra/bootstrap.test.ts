import test from 'ava';
import { DEFAULT_CONFIG, type GitHubConfig } from '../../../infra/config.js';
import { BootstrapStack, DEPLOY_SESSION_SECONDS } from '../../../infra/stacks/bootstrap-stack.js';
import { all, one, ref, statementsBySid, synth, testApp, type Json } from '../../helpers/infra-synth.js';

function synthBootstrap(github: Partial<GitHubConfig> = {}): Json {
  const stack = new BootstrapStack(testApp(), 'bootstrap', {
    project: 'onnx-lambda',
    state: { bucket: 'acme-onnx-state', region: 'eu-west-1' },
    github: { ...DEFAULT_CONFIG.github, repository: 'acme/onnx-lambda-kit', branch: 'main', ...github },
    environments: ['dev', 'prod'],
  });
  return synth(stack);
}

function document(out: Json, fragment: string): Json {
  const documents = out['data']['aws_iam_policy_document'] as Record<string, Json>;
  return documents[Object.keys(documents).find((id) => id.includes(fragment))!]!;
}

test('creates the state bucket under its configured name, versioned', (t) => {
  const out = synthBootstrap();
  t.is(one(out, 'aws_s3_bucket')['bucket'], 'acme-onnx-state');
  t.is(one(out, 'aws_s3_bucket_versioning')['versioning_configuration']['status'], 'Enabled');
});

test('keeps the state bucket private, encrypted and TLS-only', (t) => {
  const out = synthBootstrap();
  t.is(one(out, 'aws_s3_bucket_public_access_block')['restrict_public_buckets'], true);
  t.is(one(out, 'aws_s3_bucket_server_side_encryption_configuration')['rule'][0]['apply_server_side_encryption_by_default']['sse_algorithm'], 'AES256');
  t.is(statementsBySid(document(out, 'tls-only'))['DenyInsecureTransport']!['effect'], 'Deny');
});

test('keeps its own state locally, in the project root', (t) => {
  t.deepEqual(synthBootstrap()['terraform']['backend'], { local: { path: '../../../terraform.bootstrap.tfstate' } });
});

test('creates GitHub\'s OIDC provider for STS', (t) => {
  const provider = one(synthBootstrap(), 'aws_iam_openid_connect_provider');
  t.is(provider['url'], 'https://token.actions.githubusercontent.com');
  t.deepEqual(provider['client_id_list'], ['sts.amazonaws.com']);
});

test('refers to an existing OIDC provider instead when told to', (t) => {
  const out = synthBootstrap({ createOidcProvider: false });
  t.deepEqual(all(out, 'aws_iam_openid_connect_provider'), []);
  t.is(one(out, 'aws_iam_openid_connect_provider', 'data')['url'], 'https://token.actions.githubusercontent.com');
});

test('lets only workflows of the repository on the branch, or in its environments, assume the deploy role', (t) => {
  const out = synthBootstrap();
  const [statement] = document(out, 'deploy-trust')['statement'] as Json[];
  t.deepEqual(statement!['actions'], ['sts:AssumeRoleWithWebIdentity']);
  t.deepEqual(statement!['principals'], [{ type: 'Federated', identifiers: [ref(out, 'aws_iam_openid_connect_provider', 'arn')] }]);
  t.deepEqual(statement!['condition'], [
    { test: 'StringEquals', variable: 'token.actions.githubusercontent.com:aud', values: ['sts.amazonaws.com'] },
    {
      test: 'StringEquals',
      variable: 'token.actions.githubusercontent.com:sub',
      values: ['repo:acme/onnx-lambda-kit:ref:refs/heads/main', 'repo:acme/onnx-lambda-kit:environment:dev', 'repo:acme/onnx-lambda-kit:environment:prod'],
    },
  ]);
  t.is(one(out, 'aws_iam_role')['name'], 'onnx-lambda-github-deploy');
  t.is(one(out, 'aws_iam_role')['max_session_duration'], DEPLOY_SESSION_SECONDS);
  t.is(DEPLOY_SESSION_SECONDS, 10800, 'the longest session a workflow asks for (promote.yml, 3 h)');
});

test('lets the deploy role read and write only this project\'s state objects', (t) => {
  const out = synthBootstrap();
  const statements = statementsBySid(document(out, 'deploy-permissions'));
  t.deepEqual(statements['StateObjects']!['resources'], [`${ref(out, 'aws_s3_bucket', 'arn')}/onnx-lambda/*`]);
});

test('lets the deploy role manage only this project\'s functions and layers', (t) => {
  const functions = statementsBySid(document(synthBootstrap(), 'deploy-permissions'))['Functions']!;
  t.true((functions['resources'] as string[]).every((arn) => /:(function:onnx-lambda-\*-predict|layer:onnx-lambda-\*-onnxruntime)(:\*)?$/.test(arn)));
});

test('lets the deploy role pass function roles to Lambda only, and not touch its own role', (t) => {
  const statements = statementsBySid(document(synthBootstrap(), 'deploy-permissions'));
  const pass = statements['PassFunctionRoles']!;
  t.deepEqual(pass['condition'], [{ test: 'StringEquals', variable: 'iam:PassedToService', values: ['lambda.amazonaws.com'] }]);
  const rolePattern = new RegExp(`^${(statements['FunctionRoles']!['resources'] as string[])[0]!.split(':role/')[1]!.replace(/\*/g, '.*')}$`);
  t.false(rolePattern.test('onnx-lambda-github-deploy'));
  t.true(rolePattern.test('onnx-lambda-dev-predict'));
});

test('outputs the state bucket and the deploy role for the workflows', (t) => {
  const out = synthBootstrap();
  t.is(out['output']['state_bucket']['value'], ref(out, 'aws_s3_bucket', 'bucket'));
  t.is(out['output']['deploy_role_arn']['value'], ref(out, 'aws_iam_role', 'arn'));
});

test('lets the deploy role list this account\'s alarms, and grants no restrictable action on every resource', (t) => {
  const statements = statementsBySid(document(synthBootstrap(), 'deploy-permissions'));
  t.deepEqual(statements['ListAlarms']!['actions'], ['cloudwatch:DescribeAlarms']);
  t.deepEqual(statements['ListAlarms']!['resources'], ['arn:${data.aws_partition.partition.partition}:cloudwatch:*:${data.aws_caller_identity.account.account_id}:alarm:*']);
  t.false((statements['Unscoped']!['actions'] as string[]).includes('cloudwatch:DescribeAlarms'));
});

test('gives the state bucket a lifecycle configuration on the bucket itself, after versioning', (t) => {
  const out = synthBootstrap();
  const lifecycle = one(out, 'aws_s3_bucket_lifecycle_configuration');
  t.is(lifecycle['bucket'], ref(out, 'aws_s3_bucket', 'id'));
  t.deepEqual(lifecycle['depends_on'], [`aws_s3_bucket_versioning.${Object.keys(out['resource']['aws_s3_bucket_versioning'])[0]}`]);
});

test('lets the deploy role manage only this project\'s alarm topics and the keys tagged with the project', (t) => {
  const statements = statementsBySid(document(synthBootstrap(), 'deploy-permissions'));
  t.deepEqual(statements['AlarmTopics']!['resources'], ['arn:${data.aws_partition.partition.partition}:sns:*:${data.aws_caller_identity.account.account_id}:onnx-lambda-*-alarms']);
  t.deepEqual(statements['AlarmTopicKeyCreate']!['condition'], [{ test: 'StringEquals', variable: 'aws:RequestTag/Project', values: ['onnx-lambda'] }]);
  t.deepEqual(statements['AlarmTopicKeys']!['condition'], [{ test: 'StringEquals', variable: 'aws:ResourceTag/Project', values: ['onnx-lambda'] }]);
  t.false((statements['AlarmTopicKeys']!['actions'] as string[]).some((action) => action === 'kms:*' || action.startsWith('kms:Decrypt')), 'manages the key, never uses it');
});

test('lets the deploy role change scaling only of Lambda provisioned concurrency', (t) => {
  const statements = statementsBySid(document(synthBootstrap(), 'deploy-permissions'));
  const scaling = statements['ProvisionedConcurrencyScaling']!;
  t.true((scaling['actions'] as string[]).every((action) => action.startsWith('application-autoscaling:')));
  t.true((scaling['actions'] as string[]).includes('application-autoscaling:RegisterScalableTarget'), 'the apply registers the target; the rollout suspends and resumes it');
  t.deepEqual(scaling['condition'], [
    { test: 'StringEquals', variable: 'application-autoscaling:service-namespace', values: ['lambda'] },
    { test: 'StringEquals', variable: 'application-autoscaling:scalable-dimension', values: ['lambda:function:ProvisionedConcurrency'] },
  ]);
  t.true((statements['Unscoped']!['actions'] as string[]).includes('application-autoscaling:DescribeScalableTargets'));
});

test('lets the deploy role create only the service-linked role of Lambda scaling', (t) => {
  const linked = statementsBySid(document(synthBootstrap(), 'deploy-permissions'))['ScalingServiceLinkedRole']!;
  t.deepEqual(linked['actions'], ['iam:CreateServiceLinkedRole']);
  t.regex((linked['resources'] as string[])[0]!, /:role\/aws-service-role\/lambda\.application-autoscaling\.amazonaws\.com\/AWSServiceRoleForApplicationAutoScaling_LambdaConcurrency$/);
  t.deepEqual(linked['condition'], [{ test: 'StringEquals', variable: 'iam:AWSServiceName', values: ['lambda.application-autoscaling.amazonaws.com'] }]);
});

test('lets the deploy role write the alarms target tracking creates for this project\'s aliases', (t) => {
  const resources = statementsBySid(document(synthBootstrap(), 'deploy-permissions'))['AlarmsAndDashboards']!['resources'] as string[];
  t.true(resources.some((arn) => arn.endsWith(':alarm:TargetTracking-function:onnx-lambda-*-predict:*')), resources.join(', '));
});
