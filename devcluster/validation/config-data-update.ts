// What a 1.23 API server refuses in an update of a ConfigMap or Secret (checked on 1.23): once
// `immutable: true`, its data (and a ConfigMap's binaryData) and the flag itself are fixed; a
// Secret's `type` is fixed always. Metadata may still change.
import type { StatusCause } from '../store/errors.ts';
import { jsonEqual } from '../../operator/runtime/json-equal.ts';
import type { KubeObject } from '../store/types.ts';
import { FIELD_IMMUTABLE, fieldForbidden, fieldInvalid } from './field-errors.ts';
import { goScalar } from './go-values.ts';

const WHEN_IMMUTABLE = 'field is immutable when `immutable` is set';

function frozenDataErrors(next: KubeObject, old: KubeObject, fields: readonly string[]): StatusCause[] {
  if (old.immutable !== true) return [];
  const errors: StatusCause[] = [];
  if (next.immutable !== true) errors.push(fieldForbidden('immutable', WHEN_IMMUTABLE));
  for (const field of fields) if (!jsonEqual(next[field], old[field])) errors.push(fieldForbidden(field, WHEN_IMMUTABLE));
  return errors;
}

/** The causes a 1.23 server gives for updating the ConfigMap `old` to `configMap`; empty when it allows the update. */
export function configMapUpdateErrors(configMap: KubeObject, old: KubeObject): StatusCause[] {
  return frozenDataErrors(configMap, old, ['data', 'binaryData']);
}

/** The causes a 1.23 server gives for updating the Secret `old` to `secret` (its stringData already in data). */
export function secretUpdateErrors(secret: KubeObject, old: KubeObject): StatusCause[] {
  const typeErrors = secret.type === old.type ? [] : [fieldInvalid('type', goScalar(secret.type), FIELD_IMMUTABLE)];
  return [...typeErrors, ...frozenDataErrors(secret, old, ['data'])];
}
