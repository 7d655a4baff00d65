// Label selectors in their equality form: matching cached objects, and the `labelSelector`
// query parameter the API server filters lists and collection deletes by.

/** A label selector in the common equality form: every entry must match exactly. */
export type LabelSelector = Readonly<Record<string, string>>;

/** True when every `key=value` of `selector` is among `labels`. The empty selector matches everything. */
export function matchesLabels(labels: Readonly<Record<string, string>> | undefined, selector: LabelSelector): boolean {
  return Object.entries(selector).every(([key, value]) => labels?.[key] === value);
}

/** `selector` as the `labelSelector` query parameter writes it (`a=b,c=d`). */
export function selectorString(selector: LabelSelector): string {
  return Object.entries(selector).map(([key, value]) => `${key}=${value}`).join(',');
}
