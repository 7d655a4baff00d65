// Sharing equal values between objects that are kept a long time (the caches, desired states
// kept between reconciles): one process-wide table of frozen subtrees and short strings.
import type { KubernetesObject } from '@kubernetes/client-node';

// Cached objects share what they have in common. JSON.parse makes new strings and objects for
// every event, yet a thousand enclaves' children repeat the same label values, owner references,
// role rules and pod-template parts thousands of times (measured on the 200-enclave fleet's
// 6,204 objects: 8.2 MB on the heap each on its own, 3.2 MB with equal values and subtrees
// shared). Cached objects are deeply frozen, so an equal subtree can be one object: each is
// hashed bottom-up and looked up in a table of those seen before (equal when they hold the same
// keys, in order, with identical values: their children were shared first). Short strings the
// same way. Each table has two generations of at most SHARE_GENERATION entries: a value seen
// again survives a turnover, a one-off (a uid, a resourceVersion) goes with its generation.
const SHARE_GENERATION = 50_000;
const INTERN_MAX_LENGTH = 128;
const UNIQUE_KEYS = new Set(['uid', 'resourceVersion']);

class Generations<K, V> {
  #young = new Map<K, V>();
  #old = new Map<K, V>();

  get(key: K): V | undefined {
    const young = this.#young.get(key);
    if (young !== undefined) return young;
    const old = this.#old.get(key);
    if (old !== undefined) this.set(key, old);
    return old;
  }

  set(key: K, value: V): void {
    if (this.#young.size >= SHARE_GENERATION) {
      this.#old = this.#young;
      this.#young = new Map();
    }
    this.#young.set(key, value);
  }
}

const strings = new Generations<string, string>();
const subtrees = new Generations<number, object>();

function intern(text: string): string {
  const known = strings.get(text);
  if (known !== undefined) return known;
  strings.set(text, text);
  return text;
}

// The hash of the value last shared by `shared` (a second return value without allocating).
let lastHash = 0;

const mix = (hash: number, value: number): number => Math.imul(hash ^ value, 0x01000193) >>> 0;

function stringHash(text: string): number {
  let hash = 0x811c9dc5;
  for (let i = 0; i < text.length; i++) hash = mix(hash, text.charCodeAt(i));
  return hash;
}

function valueHash(value: unknown): number {
  if (typeof value === 'string') return stringHash(value);
  if (typeof value === 'number') return Number.isInteger(value) ? mix(0x9e3779b9, value | 0) : stringHash(String(value));
  return value === true ? 1 : value === false ? 2 : 3;
}

/** True when two frozen subtrees hold the same keys in the same order with identical values. */
function sameShape(a: object, b: object): boolean {
  if (Array.isArray(a)) {
    if (!Array.isArray(b) || a.length !== b.length) return false;
    for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
    return true;
  }
  if (Array.isArray(b)) return false;
  const left = Object.keys(a);
  const right = Object.keys(b);
  if (left.length !== right.length) return false;
  for (let i = 0; i < left.length; i++) {
    const key = left[i] as string;
    if (key !== right[i] || (a as Record<string, unknown>)[key] !== (b as Record<string, unknown>)[key]) return false;
  }
  return true;
}

/**
 * Freezes `value` (fresh from JSON, not yet shared) with its children replaced by shared equal
 * ones, and returns the shared equal of the whole, or `value` itself when it is the first of its
 * kind or `unique` (an object's root and metadata: their uid and resourceVersion make them so).
 * Sets {@link lastHash}. A subtree frozen before it got here is kept as is and not looked up.
 */
function shared<T>(value: T, key = '', unique = false): T {
  if (typeof value === 'string') {
    lastHash = stringHash(value);
    return (value.length <= INTERN_MAX_LENGTH && !UNIQUE_KEYS.has(key) ? intern(value) : value) as T;
  }
  if (value === null || typeof value !== 'object') {
    lastHash = valueHash(value);
    return value;
  }
  if (Object.isFrozen(value)) {
    lastHash = 0;
    return value;
  }
  let hash = Array.isArray(value) ? 0x2545f491 : 0x3c6ef372;
  if (Array.isArray(value)) {
    for (let i = 0; i < value.length; i++) {
      value[i] = shared(value[i]);
      hash = mix(hash, lastHash);
    }
  } else {
    const record = value as Record<string, unknown>;
    for (const name of Object.keys(record)) {
      record[name] = shared(record[name], name);
      hash = mix(mix(hash, stringHash(name)), lastHash);
    }
  }
  Object.freeze(value);
  lastHash = hash;
  if (unique) return value;
  const known = subtrees.get(hash);
  if (known !== undefined && sameShape(known, value)) return known as T;
  subtrees.set(hash, value);
  return value;
}

/**
 * Shares and freezes an object (see {@link shared}); its root and metadata stay its own. For the
 * cache, and for desired states kept between reconciles: what they have in common with the live
 * objects is then the same object, and comparing the two is mostly identity.
 */
export function shareObject(object: KubernetesObject): Readonly<KubernetesObject> {
  const record = object as unknown as Record<string, unknown>;
  for (const name of Object.keys(record)) record[name] = shared(record[name], name, name === 'metadata');
  return Object.freeze(object);
}
