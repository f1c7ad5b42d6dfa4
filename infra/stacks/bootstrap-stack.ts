import { DataAwsCallerIdentity } from '@cdktf/provider-aws/lib/data-aws-caller-identity/index.js';
import { DataAwsIamOpenidConnectProvider } from '@cdktf/provider-aws/lib/data-aws-iam-openid-connect-provider/index.js';
import { DataAwsIamPolicyDocument, type DataAwsIamPolicyDocumentStatement } from '@cdktf/provider-aws/lib/data-aws-iam-policy-document/index.js';
import { DataAwsPartition } from '@cdktf/provider-aws/lib/data-aws-partition/index.js';
import { IamOpenidConnectProvider } from '@cdktf/provider-aws/lib/iam-openid-connect-provider/index.js';
import { IamRole } from '@cdktf/provider-aws/lib/iam-role/index.js';
import { IamRolePolicy } from '@cdktf/provider-aws/lib/iam-role-policy/index.js';
import { AwsProvider } from '@cdktf/provider-aws/lib/provider/index.js';
import { LocalBackend, TerraformOutput, TerraformStack } from 'cdktf';
import type { Construct } from 'constructs';
import { DEPLOY_ROLE_SUFFIX, LAMBDA_SCALING, projectPatterns } from '../../functions/contract/aws-names.js';
import { skipCheck } from '../checkov.js';
import { deploymentNames, imageSettings, modelDeployments, type AppConfig, type GitHubConfig, type ResolvedImageSettings } from '../config.js';
import { ImageRepository } from '../constructs/image-repository.js';
import { SecureBucket } from '../constructs/secure-bucket.js';

export interface BootstrapStackProps {
  /** Prefix of every resource name; the deploy role may manage only resources under it. */
  readonly project: string;
  /** The state bucket to create, and its region. */
  readonly state: AppConfig['state'];
  /** Which repository and branch may assume the deploy role. */
  readonly github: GitHubConfig;
  /**
   * GitHub environments (one per service stack) whose jobs may assume the deploy role: the deploy and promote
   * workflows run in `environment: <name>` so that prod can require a reviewer.
   * @default none: only jobs without an environment, on the branch
   */
  readonly environments?: readonly string[] | undefined;
  /**
   * One ECR repository per environment, for its container images (ImageRepository). Created here, not in the
   * service stacks, because the deploy workflow pushes an image before `cdktf deploy` creates the function that runs
   * it; the deploy role may push to exactly these repositories.
   * @default none
   */
  readonly imageRepositories?: readonly BootstrapImageRepository[] | undefined;
  /**
   * The KMS keys of the environments' capture pipelines (`capture.kmsKeyArn`): creating a Firehose stream encrypted
   * with a customer-managed key makes Firehose create a grant on it with the caller's permissions.
   * @default none
   */
  readonly captureKeyArns?: readonly string[] | undefined;
}

/** An environment's image repository, as the bootstrap stack creates it. */
export interface BootstrapImageRepository extends ResolvedImageSettings {
  readonly environment: string;
  /** The environment's region: an image must be in the function's region. */
  readonly region: string;
  /** The functions whose Lambda service may pull the images (all their versions): one per model of the environment. */
  readonly functionNames: readonly string[];
}

/** The bootstrap stack's props for a configuration: its environments, and an image repository for each. */
export function bootstrapProps(config: AppConfig): BootstrapStackProps {
  return {
    project: config.project,
    state: config.state,
    github: config.github,
    environments: config.environments.map((env) => env.name),
    imageRepositories: config.environments.map((env) => ({
      ...imageSettings(config.project, env),
      environment: env.name,
      region: env.region,
      functionNames: modelDeployments(env).map((model) => deploymentNames(config.project, env.name, model).functionName),
    })),
    captureKeyArns: [...new Set(config.environments.flatMap((env) => (env.capture?.kmsKeyArn === undefined ? [] : [env.capture.kmsKeyArn])))],
  };
}

