// What a 1.23 API server refuses in an update of a Service (checked on 1.23): a cluster IP, once
// allocated or set to None, never changes (`spec.clusterIPs[0]`, whichever of clusterIP and
// clusterIPs was written); clusterIPs must start with clusterIP; an ExternalName Service has no
// cluster IP. The type may change: to ExternalName the server drops the cluster IP it allocated
// (admission/service-defaults.ts), from it a new one is allocated.
import type { StatusCause } from '../store/errors.ts';
import { asObject } from '../store/objects.ts';
import type { KubeObject } from '../store/types.ts';
import { fieldForbidden, fieldInvalid } from './field-errors.ts';
import { goStrings } from './go-values.ts';

/** The causes a 1.23 server gives for updating `old` to `service`; empty when it allows the update. */
export function serviceUpdateErrors(service: KubeObject, old: KubeObject): StatusCause[] {
  const spec = asObject(service.spec);
  const oldSpec = asObject(old.spec);
  const clusterIPs = Array.isArray(spec.clusterIPs) ? spec.clusterIPs : [];
  const errors: StatusCause[] = [];
  const externalName = spec.type === 'ExternalName';
  if (!externalName && oldSpec.type !== 'ExternalName' && typeof oldSpec.clusterIP === 'string' && spec.clusterIP !== oldSpec.clusterIP) {
    errors.push(fieldInvalid('spec.clusterIPs[0]', goStrings('string', spec.clusterIPs), 'may not change once set'));
  }
  if (externalName && clusterIPs.length > 0) errors.push(fieldForbidden('spec.clusterIPs', 'may not be set for ExternalName services'));
  if (!externalName && clusterIPs.length > 0 && clusterIPs[0] !== spec.clusterIP) {
    errors.push(fieldInvalid('spec.clusterIPs', goStrings('string', spec.clusterIPs), 'first value must match `clusterIP`'));
  }
  return errors;
}
