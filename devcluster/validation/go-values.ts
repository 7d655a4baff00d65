// Values as kube-apiserver prints them in `Invalid value: ...`: field.Error dereferences a pointer
// and prints strings with %q, numbers with %v, and anything else with Go's %#v of the internal
// type (map keys sorted, nil slices as `[]T(nil)`). A nil pointer prints as "null". The pod
// template and a volume's node affinity are dumped with pointer addresses and every defaulted
// field there; the devcluster names their type and abbreviates the body.
import { asObject, isPlainObject } from '../store/objects.ts';

/** What field.Error prints for a nil pointer. */
export const GO_NULL = '"null"';

/** A string as Go's %q quotes it. */
function goQuote(text: string): string {
  let out = '"';
  for (const ch of text) {
    const code = ch.codePointAt(0) ?? 0;
    if (ch === '"' || ch === '\\') out += `\\${ch}`;
    else if (ch === '\n') out += '\\n';
    else if (ch === '\t') out += '\\t';
    else if (ch === '\r') out += '\\r';
    else if (code < 0x20 || code === 0x7f) out += `\\x${code.toString(16).padStart(2, '0')}`;
    else out += ch;
  }
  return `${out}"`;
}

/** An optional scalar field (a pointer in the internal type): the value, or "null" when unset. */
export function goScalar(value: unknown): string {
  if (value === undefined || value === null) return GO_NULL;
  return typeof value === 'string' ? goQuote(value) : String(value);
}

/** A `[]T` of strings (or of a named string type) as %#v prints it. */
export function goStrings(type: string, values: unknown): string {
  if (!Array.isArray(values)) return `[]${type}(nil)`;
  return `[]${type}{${values.map((v) => goQuote(String(v))).join(', ')}}`;
}

/** A `map[string]string` as %#v prints it: keys sorted. */
export function goStringMap(values: unknown): string {
  if (!isPlainObject(values)) return 'map[string]string(nil)';
  const entries = Object.keys(values).sort().map((k) => `${goQuote(k)}:${goQuote(String(values[k]))}`);
  return `map[string]string{${entries.join(', ')}}`;
}

/** A metav1.LabelSelector as %#v prints it (the value behind the pointer), or "null" when unset. */
export function goLabelSelector(selector: unknown): string {
  if (!isPlainObject(selector)) return GO_NULL;
  const expressions = Array.isArray(selector.matchExpressions)
    ? `[]v1.LabelSelectorRequirement{${selector.matchExpressions
        .filter(isPlainObject)
        .map((r) => `v1.LabelSelectorRequirement{Key:${goQuote(String(r.key ?? ''))}, Operator:${goQuote(String(r.operator ?? ''))}, Values:${goStrings('string', r.values)}}`)
        .join(', ')}}`
    : '[]v1.LabelSelectorRequirement(nil)';
  return `v1.LabelSelector{MatchLabels:${goStringMap(selector.matchLabels)}, MatchExpressions:${expressions}}`;
}

/** An rbac.RoleRef as %#v prints it. */
export function goRoleRef(roleRef: unknown): string {
  const ref = asObject(roleRef);
  return `rbac.RoleRef{APIGroup:${goQuote(String(ref.apiGroup ?? ''))}, Kind:${goQuote(String(ref.kind ?? ''))}, Name:${goQuote(String(ref.name ?? ''))}}`;
}

/** A struct the real server dumps with pointer addresses, abbreviated: `core.PodTemplateSpec{…}`. */
export function goDump(type: string): string {
  return `${type}{…}`;
}
