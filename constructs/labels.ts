// The labels every rendered object carries, and the selectors the operator prunes by.
// One module so the renderer, the operator's pruner and the reports agree on every key.
import type { Enclave } from '../api/enclave.ts';

import { APP_NAME, AUTO_PROVISIONED, COMPONENT, DATA, ENCLAVE, FEDERATED_JOB, MANAGED_BY, MANAGER, PART_OF, PRODUCT, PROJECT, SITE, WORKSPACE } from '../api/labels.ts';
import { selectorString } from '../api/selectors.ts';

export { APP_NAME, AUTO_PROVISIONED, COMPONENT, DATA, ENCLAVE, FEDERATED_JOB, MANAGED_BY, MANAGER, PART_OF, PRODUCT, PROJECT, SITE, WORKSPACE, selectorString };

/** Pod Security Admission labels that hold every enclave namespace to the `restricted` profile. */
export const POD_SECURITY_RESTRICTED: Readonly<Record<string, string>> = {
  'pod-security.kubernetes.io/enforce': 'restricted',
  'pod-security.kubernetes.io/enforce-version': 'latest',
  'pod-security.kubernetes.io/audit': 'restricted',
  'pod-security.kubernetes.io/audit-version': 'latest',
  'pod-security.kubernetes.io/warn': 'restricted',
  'pod-security.kubernetes.io/warn-version': 'latest',
};

/** Pod components the network policies select on: the values of `app.kubernetes.io/component`. */
export const COMPONENTS = {
  workspace: 'workspace',
  participant: 'participant',
  aggregator: 'aggregator',
} as const;

/** The labels shared by every child of an enclave: managed-by, part-of, enclave, site and project. */
export function enclaveLabels(enclave: Enclave): Record<string, string> {
  return {
    [MANAGED_BY]: MANAGER,
    [PART_OF]: PRODUCT,
    [ENCLAVE]: enclave.metadata.name,
    [SITE]: enclave.spec.site,
    [PROJECT]: enclave.spec.project.id,
  };
}

/** The labels of an object rendered for the enclave itself: the shared ones plus name "enclave" and the component. */
export function enclaveChildLabels(enclave: Enclave, component: string): Record<string, string> {
  return { ...enclaveLabels(enclave), [APP_NAME]: 'enclave', [COMPONENT]: component };
}

/** Label selector matching every object the operator rendered for enclave `name` (its workspaces' and jobs' too). */
export function enclaveChildrenSelector(name: string): Record<string, string> {
  return { [MANAGED_BY]: MANAGER, [ENCLAVE]: name };
}

/** Label selector matching every object the operator rendered for Workspace `name` in enclave `enclaveName`. */
export function workspaceChildrenSelector(enclaveName: string, name: string): Record<string, string> {
  return { [MANAGED_BY]: MANAGER, [ENCLAVE]: enclaveName, [WORKSPACE]: name };
}

/** Label selector matching every object the operator rendered for FederatedJob `name` in enclave `enclaveName`. */
export function federatedJobChildrenSelector(enclaveName: string, name: string): Record<string, string> {
  return { [MANAGED_BY]: MANAGER, [ENCLAVE]: enclaveName, [FEDERATED_JOB]: name };
}

/** The `labelSelector` string matching only what renderEnclave renders for enclave `name`: not its workspaces' or jobs' children. */
export function enclaveOwnChildrenSelector(name: string): string {
  return `${selectorString(enclaveChildrenSelector(name))},!${WORKSPACE},!${FEDERATED_JOB}`;
}