/**
 * The deploy role's longest session. The workflows ask for sessions as long as their jobs (role-duration-seconds):
 * deploy.yml 2 h (apply, then a rollout of 2 observed steps x 900 s plus 30 min around them), promote.yml 3 h (its
 * budget check refuses steps and intervals whose observation exceeds 140 min); each workflow shows the arithmetic.
 */
export const DEPLOY_SESSION_SECONDS = 3 * 3600;

/** The services the capture pipeline's roles are passed to: Firehose, and CloudWatch Logs for the subscription filters. */
const CAPTURE_ROLE_SERVICES = ['firehose.amazonaws.com', 'logs.amazonaws.com', 'logs.*.amazonaws.com'];

/** The service principal of Application Auto Scaling's service-linked role for Lambda. */
const LAMBDA_SCALING_SERVICE = 'lambda.application-autoscaling.amazonaws.com';

const GITHUB_OIDC_URL = 'https://token.actions.githubusercontent.com';
const GITHUB_OIDC_HOST = 'token.actions.githubusercontent.com';

/**
 * What must exist before the service stacks can be deployed, applied once per account by a person: the Terraform
 * state bucket (the service stacks' S3 backend, locking with S3 lock files), GitHub's OIDC provider, and a deploy
 * role that only workflows of one repository on one branch can assume, allowed to manage only this project's
 * resources. Its own state is local (`terraform.bootstrap.tfstate` in the project root), as the bucket it would
 * live in is what it creates.
 */
