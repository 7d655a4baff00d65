// What a 1.23 API server refuses in an update of an apps/v1 StatefulSet (checked on 1.23): any
// change of its spec but replicas, template, updateStrategy, persistentVolumeClaimRetentionPolicy
// and minReadySeconds; so serviceName, selector, volumeClaimTemplates, podManagementPolicy and
// revisionHistoryLimit are fixed at creation.
import type { StatusCause } from '../store/errors.ts';
import { asObject } from '../store/objects.ts';
import type { KubeObject } from '../store/types.ts';
import { fieldForbidden } from './field-errors.ts';
import { semanticEqual } from './semantic-equal.ts';

const MUTABLE = ['replicas', 'template', 'updateStrategy', 'persistentVolumeClaimRetentionPolicy', 'minReadySeconds'];

/** The causes a 1.23 server gives for updating `old` to `statefulSet`; empty when it allows the update. */
export function statefulSetUpdateErrors(statefulSet: KubeObject, old: KubeObject): StatusCause[] {
  const spec = asObject(statefulSet.spec);
  const oldSpec = asObject(old.spec);
  const fixed = (s: Record<string, unknown>): Record<string, unknown> => Object.fromEntries(Object.entries(s).filter(([k]) => !MUTABLE.includes(k)));
  if (semanticEqual(fixed(spec), fixed(oldSpec))) return [];
  return [fieldForbidden('spec', "updates to statefulset spec for fields other than 'replicas', 'template', 'updateStrategy', 'persistentVolumeClaimRetentionPolicy' and 'minReadySeconds' are forbidden")];
}
