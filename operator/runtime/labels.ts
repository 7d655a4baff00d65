// The project's well-known labels and annotations, and label-selector matching for caches and pruning.

/** Name of the field manager for every server-side apply and status patch the operator makes. */
export const FIELD_MANAGER = 'sde-operator';

/** On every child of an Enclave, including those inside its namespace: the Enclave's name. */
export const ENCLAVE_LABEL = 'sde.london/enclave';

/** `"true"` on volumes that hold research data: pruning never deletes them. */
export const DATA_LABEL = 'sde.london/data';

/** Marks objects the operator manages, so `sde_objects_managed` and pruning find only ours. */
export const MANAGED_BY_LABEL = 'app.kubernetes.io/managed-by';

/** Value of {@link MANAGED_BY_LABEL} on the operator's objects. */
export const MANAGED_BY_VALUE = FIELD_MANAGER;

/** Hash of the last applied desired state, so a field dropped from the desired state still causes a write. */
export const APPLIED_HASH_ANNOTATION = 'sde.london/applied-hash';

/** A label selector in the common equality form: every entry must match exactly. */
export type LabelSelector = Readonly<Record<string, string>>;

/** True when every `key=value` of `selector` is among `labels`. The empty selector matches everything. */
export function matchesLabels(labels: Readonly<Record<string, string>> | undefined, selector: LabelSelector): boolean {
  return Object.entries(selector).every(([key, value]) => labels?.[key] === value);
}

/** The selector in the API's query-string form, `a=b,c=d`. */
export function formatSelector(selector: LabelSelector): string {
  return Object.entries(selector)
    .map(([key, value]) => `${key}=${value}`)
    .join(',');
}
