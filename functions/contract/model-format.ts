/**
 * The model file's two formats: the ONNX file a bundle holds, and the ORT format `npm run build` saves it in after
 * onnxruntime's "extended" graph optimisations (commands/build/optimize-model.ts), which the function hands to
 * onnxruntime as bytes used in place. The build decides which ships and records it (build-record.ts); the function
 * and infra read the format from the file's name, as onnxruntime itself does for a path: `.ort` is ORT format.
 */

import { DEFAULT_MODEL_FILE, ORT_MODEL_FILE } from './env.js';

export const MODEL_FORMATS = ['onnx', 'ort'] as const;
export type ModelFormat = (typeof MODEL_FORMATS)[number];

/** The file each format ships as, inside the model folder (MODEL_FILE) and as the last segment of the S3 key. */
export const MODEL_FILE_OF_FORMAT: Readonly<Record<ModelFormat, string>> = Object.freeze({ onnx: DEFAULT_MODEL_FILE, ort: ORT_MODEL_FILE });

/** The format of a model file, from its name (a path, a file name or an S3 key): ORT format for `.ort`, else ONNX. */
export function modelFormatOf(file: string): ModelFormat {
  return /\.ort$/i.test(file) ? 'ort' : 'onnx';
}

/**
 * Session config entries (under SessionOptions `extra.session`) that let onnxruntime use an ORT-format model's
 * bytes in place: the session points into the buffer instead of copying the graph and every initializer, so the
 * buffer must stay referenced as long as the session lives.
 */
export const ORT_IN_PLACE_SESSION_ENTRIES = Object.freeze({ use_ort_model_bytes_directly: '1', use_ort_model_bytes_for_initializers: '1' });
