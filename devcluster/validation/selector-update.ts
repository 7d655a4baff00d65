// What a 1.23 API server refuses in an update of an apps/v1 Deployment or ReplicaSet (checked on
// 1.23): a new `spec.selector`; everything else of their spec may change.
import type { StatusCause } from '../store/errors.ts';
import { asObject } from '../store/objects.ts';
import type { KubeObject } from '../store/types.ts';
import { FIELD_IMMUTABLE, fieldInvalid } from './field-errors.ts';
import { goLabelSelector } from './go-values.ts';
import { semanticEqual } from './semantic-equal.ts';

/** The causes a 1.23 server gives for updating `old` to `workload`; empty when it allows the update. */
export function selectorUpdateErrors(workload: KubeObject, old: KubeObject): StatusCause[] {
  const selector = asObject(workload.spec).selector;
  const oldSelector = asObject(old.spec).selector;
  return semanticEqual(selector, oldSelector) ? [] : [fieldInvalid('spec.selector', goLabelSelector(selector), FIELD_IMMUTABLE)];
}
