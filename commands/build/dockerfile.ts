/**
 * The Dockerfile of a container-image build (`npm run build -- --package image`): AWS's Lambda base image for Node.js,
 * which brings the runtime and its interface client, plus the files the build staged under `rootfs/`. Nothing runs
 * inside the image build (no RUN): everything is already built for the target architecture, so the image builds the
 * same on any machine and needs no emulation for another architecture.
 */
import { HANDLER, type Runtime } from '../../functions/contract/build-record.js';

/** AWS's Lambda base images for Node.js (https://gallery.ecr.aws/lambda/nodejs), tagged by Node major. */
export const LAMBDA_NODE_BASE_REPOSITORY = 'public.ecr.aws/lambda/nodejs';

/** The context folder the image's file tree sits in; the Dockerfile copies `rootfs/var/task/` to the task root. */
export const IMAGE_ROOTFS = 'rootfs';

/** The folder Lambda's base images use as the task root (LAMBDA_TASK_ROOT), as a path inside `rootfs/`. */
export const IMAGE_TASK_ROOT = 'var/task';

/** The build argument that names the base image; the deploy workflow sets it to the tag pinned to the digest it resolved. */
export const BASE_IMAGE_ARG = 'BASE_IMAGE';

/**
 * The base image for a Lambda runtime, by tag (`nodejs24.x` is `public.ecr.aws/lambda/nodejs:24`). Not pinned by
 * digest: none could be verified from a source here (docs/BUILD-AND-DEPLOY.md "Container images" says how the
 * workflow pins and records it instead).
 */
export function baseImageFor(runtime: Runtime): string {
  const major = /^nodejs(\d+)\.x$/.exec(runtime)?.[1];
  if (major === undefined) throw new Error(`runtime ${runtime} has no Lambda Node.js base image; use a nodejs<major>.x runtime`);
  return `${LAMBDA_NODE_BASE_REPOSITORY}:${major}`;
}

/** The image's CMD: the handler, which the base image's runtime interface client loads from the task root. */
export const IMAGE_COMMAND: readonly string[] = Object.freeze([HANDLER]);

export function dockerfile(baseImage: string): string {
  return [
    '# Written by `npm run build -- --package image` (build.ts); build.json lists every file of this context with its sha256.',
    `# ${BASE_IMAGE_ARG} is AWS's Lambda base image by tag; the deploy workflow passes the tag pinned to the digest it`,
    '# resolved (tag@sha256:...) and records that digest. onnxruntime-node is in the task root\'s node_modules, which',
    '# the function resolves without NODE_PATH, and the model in its model/ folder, as in the function zip.',
    `ARG ${BASE_IMAGE_ARG}=${baseImage}`,
    `FROM \${${BASE_IMAGE_ARG}}`,
    `COPY ${IMAGE_ROOTFS}/${IMAGE_TASK_ROOT}/ \${LAMBDA_TASK_ROOT}/`,
    `CMD ${JSON.stringify(IMAGE_COMMAND)}`,
    '',
  ].join('\n');
}
