// The label vocabulary of the project: on every object the operator renders, selected on by the
// operator's caches and pruner, the reports and platform engineers' own `kubectl get -l`.

export const MANAGED_BY = 'app.kubernetes.io/managed-by';
export const PART_OF = 'app.kubernetes.io/part-of';
export const APP_NAME = 'app.kubernetes.io/name';
export const COMPONENT = 'app.kubernetes.io/component';
/** On every child of an Enclave, inside its namespace or not: the Enclave's name. */
export const ENCLAVE = 'sde.london/enclave';
export const SITE = 'sde.london/site';
export const PROJECT = 'sde.london/project';
export const WORKSPACE = 'sde.london/workspace';
export const FEDERATED_JOB = 'sde.london/federatedjob';
/** `"true"` on objects holding research data (dataset volumes and claims, retained home claims): never pruned. */
export const DATA = 'sde.london/data';
export const AUTO_PROVISIONED = 'sde.london/auto-provisioned';

/**
 * Annotations admission writes from the request's authenticated user, overwriting whatever the
 * request said: who last changed an Enclave's `spec.access` (the access record's recordedBy) and
 * who submitted a FederatedJob. Nobody can set them to another name.
 */
export const ACCESS_CHANGED_BY = 'sde.london/access-changed-by';
export const SUBMITTED_BY = 'sde.london/submitted-by';

/** Value of MANAGED_BY on the operator's objects, and the operator's field manager. */
export const MANAGER = 'sde-operator';
export const PRODUCT = 'sde-enclave-operator';

