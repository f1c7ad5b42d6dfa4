/**
 * Capture records out of the files they end up in. The function writes each record as one JSON log line; on its way
 * to a file the line may gain a prefix (Lambda's text log format and CloudWatch's export put a time and request id
 * before it), be wrapped in a CloudWatch Logs subscription message (`{"messageType": "DATA_MESSAGE", "logEvents":
 * [{"message": ...}]}`, which Firehose may write back to back without separators), or be gzipped (the caller
 * unzips). So every top-level JSON object in the text is looked at: a capture record is kept, a subscription
 * message is opened, anything else (EMF metric lines, other logs) is passed over.
 */
import { CAPTURE_RECORD_TYPE, CAPTURE_RECORD_VERSION, type CaptureRecord } from '../../functions/contract/capture.js';

export interface ParsedCaptures {
  readonly records: CaptureRecord[];
  /** Objects that claim to be capture records but cannot be read, with the first reasons. */
  readonly malformed: number;
  readonly reasons: string[];
}

const MAX_REASONS = 5;

/**
 * The top-level JSON object texts in `line`, in order (text between them is skipped), and the text of an object
 * still open at the end of the line (a line cut short), or ''.
 */
export function jsonObjects(line: string): { readonly objects: string[]; readonly open: string } {
  const objects: string[] = [];
  let depth = 0;
  let start = -1;
  let inString = false;
  let escaped = false;
  for (let i = 0; i < line.length; i++) {
    const c = line.charCodeAt(i);
    if (inString) {
      if (escaped) escaped = false;
      else if (c === 0x5c) escaped = true;
      else if (c === 0x22) inString = false;
      continue;
    }
    if (depth === 0) {
      if (c === 0x7b) {
        start = i;
        depth = 1;
      }
      continue;
    }
    if (c === 0x22) inString = true;
    else if (c === 0x7b || c === 0x5b) depth++;
    else if (c === 0x7d || c === 0x5d) {
      depth--;
      if (depth === 0) objects.push(line.slice(start, i + 1));
    }
  }
  return { objects, open: depth > 0 ? line.slice(start) : '' };
}

function isObject(value: unknown): value is Record<string, unknown> {
  return value !== null && typeof value === 'object' && !Array.isArray(value);
}

/** Why `value` is not a capture record this reader can use, or undefined when it is one. */
export function captureProblem(value: Record<string, unknown>): string | undefined {
  if (value['version'] !== CAPTURE_RECORD_VERSION) return `version is ${JSON.stringify(value['version'])}; this reader knows ${CAPTURE_RECORD_VERSION}`;
  for (const key of ['requestId', 'time', 'model'] as const) {
    if (typeof value[key] !== 'string') return `${key} is not a string`;
  }
  if (Number.isNaN(Date.parse(value['time'] as string))) return `time ${JSON.stringify(value['time'])} is not an ISO 8601 time`;
  for (const side of ['inputs', 'outputs'] as const) {
    const tensors = value[side];
    if (!isObject(tensors)) return `${side} is not an object`;
    for (const [name, tensor] of Object.entries(tensors)) {
      if (!isObject(tensor) || !Array.isArray(tensor['shape']) || !Array.isArray(tensor['data'])) return `${side}.${name} has no shape and data arrays`;
      if (!(tensor['shape'] as unknown[]).every((d) => typeof d === 'number' && Number.isInteger(d) && d >= 0)) return `${side}.${name}.shape is not a list of dimensions`;
    }
  }
  if (value['prediction'] !== undefined && !Array.isArray(value['prediction'])) return 'prediction is not an array';
  return undefined;
}

/** Reads every capture record in `text` (one or more lines). */
export function parseCaptureText(text: string, where: string): ParsedCaptures {
  const records: CaptureRecord[] = [];
  const reasons: string[] = [];
  let malformed = 0;
  const bad = (reason: string) => {
    malformed++;
    if (reasons.length < MAX_REASONS) reasons.push(`${where}: ${reason}`);
  };
  const visit = (objectText: string, depth: number): void => {
    // Only objects that could matter are parsed: a capture record, or a subscription message that may hold some.
    const capture = objectText.includes(CAPTURE_RECORD_TYPE);
    if (!capture) return;
    let value: unknown;
    try {
      value = JSON.parse(objectText);
    } catch (error) {
      bad(`a capture line is not valid JSON (${(error as Error).message.slice(0, 80)})`);
      return;
    }
    if (!isObject(value)) return;
    if (value['_type'] === CAPTURE_RECORD_TYPE) {
      const problem = captureProblem(value);
      if (problem === undefined) records.push(value as unknown as CaptureRecord);
      else bad(`a capture record's ${problem}`);
      return;
    }
    if (value['messageType'] === 'DATA_MESSAGE' && Array.isArray(value['logEvents']) && depth === 0) {
      for (const event of value['logEvents'] as unknown[]) {
        if (isObject(event) && typeof event['message'] === 'string') visitText(event['message'], depth + 1);
      }
    }
  };
  const visitText = (content: string, depth: number): void => {
    for (const line of content.split(/\r?\n/)) {
      const { objects, open } = jsonObjects(line);
      for (const objectText of objects) visit(objectText, depth);
      if (open.includes(CAPTURE_RECORD_TYPE)) bad('a capture line is cut short (its JSON object does not close)');
    }
  };
  visitText(text, 0);
  return { records, malformed, reasons };
}
