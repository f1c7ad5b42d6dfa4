/**
 * The runtime layer: onnxruntime-node and onnxruntime-common for one Linux architecture, under
 * `nodejs/node_modules/` where Lambda puts layer packages on NODE_PATH. Only what `require('onnxruntime-node')`
 * loads goes in: the package.json files, the CommonJS code and the one platform's native binaries.
 */
import { readFileSync, readdirSync, statSync } from 'node:fs';
import path from 'node:path';
import { NODE_ARCH, type Arch } from '../../functions/contract/build-record.js';
import type { ZipEntry } from './zip.js';

function files(dir: string): string[] {
  return readdirSync(dir, { recursive: true, encoding: 'utf8' })
    .filter((relative) => statSync(path.join(dir, relative)).isFile())
    .map((relative) => relative.split(path.sep).join('/'));
}

function packageDir(nodeModules: string, name: string): string {
  const dir = path.join(nodeModules, name);
  try {
    statSync(path.join(dir, 'package.json'));
  } catch {
    throw new Error(`${name} is not installed in ${nodeModules}; run npm ci`);
  }
  return dir;
}

export function runtimeLayerEntries(nodeModules: string, arch: Arch): ZipEntry[] {
  const entries: ZipEntry[] = [];
  const add = (pkg: string, dir: string, relative: string, executable = false) =>
    entries.push({ path: `nodejs/node_modules/${pkg}/${relative}`, data: readFileSync(path.join(dir, relative)), executable });

  const node = packageDir(nodeModules, 'onnxruntime-node');
  add('onnxruntime-node', node, 'package.json');
  for (const file of files(path.join(node, 'dist'))) if (file.endsWith('.js')) add('onnxruntime-node', node, `dist/${file}`);
  const binaries = `bin/napi-v6/linux/${NODE_ARCH[arch]}`;
  let binaryFiles: string[];
  try {
    binaryFiles = files(path.join(node, binaries));
  } catch {
    throw new Error(`onnxruntime-node has no ${binaries} folder; this onnxruntime-node version does not ship linux/${NODE_ARCH[arch]} binaries`);
  }
  for (const file of binaryFiles) add('onnxruntime-node', node, `${binaries}/${file}`, true);

  const common = packageDir(nodeModules, 'onnxruntime-common');
  add('onnxruntime-common', common, 'package.json');
  for (const file of files(path.join(common, 'dist', 'cjs'))) {
    if (file.endsWith('.js') || file === 'package.json') add('onnxruntime-common', common, `dist/cjs/${file}`);
  }
  return entries;
}
