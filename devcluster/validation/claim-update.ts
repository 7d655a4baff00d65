// What a 1.23 API server refuses in an update of a PersistentVolumeClaim (checked on 1.23): its
// spec is fixed at creation, except that `volumeName` may be set once while empty (the binder
// does it) and a Bound claim's `resources.requests.storage` may change, though never shrink.
// `volumeMode` is reported a second time under the path `volumeMode` (sic). Whether a claim may
// grow at all is decided afterwards by admission (admission/claim-resize.ts).
import type { StatusCause } from '../store/errors.ts';
import { asObject, clone, isPlainObject } from '../store/objects.ts';
import type { KubeObject } from '../store/types.ts';
import { compareQuantities } from '../resources/quantity.ts';
import { FIELD_IMMUTABLE, fieldForbidden, fieldInvalid } from './field-errors.ts';
import { fieldDiff } from './field-diff.ts';
import { goScalar } from './go-values.ts';
import { semanticEqual } from './semantic-equal.ts';

type Obj = Record<string, unknown>;

// core.PersistentVolumeClaimSpec's fields in 1.23, in its order.
const CLAIM_SPEC_FIELDS = [
  ['accessModes', 'AccessModes'],
  ['selector', 'Selector'],
  ['resources', 'Resources'],
  ['volumeName', 'VolumeName'],
  ['storageClassName', 'StorageClassName'],
  ['volumeMode', 'VolumeMode'],
  ['dataSource', 'DataSource'],
  ['dataSourceRef', 'DataSourceRef'],
] as const;

/** The requested storage of a claim spec, if any. */
export function requestedStorage(spec: Obj): string | number | undefined {
  const storage = asObject(asObject(spec.resources).requests).storage;
  return typeof storage === 'string' || typeof storage === 'number' ? storage : undefined;
}

function smaller(size: string | number | undefined, than: string | number | undefined): boolean {
  if (size === undefined || than === undefined) return false;
  try {
    return compareQuantities(size, than) < 0;
  } catch {
    return false;
  }
}

/** The causes a 1.23 server gives for updating `old` to `claim`; empty when it allows the update. */
export function claimUpdateErrors(claim: KubeObject, old: KubeObject): StatusCause[] {
  const spec = asObject(claim.spec);
  const oldSpec = asObject(old.spec);
  const next = clone(spec);
  const before = clone(oldSpec);
  if (typeof oldSpec.volumeName !== 'string' || oldSpec.volumeName === '') before.volumeName = next.volumeName;
  const requests = asObject(next.resources).requests;
  if (asObject(claim.status).phase === 'Bound' && isPlainObject(requests)) requests.storage = requestedStorage(oldSpec);
  const errors: StatusCause[] = [];
  if (!semanticEqual(next, before)) {
    errors.push(fieldForbidden('spec', `spec is immutable after creation except resources.requests for bound claims${fieldDiff('core.PersistentVolumeClaimSpec', CLAIM_SPEC_FIELDS, before, next)}`));
  }
  if (smaller(requestedStorage(spec), requestedStorage(oldSpec))) errors.push(fieldForbidden('spec.resources.requests.storage', 'field can not be less than previous value'));
  if (!semanticEqual(spec.volumeMode, oldSpec.volumeMode)) errors.push(fieldInvalid('volumeMode', goScalar(spec.volumeMode), FIELD_IMMUTABLE));
  return errors;
}
