// The operator's field manager and applied-state annotation, and label-selector matching for caches and pruning.
// The label keys themselves are the project's vocabulary in api/labels.ts.

import { MANAGER } from '../../api/labels.ts';

/** Name of the field manager for every server-side apply and status patch the operator makes. */
export const FIELD_MANAGER = MANAGER;

/** Hash of the last applied desired state, so a field dropped from the desired state still causes a write. */
export const APPLIED_HASH_ANNOTATION = 'sde.london/applied-hash';

/** A label selector in the common equality form: every entry must match exactly. */
export type LabelSelector = Readonly<Record<string, string>>;

/** True when every `key=value` of `selector` is among `labels`. The empty selector matches everything. */
export function matchesLabels(labels: Readonly<Record<string, string>> | undefined, selector: LabelSelector): boolean {
  return Object.entries(selector).every(([key, value]) => labels?.[key] === value);
}