export class BootstrapStack extends TerraformStack {
  constructor(scope: Construct, id: string, props: BootstrapStackProps) {
    super(scope, id);
    const { project, github } = props;
    new AwsProvider(this, 'aws', { region: props.state.region, defaultTags: [{ tags: { Project: project, ManagedBy: 'cdktf' } }] });
    // Relative to the stack's working directory (cdktf.out/stacks/bootstrap): the project root, kept across syntheses.
    new LocalBackend(this, { path: '../../../terraform.bootstrap.tfstate' });

    const state = new SecureBucket(this, 'state', { bucketName: props.state.bucket, noncurrentVersionsToKeep: 50 });
    skipCheck(state.bucket, 'CKV_AWS_18', 'Only the deploy role (StateObjects, one key prefix) and the administrators who apply the bootstrap reach the state; server access logs would need a second, itself unlogged bucket here, and CloudTrail S3 data events on this bucket are the audit trail of who read or wrote state');
    skipCheck(state.bucket, 'CKV2_AWS_62', 'Nothing reacts to state writes: Terraform reads the state itself and locks with S3 lock files (use_lockfile), not with notifications');
    skipCheck(state.bucket, 'CKV_AWS_144', 'Every service stack is single-region; when the state\'s region is out, deploys wait but the deployed service keeps serving, and versioning (50 noncurrent versions kept) covers overwritten or deleted state; replication would add a second bucket, region and role to the bootstrap');
    skipCheck(state.bucket, 'CKV_AWS_145', 'SSE-S3: the state holds ARNs, names and non-secret Lambda settings (the stacks create no passwords or keys), the bucket is private and TLS-only, and only the deploy role may read it; a customer-managed key would add a key policy and per-request cost without protecting anything those controls do not');

    const oidcArn = github.createOidcProvider
      ? new IamOpenidConnectProvider(this, 'github-oidc', {
          url: GITHUB_OIDC_URL,
          clientIdList: ['sts.amazonaws.com'],
          // No thumbprint_list: AWS trusts GitHub's certificate authority for this provider and ignores thumbprints.
        }).arn
      : new DataAwsIamOpenidConnectProvider(this, 'github-oidc', { url: GITHUB_OIDC_URL }).arn;

    const trust = new DataAwsIamPolicyDocument(this, 'deploy-trust', {
      statement: [
        {
          effect: 'Allow',
          actions: ['sts:AssumeRoleWithWebIdentity'],
          principals: [{ type: 'Federated', identifiers: [oidcArn] }],
          condition: [
            { test: 'StringEquals', variable: `${GITHUB_OIDC_HOST}:aud`, values: ['sts.amazonaws.com'] },
            // One repository: its branch, or a job in one of its GitHub environments. A job with `environment:`
            // presents repo:<owner>/<name>:environment:<env>, which carries no branch, so each GitHub environment
            // must allow deployments from that branch only (README "CI/CD").
            {
              test: 'StringEquals',
              variable: `${GITHUB_OIDC_HOST}:sub`,
              values: [`repo:${github.repository}:ref:refs/heads/${github.branch}`, ...(props.environments ?? []).map((env) => `repo:${github.repository}:environment:${env}`)],
            },
          ],
        },
      ],
    });
    const role = new IamRole(this, 'deploy-role', {
      name: `${project}-${DEPLOY_ROLE_SUFFIX}`,
      description: `Deploys ${project} from ${github.repository}@${github.branch} (GitHub Actions OIDC)`,
      assumeRolePolicy: trust.json,
      maxSessionDuration: DEPLOY_SESSION_SECONDS,
    });

    const account = new DataAwsCallerIdentity(this, 'account').accountId;
    const partition = new DataAwsPartition(this, 'partition').partition;
    // ECR is regional and an image must be in its function's region: a provider per region other than the state's.
    const providers = new Map<string, AwsProvider>();
    const repositories = (props.imageRepositories ?? []).map((settings) => {
      let provider = settings.region === props.state.region ? undefined : providers.get(settings.region);
      if (settings.region !== props.state.region && provider === undefined) {
        provider = new AwsProvider(this, `aws-${settings.region}`, { alias: settings.region, region: settings.region, defaultTags: [{ tags: { Project: project, ManagedBy: 'cdktf' } }] });
        providers.set(settings.region, provider);
      }
      const functionArns = settings.functionNames.map((name) => `arn:${partition}:lambda:${settings.region}:${account}:function:${name}`);
      return new ImageRepository(this, `images-${settings.environment}`, {
        repositoryName: settings.repositoryName,
        keepImages: settings.keepImages,
        kmsKeyArn: settings.kmsKeyArn,
        lambdaFunctionArns: functionArns.flatMap((arn) => [arn, `${arn}:*`]),
        ...(provider === undefined ? {} : { provider }),
      });
    });
    const permissions = new DataAwsIamPolicyDocument(this, 'deploy-permissions', {
      statement: deployStatements(projectPatterns(project), {
        account,
        partition,
        stateBucketArn: state.arn,
        imageRepositoryArns: repositories.map((r) => r.arn),
        captureKeyArns: props.captureKeyArns ?? [],
      }),
    });
    new IamRolePolicy(this, 'deploy-policy', { name: 'deploy', role: role.id, policy: permissions.json });

    new TerraformOutput(this, 'state_bucket', { value: state.name, description: 'Terraform state bucket of the service stacks' });
    new TerraformOutput(this, 'deploy_role_arn', { value: role.arn, description: 'Role the deploy workflow assumes (aws-actions/configure-aws-credentials role-to-assume)' });
    new TerraformOutput(this, 'oidc_provider_arn', { value: oidcArn, description: 'GitHub Actions OIDC provider' });
    for (const [i, repository] of repositories.entries()) {
      const environment = props.imageRepositories?.[i]?.environment ?? String(i);
      new TerraformOutput(this, `image_repository_url_${environment}`, { value: repository.url, description: `ECR repository of the ${environment} environment's container images` });
    }
  }
}

/**
 * What `cdktf deploy` and the rollout need, scoped by name to this project's resources where the service supports
 * resource-level permissions. Function roles are matched by their `-predict` suffix, so the deploy role cannot edit
 * its own policy.
 */
