import { LambdaLayerVersion } from '@cdktf/provider-aws/lib/lambda-layer-version/index.js';
import { AssetType, TerraformAsset } from 'cdktf';
import { Construct } from 'constructs';
import { RUNTIMES, type Arch, type Runtime } from '../../functions/contract/build-record.js';
import { base64Sha256, type DeployableZipBuild } from '../build-record.js';
import { fail, matching, oneOf } from '../validators.js';

export interface RuntimeLayerProps {
  /** The build whose runtime layer zip (`artifacts[name=runtime-layer]`) is published. */
  readonly build: DeployableZipBuild;
  /**
   * The layer's name; each publish adds a version under it.
   * @default "onnxruntime-node-<arch>"
   */
  readonly layerName?: string;
  /**
   * Runtimes allowed to attach the layer; must include the build's runtime.
   * @default RUNTIMES, every runtime the build targets: onnxruntime-node is a Node-API addon, so one binary serves
   * them all
   */
  readonly compatibleRuntimes?: readonly Runtime[];
}

const LAYER_NAME = /^[A-Za-z0-9_-]{1,64}$/;

/**
 * The onnxruntime-node layer, published from the build's zip for the build's architecture only. A new zip (new
 * sha256) publishes a new layer version; published function versions keep the layer version they were created with.
 */
export class RuntimeLayer extends Construct {
  readonly layer: LambdaLayerVersion;
  readonly arch: Arch;

  constructor(scope: Construct, id: string, props: RuntimeLayerProps) {
    super(scope, id);
    const { build } = props;
    const layerName = matching(this, 'layerName', props.layerName ?? `onnxruntime-node-${build.arch}`, LAYER_NAME, '1 to 64 letters, digits, "-" and "_"');
    const runtimes = props.compatibleRuntimes ?? RUNTIMES;
    if (runtimes.length === 0) fail(this, 'compatibleRuntimes', runtimes, `one or more of ${RUNTIMES.join(', ')}`);
    runtimes.forEach((runtime, i) => oneOf(this, `compatibleRuntimes[${i}]`, runtime, RUNTIMES));
    if (!runtimes.includes(build.runtime)) {
      fail(this, 'compatibleRuntimes', runtimes, `a list that includes "${build.runtime}", the runtime the function is built for`);
    }
    this.arch = build.arch;

    const zip = build.layerZip;
    const asset = new TerraformAsset(this, 'zip', { path: zip.path, type: AssetType.FILE, assetHash: zip.sha256 });
    this.layer = new LambdaLayerVersion(this, 'layer', {
      layerName,
      description: `onnxruntime-node for linux/${build.arch} (npm run build)`,
      filename: asset.path,
      sourceCodeHash: base64Sha256(zip.sha256),
      compatibleRuntimes: [...runtimes],
      compatibleArchitectures: [build.arch],
    });
  }

  /** The layer version's ARN, for a function's `layers`. */
  get arn(): string {
    return this.layer.arn;
  }
}
