// What a 1.23 API server refuses in an update of a ResourceQuota (checked on 1.23): another set of
// `scopes` (adding, removing or replacing one). `hard` and `scopeSelector` may change.
import type { StatusCause } from '../store/errors.ts';
import { asObject } from '../store/objects.ts';
import type { KubeObject } from '../store/types.ts';
import { FIELD_IMMUTABLE, fieldInvalid } from './field-errors.ts';
import { goStrings } from './go-values.ts';

function scopesOf(quota: KubeObject): unknown {
  return asObject(quota.spec).scopes;
}

/** The causes a 1.23 server gives for updating `old` to `quota`; empty when it allows the update. */
export function quotaUpdateErrors(quota: KubeObject, old: KubeObject): StatusCause[] {
  const scopes = scopesOf(quota);
  const asSet = (value: unknown): Set<string> => new Set(Array.isArray(value) ? value.map(String) : []);
  const now = asSet(scopes);
  const before = asSet(scopesOf(old));
  const same = now.size === before.size && [...now].every((s) => before.has(s));
  return same ? [] : [fieldInvalid('spec.scopes', goStrings('core.ResourceQuotaScope', scopes), FIELD_IMMUTABLE)];
}