function deployStatements(
  names: ReturnType<typeof projectPatterns>,
  context: {
    readonly account: string;
    readonly partition: string;
    readonly stateBucketArn: string;
    readonly imageRepositoryArns: readonly string[];
    readonly captureKeyArns: readonly string[];
  },
): DataAwsIamPolicyDocumentStatement[] {
  const { account, partition } = context;
  const arn = (service: string, region: string, resource: string) => `arn:${partition}:${service}:${region}:${account}:${resource}`;
  const images: DataAwsIamPolicyDocumentStatement[] =
    context.imageRepositoryArns.length === 0
      ? []
      : [
          // docker login: ECR issues registry tokens per account, not per repository.
          { sid: 'ImageRegistryLogin', effect: 'Allow', actions: ['ecr:GetAuthorizationToken'], resources: ['*'] },
          {
            // Push an image, find whether its tag exists, and let `cdktf deploy` point a function at it (Lambda checks
            // that the caller can read the image).
            sid: 'ImagePush',
            effect: 'Allow',
            actions: [
              'ecr:BatchCheckLayerAvailability', 'ecr:InitiateLayerUpload', 'ecr:UploadLayerPart', 'ecr:CompleteLayerUpload', 'ecr:PutImage',
              'ecr:BatchGetImage', 'ecr:GetDownloadUrlForLayer', 'ecr:DescribeImages', 'ecr:DescribeRepositories',
            ],
            resources: [...context.imageRepositoryArns],
          },
        ];
  const roleActions = [
    'iam:CreateRole', 'iam:DeleteRole', 'iam:GetRole', 'iam:UpdateRole', 'iam:UpdateAssumeRolePolicy', 'iam:TagRole', 'iam:UntagRole',
    'iam:ListRoleTags', 'iam:PutRolePolicy', 'iam:GetRolePolicy', 'iam:DeleteRolePolicy', 'iam:ListRolePolicies',
    'iam:ListAttachedRolePolicies', 'iam:ListInstanceProfilesForRole',
  ];
  const captureKeys: DataAwsIamPolicyDocumentStatement[] =
    context.captureKeyArns.length === 0
      ? []
      : [
          {
            // A stream encrypted with a customer-managed key: Firehose creates its grant with the caller's permissions.
            sid: 'CaptureStreamKeys',
            effect: 'Allow',
            actions: ['kms:CreateGrant', 'kms:DescribeKey'],
            resources: [...context.captureKeyArns],
            condition: [{ test: 'Bool', variable: 'kms:GrantIsForAWSResource', values: ['true'] }],
          },
        ];
  return [
    ...images,
    { sid: 'StateList', effect: 'Allow', actions: ['s3:ListBucket'], resources: [context.stateBucketArn] },
    {
      sid: 'StateObjects',
      effect: 'Allow',
      actions: ['s3:GetObject', 's3:PutObject', 's3:DeleteObject'],
      resources: [`${context.stateBucketArn}/${names.stateKeys}`],
    },
    {
      sid: 'Functions',
      effect: 'Allow',
      actions: ['lambda:*'],
      resources: [
        arn('lambda', '*', `function:${names.functions}`),
        arn('lambda', '*', `function:${names.functions}:*`),
        arn('lambda', '*', `layer:${names.layers}`),
        arn('lambda', '*', `layer:${names.layers}:*`),
      ],
    },
    {
      sid: 'HttpApis',
      effect: 'Allow',
      actions: ['apigateway:GET', 'apigateway:POST', 'apigateway:PUT', 'apigateway:PATCH', 'apigateway:DELETE'],
      resources: [`arn:${partition}:apigateway:*::/apis`, `arn:${partition}:apigateway:*::/apis/*`, `arn:${partition}:apigateway:*::/tags/*`],
    },
    {
      sid: 'LogGroups',
      effect: 'Allow',
      actions: ['logs:*'],
      resources: [
        arn('logs', '*', `log-group:${names.lambdaLogGroups}`),
        arn('logs', '*', `log-group:${names.lambdaLogGroups}:*`),
        arn('logs', '*', `log-group:${names.apiLogGroups}`),
        arn('logs', '*', `log-group:${names.apiLogGroups}:*`),
        arn('logs', '*', `log-group:${names.firehoseLogGroups}`),
        arn('logs', '*', `log-group:${names.firehoseLogGroups}:*`),
      ],
    },
    {
      sid: 'ModelBuckets',
      effect: 'Allow',
      actions: ['s3:*'],
      resources: [`arn:${partition}:s3:::${names.modelBuckets}`, `arn:${partition}:s3:::${names.modelBuckets}/*`],
    },
    {
      sid: 'FunctionRoles',
      effect: 'Allow',
      actions: roleActions,
      resources: [`arn:${partition}:iam::${account}:role/${names.functionRoles}`],
    },
    {
      sid: 'PassFunctionRoles',
      effect: 'Allow',
      actions: ['iam:PassRole'],
      resources: [`arn:${partition}:iam::${account}:role/${names.functionRoles}`],
      condition: [{ test: 'StringEquals', variable: 'iam:PassedToService', values: ['lambda.amazonaws.com'] }],
    },
    {
      // The capture bucket's configuration. No object actions: the captures hold clients' inputs, and deploying never
      // reads them.
      sid: 'CaptureBuckets',
      effect: 'Allow',
      actions: ['s3:*'],
      resources: [`arn:${partition}:s3:::${names.captureBuckets}`],
    },
    {
      sid: 'CaptureStreams',
      effect: 'Allow',
      actions: [
        'firehose:CreateDeliveryStream', 'firehose:DeleteDeliveryStream', 'firehose:DescribeDeliveryStream', 'firehose:UpdateDestination',
        'firehose:StartDeliveryStreamEncryption', 'firehose:StopDeliveryStreamEncryption', 'firehose:TagDeliveryStream',
        'firehose:UntagDeliveryStream', 'firehose:ListTagsForDeliveryStream',
      ],
      resources: [arn('firehose', '*', `deliverystream/${names.captureStreams}`)],
    },
    ...captureKeys,
    {
      sid: 'CaptureRoles',
      effect: 'Allow',
      actions: roleActions,
      resources: [`arn:${partition}:iam::${account}:role/${names.captureRoles}`],
    },
    {
      // Firehose's delivery role to Firehose, the subscription filters' role to CloudWatch Logs (PutSubscriptionFilter
      // passes it), neither to anything else.
      sid: 'PassCaptureRoles',
      effect: 'Allow',
      actions: ['iam:PassRole'],
      resources: [`arn:${partition}:iam::${account}:role/${names.captureRoles}`],
      condition: [{ test: 'StringLike', variable: 'iam:PassedToService', values: CAPTURE_ROLE_SERVICES }],
    },
    {
      sid: 'AlarmsAndDashboards',
      effect: 'Allow',
      actions: [
        'cloudwatch:PutMetricAlarm', 'cloudwatch:DeleteAlarms', 'cloudwatch:ListTagsForResource',
        'cloudwatch:TagResource', 'cloudwatch:UntagResource', 'cloudwatch:PutDashboard', 'cloudwatch:GetDashboard', 'cloudwatch:DeleteDashboards',
      ],
      resources: [
        arn('cloudwatch', '*', `alarm:${names.alarms}`),
        // Target tracking creates and deletes its alarms with the caller's permissions (PutScalingPolicy).
        arn('cloudwatch', '*', `alarm:${names.targetTrackingAlarms}`),
        `arn:${partition}:cloudwatch::${account}:dashboard/${names.dashboards}`,
      ],
    },
    {
      // Provisioned-concurrency scaling: the apply registers the alias's scalable target, its policy and schedules;
      // the rollout suspends and resumes it. Scalable-target ARNs carry a generated id, not the function's name, so
      // the conditions limit these calls to Lambda provisioned concurrency (the service's own condition keys).
      sid: 'ProvisionedConcurrencyScaling',
      effect: 'Allow',
      actions: [
        'application-autoscaling:RegisterScalableTarget', 'application-autoscaling:DeregisterScalableTarget',
        'application-autoscaling:PutScalingPolicy', 'application-autoscaling:DeleteScalingPolicy',
        'application-autoscaling:PutScheduledAction', 'application-autoscaling:DeleteScheduledAction',
      ],
      resources: [arn('application-autoscaling', '*', 'scalable-target/*')],
      condition: [
        { test: 'StringEquals', variable: 'application-autoscaling:service-namespace', values: [LAMBDA_SCALING.serviceNamespace] },
        { test: 'StringEquals', variable: 'application-autoscaling:scalable-dimension', values: [LAMBDA_SCALING.scalableDimension] },
      ],
    },
    {
      // The provider's default tags on the scalable target; tags grant nothing here (no policy reads them).
      sid: 'ScalableTargetTags',
      effect: 'Allow',
      actions: ['application-autoscaling:TagResource', 'application-autoscaling:UntagResource', 'application-autoscaling:ListTagsForResource'],
      resources: [arn('application-autoscaling', '*', 'scalable-target/*')],
    },
    {
      // The first Lambda scalable target of an account creates Application Auto Scaling's service-linked role for
      // Lambda; nothing else may be created this way.
      sid: 'ScalingServiceLinkedRole',
      effect: 'Allow',
      actions: ['iam:CreateServiceLinkedRole'],
      resources: [`arn:${partition}:iam::${account}:role/aws-service-role/${LAMBDA_SCALING_SERVICE}/AWSServiceRoleForApplicationAutoScaling_LambdaConcurrency`],
      condition: [{ test: 'StringEquals', variable: 'iam:AWSServiceName', values: [LAMBDA_SCALING_SERVICE] }],
    },
    {
      sid: 'AlarmTopics',
      effect: 'Allow',
      actions: ['sns:*'],
      resources: [arn('sns', '*', names.alarmTopics)],
    },
    {
      // The alarm topic's key. KMS names no key before it exists, so creation is allowed only with the project's tag
      // (the provider's default tags), and every later call only on keys that carry it.
      sid: 'AlarmTopicKeyCreate',
      effect: 'Allow',
      actions: ['kms:CreateKey', 'kms:TagResource'],
      resources: ['*'],
      condition: [{ test: 'StringEquals', variable: 'aws:RequestTag/Project', values: [names.project] }],
    },
    {
      sid: 'AlarmTopicKeys',
      effect: 'Allow',
      actions: [
        'kms:DescribeKey', 'kms:GetKeyPolicy', 'kms:PutKeyPolicy', 'kms:GetKeyRotationStatus', 'kms:EnableKeyRotation',
        'kms:ListResourceTags', 'kms:TagResource', 'kms:UntagResource', 'kms:UpdateKeyDescription', 'kms:ScheduleKeyDeletion',
      ],
      resources: [arn('kms', '*', 'key/*')],
      condition: [{ test: 'StringEquals', variable: 'aws:ResourceTag/Project', values: [names.project] }],
    },
    {
      // The rollout lists alarms by name prefix (DescribeAlarms(AlarmNamePrefix)), which CloudWatch authorizes
      // against every alarm of the account, not per name: read-only, and limited to this account.
      sid: 'ListAlarms',
      effect: 'Allow',
      actions: ['cloudwatch:DescribeAlarms'],
      resources: [arn('cloudwatch', '*', 'alarm:*')],
    },
    {
      // Reads and the API Gateway access-log delivery calls, which IAM does not scope to resources.
      sid: 'Unscoped',
      effect: 'Allow',
      actions: [
        'cloudwatch:GetMetricData', 'logs:DescribeLogGroups', 'lambda:GetAccountSettings', 'lambda:ListLayers',
        'application-autoscaling:DescribeScalableTargets', 'application-autoscaling:DescribeScalingPolicies',
        'application-autoscaling:DescribeScheduledActions', 'application-autoscaling:DescribeScalingActivities',
        'lambda:ListLayerVersions', 'logs:CreateLogDelivery', 'logs:GetLogDelivery', 'logs:UpdateLogDelivery', 'logs:DeleteLogDelivery',
        'logs:ListLogDeliveries', 'logs:PutResourcePolicy', 'logs:DescribeResourcePolicies',
      ],
      resources: ['*'],
    },
  ];
}
