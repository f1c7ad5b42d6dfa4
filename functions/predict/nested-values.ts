/**
 * Nested JSON arrays to typed tensor data and back. Every walk is bounded by the tensor's rank (at most MAX_RANK
 * levels), never by how deeply the client nested its arrays, so no body can overflow the stack.
 */
import { describeValue, indexText } from './describe-value.js';
import { InvalidRequestError } from './errors.js';
import { MAX_RANK } from './signature.js';
import type { ElementType, TensorData } from './tensor-types.js';

/**
 * The dimensions of a nested array, read along its first elements: at most `rank + 1` levels when the rank is
 * known (one more than needed, so a value nested too deeply shows as a wrong rank) and MAX_RANK + 1 otherwise.
 * An empty array ends the walk.
 */
export function nestedDims(value: unknown, rank: number | undefined): number[] {
  const limit = (rank ?? MAX_RANK) + 1;
  const dims: number[] = [];
  let level: unknown = value;
  while (Array.isArray(level) && dims.length < limit) {
    dims.push(level.length);
    if (level.length === 0) break;
    level = level[0];
  }
  return dims;
}

/**
 * Writes `value`, a nested array of exactly `dims`, into `data` from `offset`, and returns the offset after it.
 * A ragged array, a value where an array belongs (or the reverse) or a value the element type refuses is a 400
 * naming its place: `where` followed by its indices.
 */
export function writeNested(value: unknown, dims: readonly number[], element: ElementType, data: TensorData, offset: number, where: string): number {
  const path: number[] = [];
  return write(value, 0);

  function write(node: unknown, depth: number): number {
    if (depth === dims.length) {
      const expected = element.store(data, offset, node);
      if (expected !== undefined) throw new InvalidRequestError(`${where}${indexText(path)} is ${describeValue(node)}; expected ${expected}`);
      return ++offset;
    }
    const size = dims[depth]!;
    if (!Array.isArray(node)) {
      throw new InvalidRequestError(`${where}${indexText(path)} is ${describeValue(node)}; expected an array of ${size} (shape [${dims.slice(depth).join(', ')}] there)`);
    }
    if (node.length !== size) {
      throw new InvalidRequestError(`${where}${indexText(path)} has ${node.length} entries where ${size} are expected (shape [${dims.slice(depth).join(', ')}] there); arrays must not be ragged`);
    }
    if (depth === dims.length - 1) {
      // The innermost level in one loop: one store per value.
      for (let i = 0; i < size; i++) {
        const item: unknown = node[i];
        const expected = element.store(data, offset, item);
        if (expected !== undefined) {
          path.push(i);
          const shape = Array.isArray(item) ? ` (shape [${dims.join(', ')}] here)` : '';
          throw new InvalidRequestError(`${where}${indexText(path)} is ${describeValue(item)}; expected ${expected}${shape}`);
        }
        offset++;
      }
      return offset;
    }
    for (let i = 0; i < size; i++) {
      path.push(i);
      write(node[i], depth + 1);
      path.pop();
    }
    return offset;
  }
}

/**
 * Flat data, as the Open Inference Protocol allows it, or nested to any depth up to `maxDepth`: written in order.
 * Returns the number of values written; the caller compares it with the shape. Stops with a 400 once more than
 * `capacity` values arrive, before it writes past the array.
 */
export function writeFlat(value: unknown, maxDepth: number, element: ElementType, data: TensorData, capacity: number, where: string): number {
  if (!Array.isArray(value)) throw new InvalidRequestError(`${where} is ${describeValue(value)}; it must be an array of values, flat or nested as "shape" says`);
  let count = 0;
  const path: number[] = [];
  walk(value, 0);
  return count;

  function walk(node: unknown[], depth: number): void {
    for (let i = 0; i < node.length; i++) {
      const item: unknown = node[i];
      if (Array.isArray(item)) {
        path.push(i);
        if (depth + 1 >= maxDepth) throw new InvalidRequestError(`${where}${indexText(path)} is nested deeper than the ${maxDepth} dimensions of "shape"`);
        walk(item, depth + 1);
        path.pop();
        continue;
      }
      if (count >= capacity) throw new InvalidRequestError(`${where} holds more than the ${capacity} values its "shape" gives`);
      const expected = element.store(data, count, item);
      if (expected !== undefined) {
        path.push(i);
        throw new InvalidRequestError(`${where}${indexText(path)} is ${describeValue(item)}; expected ${expected}`);
      }
      count++;
    }
  }
}
