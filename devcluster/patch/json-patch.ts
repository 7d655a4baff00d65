// JSON patch (RFC 6902): add, remove, replace, move, copy and test, applied to a copy.
import { ApiError } from '../store/errors.ts';
import { clone, isPlainObject } from '../store/objects.ts';
import { jsonEqual } from '../../operator/runtime/json-equal.ts';

/** One JSON patch operation. */
export interface JsonPatchOperation {
  op: 'add' | 'remove' | 'replace' | 'move' | 'copy' | 'test';
  path: string;
  from?: string;
  value?: unknown;
}

function fail(message: string): ApiError {
  return new ApiError(422, 'Invalid', message);
}

function parsePointer(pointer: string): string[] {
  if (pointer === '') return [];
  if (!pointer.startsWith('/')) throw fail(`the JSON pointer "${pointer}" must be empty or start with "/"`);
  return pointer.slice(1).split('/').map((t) => t.replace(/~1/g, '/').replace(/~0/g, '~'));
}

function parentOf(doc: unknown, tokens: string[], pointer: string): { parent: unknown; key: string } {
  let cur = doc;
  for (const t of tokens.slice(0, -1)) {
    if (Array.isArray(cur)) cur = cur[Number(t)];
    else if (isPlainObject(cur)) cur = cur[t];
    else cur = undefined;
    if (cur === undefined) throw fail(`doc is missing path: "${pointer}": missing value`);
  }
  return { parent: cur, key: tokens[tokens.length - 1] ?? '' };
}

function getAt(doc: unknown, pointer: string): unknown {
  let cur = doc;
  for (const t of parsePointer(pointer)) {
    if (Array.isArray(cur)) cur = cur[Number(t)];
    else if (isPlainObject(cur)) cur = Object.hasOwn(cur, t) ? cur[t] : undefined;
    else cur = undefined;
    if (cur === undefined) throw fail(`doc is missing path: "${pointer}": missing value`);
  }
  return cur;
}

function arrayIndex(arr: unknown[], key: string, pointer: string, allowEnd: boolean): number {
  if (key === '-' && allowEnd) return arr.length;
  const i = Number(key);
  if (!/^(0|[1-9][0-9]*)$/.test(key) || i > arr.length || (!allowEnd && i >= arr.length)) {
    throw fail(`unable to access invalid index: ${key} in path "${pointer}"`);
  }
  return i;
}

function add(doc: unknown, pointer: string, value: unknown): unknown {
  const tokens = parsePointer(pointer);
  if (tokens.length === 0) return clone(value);
  const { parent, key } = parentOf(doc, tokens, pointer);
  if (Array.isArray(parent)) parent.splice(arrayIndex(parent, key, pointer, true), 0, clone(value));
  else if (isPlainObject(parent)) parent[key] = clone(value);
  else throw fail(`doc is missing path: "${pointer}": missing value`);
  return doc;
}

function remove(doc: unknown, pointer: string): unknown {
  const tokens = parsePointer(pointer);
  const { parent, key } = parentOf(doc, tokens, pointer);
  if (Array.isArray(parent)) parent.splice(arrayIndex(parent, key, pointer, false), 1);
  else if (isPlainObject(parent) && Object.hasOwn(parent, key)) delete parent[key];
  else throw fail(`unable to remove nonexistent key: ${key}: missing value`);
  return doc;
}

// As evanphx/json-patch (the API server's library) has it, a missing key under an existing object
// tests equal to null: clients test `metadata.finalizers` or an annotation for absence that way.
function testValue(doc: unknown, pointer: string, expected: unknown): void {
  const tokens = parsePointer(pointer);
  if (tokens.length > 0 && (expected === null || expected === undefined)) {
    const { parent, key } = parentOf(doc, tokens, pointer);
    if (isPlainObject(parent) && (!Object.hasOwn(parent, key) || parent[key] === null)) return;
  }
  const actual = getAt(doc, pointer);
  if (!jsonEqual(actual, expected)) {
    throw fail(`the server rejected our request due to an error in our request: testing value ${pointer} failed: expected ${JSON.stringify(expected)}, found ${JSON.stringify(actual)}`);
  }
}

/** Applies the operations in order to a copy of `target`; a failed `test` or bad path is a 422. */
export function applyJsonPatch(target: unknown, ops: unknown): unknown {
  if (!Array.isArray(ops)) throw new ApiError(400, 'BadRequest', 'json patch: expected a JSON array of operations, found another JSON value');
  let doc = clone(target);
  for (const raw of ops as JsonPatchOperation[]) {
    switch (raw.op) {
      case 'add':
        doc = add(doc, raw.path, raw.value);
        break;
      case 'remove':
        doc = remove(doc, raw.path);
        break;
      case 'replace':
        getAt(doc, raw.path);
        doc = remove(doc, raw.path);
        doc = add(doc, raw.path, raw.value);
        break;
      case 'move': {
        const v = getAt(doc, raw.from ?? '');
        doc = remove(doc, raw.from ?? '');
        doc = add(doc, raw.path, v);
        break;
      }
      case 'copy':
        doc = add(doc, raw.path, getAt(doc, raw.from ?? ''));
        break;
      case 'test':
        testValue(doc, raw.path, raw.value);
        break;
      default:
        throw new ApiError(400, 'BadRequest', `json patch: unexpected operation ${JSON.stringify((raw as { op?: unknown }).op)}: expected add, remove, replace, move, copy or test`);
    }
  }
  return doc;
}
