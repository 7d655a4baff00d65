// Writing a custom resource's status only when it says something new.
import type { KubernetesObject } from '@kubernetes/client-node';
import { jsonEqual } from './json-equal.ts';
import type { KubeClient } from './kube.ts';
import type { ResourceType } from './resources.ts';

function withoutTransitionTimes(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(withoutTransitionTimes);
  if (value !== null && typeof value === 'object') {
    return Object.fromEntries(
      Object.entries(value)
        .filter(([key, child]) => key !== 'lastTransitionTime' && child !== undefined)
        .map(([key, child]) => [key, withoutTransitionTimes(child)]),
    );
  }
  return value;
}

/**
 * True when merge-patching `current` with `next` would change nothing that matters: every field
 * `next` sets already has that value (maps compared field by field, arrays whole), fields `next`
 * nulls are already absent, and every `lastTransitionTime` is ignored (a re-render must not count
 * as a change; {@link setCondition} keeps the times stable anyway).
 */
export function statusEqual(current: unknown, next: unknown): boolean {
  if (next === null) return current === null || current === undefined;
  if (isRecord(next) && isRecord(current)) {
    return Object.entries(next).every(([key, value]) => value === undefined || key === 'lastTransitionTime' || statusEqual(current[key], value));
  }
  if (isRecord(next)) return Object.values(next).every((value) => value === undefined || value === null);
  return jsonEqual(withoutTransitionTimes(current), withoutTransitionTimes(next));
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return value !== null && typeof value === 'object' && !Array.isArray(value);
}

/** What {@link patchStatusIfChanged} did; `resourceVersion` is set when it wrote. */
export interface StatusPatchResult {
  written: boolean;
  resourceVersion?: string;
}

/**
 * Merge-patches `object`'s `/status` subresource with `status` unless it already says the same
 * ({@link statusEqual}); an unchanged status causes no request. `object` is the live (cached) one.
 * Caveat: a merge patch keeps fields absent from `status`; set them to null to remove them.
 */
export async function patchStatusIfChanged(client: KubeClient, type: ResourceType, object: Readonly<KubernetesObject>, status: object): Promise<StatusPatchResult> {
  const current = (object as { status?: unknown }).status;
  if (statusEqual(current, status)) return { written: false };
  const stored = await client.patchStatus(type, object.metadata?.name ?? '', object.metadata?.namespace, status);
  return { written: true, resourceVersion: stored.metadata?.resourceVersion ?? '' };
}
