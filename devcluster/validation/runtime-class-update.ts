// What a 1.23 API server refuses in an update of a RuntimeClass (checked on 1.23): another
// `handler`. Its scheduling and overhead may change.
import type { StatusCause } from '../store/errors.ts';
import type { KubeObject } from '../store/types.ts';
import { FIELD_IMMUTABLE, fieldInvalid } from './field-errors.ts';
import { goScalar } from './go-values.ts';

/** The causes a 1.23 server gives for updating `old` to `runtimeClass`; empty when it allows the update. */
export function runtimeClassUpdateErrors(runtimeClass: KubeObject, old: KubeObject): StatusCause[] {
  return runtimeClass.handler === old.handler ? [] : [fieldInvalid('handler', goScalar(runtimeClass.handler), FIELD_IMMUTABLE)];
}
