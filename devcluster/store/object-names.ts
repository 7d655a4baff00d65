// Which names the API server accepts for an object, by kind, with its words for a refusal: a DNS
// subdomain for most kinds, a DNS label for a Namespace, a path segment for RBAC objects.
import { BUILTINS } from './builtins.ts';
import { invalid } from './errors.ts';
import type { StatusCause } from './errors.ts';
import type { KubeObject, ResourceType } from './types.ts';

const NAME_RE = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$/;
const LABEL_RE = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/;

/** Why a name is invalid for its kind (RBAC: path segment; Namespace: DNS label; others: DNS subdomain). */
function nameProblem(rt: ResourceType, name: string): string | undefined {
  if (rt.group === 'rbac.authorization.k8s.io') {
    if (name === '.' || name === '..') return `may not be '${name}'`;
    return /[/%]/.test(name) ? `may not contain '/' or '%'` : undefined;
  }
  if (rt === BUILTINS.namespaces) {
    if (LABEL_RE.test(name) && name.length <= 63) return undefined;
    return `a lowercase RFC 1123 label must consist of lower case alphanumeric characters or '-', and must start and end with an alphanumeric character (e.g. 'my-name',  or '123-abc', regex used for validation is '[a-z0-9]([-a-z0-9]*[a-z0-9])?')`;
  }
  if (NAME_RE.test(name) && name.length <= 253) return undefined;
  return `a lowercase RFC 1123 subdomain must consist of lower case alphanumeric characters, '-' or '.', and must start and end with an alphanumeric character (e.g. 'example.com', regex used for validation is '[a-z0-9]([-a-z0-9]*[a-z0-9])?(\\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*')`;
}

/** Throws 422 Invalid, as the real server words it, unless `obj` has a name its kind accepts. */
export function validateName(rt: ResourceType, obj: KubeObject): void {
  const name = obj.metadata.name;
  const causes: StatusCause[] = [];
  if (typeof name !== 'string' || name === '') {
    causes.push({ field: 'metadata.name', message: 'Required value: name or generateName is required', reason: 'FieldValueRequired' });
  } else {
    const problem = nameProblem(rt, name);
    if (problem !== undefined) causes.push({ field: 'metadata.name', reason: 'FieldValueInvalid', message: `Invalid value: "${name}": ${problem}` });
  }
  if (causes.length > 0) throw invalid(rt, typeof name === 'string' ? name : '', causes);
}
