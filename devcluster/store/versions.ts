// One stored object, read through several API versions. kube-apiserver keeps an events.k8s.io/v1
// Event as the core/v1 Event it converts to, so the two resources share one storage and each reads
// it in its own shape; a custom resource served at several versions is stored once and read with
// the apiVersion it is asked through.
import type { KubeObject, ResourceType } from './types.ts';

/** `v1` for the core group, `<group>/<version>` otherwise. */
export function apiVersionOf(rt: ResourceType): string {
  return rt.group === '' ? rt.version : `${rt.group}/${rt.version}`;
}

/** Where a type's objects are kept: events.k8s.io Events with the core ones, every other type under its own group and resource. */
export function storageKeyOf(rt: ResourceType): string {
  return rt.group === 'events.k8s.io' && rt.resource === 'events' ? '/events' : `${rt.group}/${rt.resource}`;
}

/** A stored object as `rt` serves it: the events.k8s.io/v1 shape of a core Event, or the apiVersion `rt` is served at. */
export function asServed(rt: ResourceType, stored: KubeObject): KubeObject {
  if (rt.group === 'events.k8s.io') return coreEventToV1(stored);
  if (rt.group !== '' && stored.apiVersion !== apiVersionOf(rt)) {
    return { ...stored, apiVersion: apiVersionOf(rt) };
  }
  return stored;
}

/** An object written (or read) through `rt` in the form it is stored: an events.k8s.io/v1 Event as its core/v1 form. */
export function asStored(rt: ResourceType, obj: KubeObject): KubeObject {
  return rt.group === 'events.k8s.io' && obj.apiVersion === 'events.k8s.io/v1' ? v1EventToCore(obj) : obj;
}

// The same Event under its two API versions: each core/v1 field and its events.k8s.io/v1 name.
const EVENT_FIELDS: readonly (readonly [core: string, v1: string])[] = [
  ['involvedObject', 'regarding'],
  ['message', 'note'],
  ['reportingComponent', 'reportingController'],
  ['reportingInstance', 'reportingInstance'],
  ['count', 'deprecatedCount'],
  ['firstTimestamp', 'deprecatedFirstTimestamp'],
  ['lastTimestamp', 'deprecatedLastTimestamp'],
  ['source', 'deprecatedSource'],
  ['eventTime', 'eventTime'],
  ['series', 'series'],
  ['action', 'action'],
  ['reason', 'reason'],
  ['type', 'type'],
  ['related', 'related'],
];

/** The events.k8s.io/v1 view of a stored core/v1 Event. */
function coreEventToV1(core: KubeObject): KubeObject {
  const c = core as Record<string, unknown>;
  const out: Record<string, unknown> = { apiVersion: 'events.k8s.io/v1', kind: 'Event', metadata: core.metadata };
  for (const [from, to] of EVENT_FIELDS) if (c[from] !== undefined) out[to] = c[from];
  return out as KubeObject;
}

/** The core/v1 form of an events.k8s.io/v1 Event, as it is stored. */
function v1EventToCore(ev: KubeObject): KubeObject {
  const e = ev as Record<string, unknown>;
  const out: Record<string, unknown> = { apiVersion: 'v1', kind: 'Event', metadata: ev.metadata };
  for (const [to, from] of EVENT_FIELDS) if (e[from] !== undefined) out[to] = e[from];
  if (out.involvedObject === undefined) out.involvedObject = {};
  return out as KubeObject;
}
