// What a 1.23 API server refuses in an update of a RoleBinding or ClusterRoleBinding (checked on
// 1.23): another `roleRef`. Subjects may change; to bind another role, delete and recreate.
import type { StatusCause } from '../store/errors.ts';
import { jsonEqual } from '../../operator/runtime/json-equal.ts';
import type { KubeObject } from '../store/types.ts';
import { fieldInvalid } from './field-errors.ts';
import { goRoleRef } from './go-values.ts';

/** The causes a 1.23 server gives for updating `old` to `binding`; empty when it allows the update. */
export function roleRefUpdateErrors(binding: KubeObject, old: KubeObject): StatusCause[] {
  return jsonEqual(binding.roleRef, old.roleRef) ? [] : [fieldInvalid('roleRef', goRoleRef(binding.roleRef), 'cannot change roleRef')];
}
