import { DataAwsIamPolicyDocument } from '@cdktf/provider-aws/lib/data-aws-iam-policy-document/index.js';
import { EcrLifecyclePolicy } from '@cdktf/provider-aws/lib/ecr-lifecycle-policy/index.js';
import { EcrRepository } from '@cdktf/provider-aws/lib/ecr-repository/index.js';
import { EcrRepositoryPolicy } from '@cdktf/provider-aws/lib/ecr-repository-policy/index.js';
import type { AwsProvider } from '@cdktf/provider-aws/lib/provider/index.js';
import { Construct } from 'constructs';
import { KMS_KEY_ARN, matching, wholeNumber } from '../validators.js';

/** How many images a repository keeps by default: the newest ten, enough to roll back several deploys. */
export const DEFAULT_KEEP_IMAGES = 10;

/** ECR's rule for repository names (lowercase; "/" separates namespaces). */
const REPOSITORY_NAME = /^(?=.{2,256}$)[a-z0-9]+(?:[._-][a-z0-9]+)*(?:\/[a-z0-9]+(?:[._-][a-z0-9]+)*)*$/;

/** The repository an environment's function images are pushed to, by default: `<project>-<environment>-predict`. */
export function defaultImageRepositoryName(project: string, environment: string): string {
  return `${project}-${environment}-predict`;
}

/** The repository names the deploy role may push to: every environment's default name. */
export function imageRepositoryPattern(project: string): string {
  return `${project}-*-predict`;
}

/** The image URI a function deploys: the repository in `accountId`'s registry in `region`, at `tag`. */
export function imageUri(options: { readonly accountId: string; readonly region: string; readonly repositoryName: string; readonly tag: string }): string {
  const suffix = options.region.startsWith('cn-') ? 'amazonaws.com.cn' : 'amazonaws.com';
  return `${options.accountId}.dkr.ecr.${options.region}.${suffix}/${options.repositoryName}:${options.tag}`;
}

export interface ImageRepositoryProps {
  /** The repository's name (lowercase letters, digits, ".", "_", "-", "/" between namespaces). */
  readonly repositoryName: string;
  /**
   * How many images the lifecycle policy keeps, newest first; older ones are expired. A published function version
   * keeps working only while its image exists, so keep more than the versions you may roll back to.
   * @default DEFAULT_KEEP_IMAGES (10)
   */
  readonly keepImages?: number;
  /**
   * KMS key ARN that encrypts the images.
   * @default none: KMS with ECR's AWS-managed key (`aws/ecr`)
   */
  readonly kmsKeyArn?: string | undefined;
  /**
   * Function ARNs (wildcards allowed) whose Lambda service may pull the images, for the repository policy.
   * @default none: no repository policy (Lambda then needs the deployer to be allowed to set one)
   */
  readonly lambdaFunctionArns?: readonly string[];
  /**
   * The provider of the repository's region, when it is not the stack's default one.
   * @default the stack's default AWS provider
   */
  readonly provider?: AwsProvider;
}

/**
 * An ECR repository for a function's container images: tags are immutable (a tag is the build's content sha256, so it
 * names one image forever), every push is scanned, the lifecycle policy keeps the newest `keepImages` images, images
 * are encrypted with KMS, and a repository policy lets the Lambda service pull them for the listed functions only.
 */
export class ImageRepository extends Construct {
  readonly repository: EcrRepository;
  readonly keepImages: number;

  constructor(scope: Construct, id: string, props: ImageRepositoryProps) {
    super(scope, id);
    const name = matching(this, 'repositoryName', props.repositoryName, REPOSITORY_NAME, '2 to 256 lowercase letters, digits and ".", "_", "-" between them, "/" between namespaces');
    this.keepImages = wholeNumber(this, 'keepImages', props.keepImages ?? DEFAULT_KEEP_IMAGES, 1, 1000, 'images');
    const key = props.kmsKeyArn === undefined ? undefined : matching(this, 'kmsKeyArn', props.kmsKeyArn, KMS_KEY_ARN, 'a KMS key ARN (arn:aws:kms:<region>:<account>:key/<id>)');

    const provider = props.provider === undefined ? {} : { provider: props.provider };
    this.repository = new EcrRepository(this, 'repository', {
      ...provider,
      name,
      imageTagMutability: 'IMMUTABLE',
      imageScanningConfiguration: { scanOnPush: true },
      encryptionConfiguration: [{ encryptionType: 'KMS', ...(key === undefined ? {} : { kmsKey: key }) }],
    });
    new EcrLifecyclePolicy(this, 'lifecycle', {
      ...provider,
      repository: this.repository.name,
      policy: JSON.stringify({
        rules: [
          {
            rulePriority: 1,
            description: `Keep the newest ${this.keepImages} images`,
            selection: { tagStatus: 'any', countType: 'imageCountMoreThan', countNumber: this.keepImages },
            action: { type: 'expire' },
          },
        ],
      }),
    });
    const functions = props.lambdaFunctionArns ?? [];
    if (functions.length > 0) {
      const pull = new DataAwsIamPolicyDocument(this, 'lambda-pull', {
        ...provider,
        statement: [
          {
            sid: 'LambdaPull',
            effect: 'Allow',
            actions: ['ecr:BatchGetImage', 'ecr:GetDownloadUrlForLayer'],
            principals: [{ type: 'Service', identifiers: ['lambda.amazonaws.com'] }],
            condition: [{ test: 'StringLike', variable: 'aws:sourceArn', values: [...functions] }],
          },
        ],
      });
      new EcrRepositoryPolicy(this, 'policy', { ...provider, repository: this.repository.name, policy: pull.json });
    }
  }

  get name(): string {
    return this.repository.name;
  }

  get url(): string {
    return this.repository.repositoryUrl;
  }

  get arn(): string {
    return this.repository.arn;
  }
}
