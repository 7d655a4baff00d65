// Fields the operator sets when it creates an object and never again: those one of Kubernetes'
// own controllers then completes, and those the API server fixes at creation.
import type { KubernetesObject } from '@kubernetes/client-node';
import { jsonEqual } from './json-equal.ts';

/**
 * A field the operator sets so that a controller acts on it, and which that controller then
 * completes and owns. A PersistentVolume's `spec.claimRef` reserves the volume for one claim; the
 * PV binder writes the claim's `uid` and `resourceVersion` into it, and since `claimRef` is an
 * atomic struct it takes the whole field (and its managedFields entry) over. Applying the
 * reservation again, without the uid, would undo the binding (the claim ends `Lost`, ClaimMisbound).
 */
interface HandedOverField {
  kind: string;
  path: readonly string[];
}

const HANDED_OVER: readonly HandedOverField[] = [{ kind: 'PersistentVolume', path: ['spec', 'claimRef'] }];

function valueAt(object: unknown, path: readonly string[]): unknown {
  let value = object;
  for (const key of path) value = value !== null && typeof value === 'object' ? (value as Record<string, unknown>)[key] : undefined;
  return value;
}

/**
 * Fields the API server refuses to change once an object exists (422 field is immutable, or 403
 * for a claim's size), as recorded on kube-apiserver 1.23 (test/devcluster/fidelity/updates):
 * a Job's pod template, selector and completions; a StatefulSet's spec but its replicas, template
 * and update strategy; a Deployment's selector; a PersistentVolume's source, volume mode and node
 * affinity; a claim's spec (its size may only grow, and only where its storage class expands
 * volumes, which a static dataset claim's never does: the operator keeps it); a binding's role;
 * a Service's cluster IP, allocated or `None` (`spec.clusterIPs[0]: may not change once set`).
 * Re-applying a new rendering of them would fail every reconcile, so they are sent as the live
 * object holds them (the rendering's keys, the live values): what was fixed at creation stays, and
 * the reconciler reports a difference it cannot apply (see {@link fixedFieldsDiffer}).
 */
const FIXED_AT_CREATION: readonly HandedOverField[] = [
  ...['template', 'selector', 'completions', 'completionMode'].map((field) => ({ kind: 'Job', path: ['spec', field] })),
  ...['selector', 'serviceName', 'podManagementPolicy', 'volumeClaimTemplates', 'revisionHistoryLimit'].map((field) => ({ kind: 'StatefulSet', path: ['spec', field] })),
  { kind: 'Deployment', path: ['spec', 'selector'] },
  ...['nfs', 'csi', 'hostPath', 'volumeMode', 'nodeAffinity'].map((field) => ({ kind: 'PersistentVolume', path: ['spec', field] })),
  { kind: 'PersistentVolumeClaim', path: ['spec'] },
  { kind: 'RoleBinding', path: ['roleRef'] },
  { kind: 'Service', path: ['spec', 'clusterIP'] },
];

/**
 * `desired` with `live`'s values wherever both have them: objects key by key, arrays element by
 * element when their lengths agree (else the live array whole). Keys only `desired` has stay as
 * they are; keys only `live` has (server defaults) are not added, so no field is newly claimed.
 */
function liveValues(desired: unknown, live: unknown): unknown {
  if (live === undefined) return desired;
  if (Array.isArray(desired)) {
    if (!Array.isArray(live) || live.length !== desired.length) return live;
    return desired.map((item, i) => liveValues(item, live[i]));
  }
  if (desired !== null && typeof desired === 'object' && live !== null && typeof live === 'object' && !Array.isArray(live)) {
    return Object.fromEntries(Object.entries(desired).map(([key, value]) => [key, liveValues(value, (live as Record<string, unknown>)[key])]));
  }
  return live;
}

function withValueAt(object: Record<string, unknown>, path: readonly string[], value: unknown): Record<string, unknown> {
  const [key, ...rest] = path;
  if (key === undefined) return object;
  if (rest.length === 0) return { ...object, [key]: value };
  const child = object[key];
  return { ...object, [key]: withValueAt(child !== null && typeof child === 'object' ? (child as Record<string, unknown>) : {}, rest, value) };
}

/** The fields fixed at creation on which `desired` differs from `live` (dotted paths); empty when it does not, or there is no live object. */
export function fixedFieldsDiffer(desired: KubernetesObject, live: Readonly<KubernetesObject> | undefined): string[] {
  if (live === undefined) return [];
  return FIXED_AT_CREATION.filter((field) => {
    if (field.kind !== desired.kind) return false;
    const wanted = valueAt(desired, field.path);
    return wanted !== undefined && valueAt(live, field.path) !== undefined && !jsonEqual(liveValues(wanted, valueAt(live, field.path)), wanted);
  }).map((field) => field.path.join('.'));
}

function without(object: Record<string, unknown>, path: readonly string[]): Record<string, unknown> {
  const [key, ...rest] = path;
  if (key === undefined || !(key in object)) return object;
  if (rest.length === 0) {
    const { [key]: _dropped, ...others } = object;
    return others;
  }
  const child = object[key];
  return child !== null && typeof child === 'object' ? { ...object, [key]: without(child as Record<string, unknown>, rest) } : object;
}

/**
 * What to send for `desired` given its live copy: a handed-over field goes out only while the
 * live object lacks it or still holds exactly what the operator set; once a controller has
 * written it (or anyone has set it otherwise), it is left out, so the apply neither undoes the
 * controller's work nor takes a volume from another claim. A field fixed at creation goes out as
 * the live object holds it. Returns `desired` itself when there is no live object. Never
 * modifies `desired`.
 */
export function leaveHandedOverFields<T extends KubernetesObject>(desired: T, live: Readonly<KubernetesObject> | undefined): T {
  if (live === undefined) return desired;
  let sent: Record<string, unknown> = desired as unknown as Record<string, unknown>;
  for (const field of HANDED_OVER) {
    if (field.kind !== desired.kind) continue;
    const liveValue = valueAt(live, field.path);
    if (liveValue === undefined || jsonEqual(liveValue, valueAt(desired, field.path))) continue;
    sent = without(sent, field.path);
  }
  for (const field of FIXED_AT_CREATION) {
    if (field.kind !== desired.kind) continue;
    const wanted = valueAt(sent, field.path);
    const stored = valueAt(live, field.path);
    if (wanted === undefined || stored === undefined) continue;
    sent = withValueAt(sent, field.path, liveValues(wanted, stored));
  }
  return sent as unknown as T;
}
