// Owner references from a controller to its children, generated names for them, a stable hash of
// a pod template, and Kubernetes-shaped status conditions (the kubelet's and scheduler's too).
import { randomSuffix } from '../store/objects.ts';
import { timestamp } from '../store/timestamps.ts';
import type { KubeObject, OwnerReference } from '../store/types.ts';

/** The ownerReference a controller puts on each child (controller: true, blockOwnerDeletion: true). */
export function controllerRef(owner: KubeObject): OwnerReference {
  return {
    apiVersion: owner.apiVersion, kind: owner.kind, name: owner.metadata.name,
    uid: owner.metadata.uid ?? '', controller: true, blockOwnerDeletion: true,
  };
}

const MAX_GENERATED_PREFIX = 58;

/**
 * `<prefix><5 random characters>`, the prefix cut to 58 characters as the API server cuts a
 * generateName, so the name stays a valid 63-character label.
 */
export function generatedName(prefix: string): string {
  return `${prefix.slice(0, MAX_GENERATED_PREFIX)}${randomSuffix()}`;
}

const SAFE_ALPHABET = 'bcdfghjklmnpqrstvwxz2456789';

/**
 * A short, stable hash of any JSON value, spelt as the API machinery spells pod-template-hash:
 * the decimal FNV-1a-32 digits mapped onto a vowel-free alphabet, so it never forms words.
 */
export function templateHash(value: unknown): string {
  let hash = 0x811c9dc5;
  for (const char of canonicalJson(withoutEmpty(value))) {
    hash ^= char.charCodeAt(0) & 0xff;
    hash = Math.imul(hash, 0x01000193) >>> 0;
  }
  return [...String(hash)].map((digit) => SAFE_ALPHABET[Number(digit) % SAFE_ALPHABET.length]).join('');
}

/**
 * The value with null, {} and [] fields dropped: the API server reads a template into typed
 * structs, where those equal an absent field, so `kubectl rollout undo` (which sends
 * `creationTimestamp: null` and `resources: {}`) finds the old template's hash again.
 */
function withoutEmpty(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(withoutEmpty);
  if (value === null || typeof value !== 'object') return value;
  const kept: Record<string, unknown> = {};
  for (const [key, field] of Object.entries(value as Record<string, unknown>)) {
    const cleaned = withoutEmpty(field);
    const empty = cleaned === null || cleaned === undefined
      || (typeof cleaned === 'object' && Object.keys(cleaned as object).length === 0);
    if (!empty) kept[key] = cleaned;
  }
  return kept;
}

/** JSON with object keys sorted, so equal values hash equally whatever their key order. */
export function canonicalJson(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map(canonicalJson).join(',')}]`;
  if (value !== null && typeof value === 'object') {
    const entries = Object.entries(value as Record<string, unknown>).filter(([, v]) => v !== undefined).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
    return `{${entries.map(([k, v]) => `${JSON.stringify(k)}:${canonicalJson(v)}`).join(',')}}`;
  }
  return JSON.stringify(value) ?? 'null';
}

/** A status condition as Kubernetes workloads report it. */
export interface Condition {
  type: string;
  status: 'True' | 'False' | 'Unknown';
  reason?: string;
  message?: string;
  lastTransitionTime?: string;
  lastUpdateTime?: string;
  lastProbeTime?: string | null;
}

/**
 * Sets one condition in a list (returning a new list): lastTransitionTime moves only when the
 * status flips; with `trackUpdates`, lastUpdateTime moves whenever reason or message change.
 */
export function withCondition(conditions: Condition[] | undefined, next: Condition, trackUpdates = false): Condition[] {
  const list = [...(conditions ?? [])];
  const at = timestamp();
  const index = list.findIndex((c) => c.type === next.type);
  const current = index < 0 ? undefined : list[index];
  const merged: Condition = { ...next };
  merged.lastTransitionTime = current && current.status === next.status ? (current.lastTransitionTime ?? at) : at;
  if (trackUpdates) {
    const same = current && current.status === next.status && current.reason === next.reason && current.message === next.message;
    merged.lastUpdateTime = same ? (current.lastUpdateTime ?? at) : at;
  }
  if (index < 0) list.push(merged);
  else list[index] = merged;
  return list;
}

/** Removes a condition type from a list. */
export function withoutCondition(conditions: Condition[] | undefined, type: string): Condition[] {
  return (conditions ?? []).filter((c) => c.type !== type);
}
