// Fields the operator writes when it creates an object and then leaves to Kubernetes' own controllers.
import type { KubernetesObject } from '@kubernetes/client-node';
import { jsonEqual } from './status.ts';

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
 * controller's work nor takes a volume from another claim. Returns `desired` itself when nothing
 * is left out. Never modifies `desired`.
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
  return sent as unknown as T;
}
