// Label selectors with Kubernetes semantics, the one home of matching them: the metav1.LabelSelector
// and core NodeSelectorTerm objects (workloads, claims, network policies, node affinity carry them)
// and the equality form (`a=b,c=d`) caches and collection deletes use. Generic Kubernetes, nothing of
// the SDE: the operator runtime may import this file (and no other of api/).

/** A metav1.LabelSelector requirement (or a NodeSelectorRequirement, which adds Gt and Lt). */
export interface LabelSelectorRequirement { key: string; operator: string; values?: string[] }
/** A metav1.LabelSelector. */
export interface LabelSelector { matchLabels?: Record<string, string>; matchExpressions?: LabelSelectorRequirement[] }
/** A core/v1 NodeSelectorTerm; its expressions and fields are ANDed. */
export interface NodeSelectorTerm { matchExpressions?: LabelSelectorRequirement[]; matchFields?: LabelSelectorRequirement[] }

/** Whether one requirement holds for a label set; Gt/Lt compare integers as node affinity does. */
export function requirementMatches(req: LabelSelectorRequirement, labels: Record<string, string>): boolean {
  const has = Object.hasOwn(labels, req.key);
  const value = labels[req.key];
  const values = req.values ?? [];
  switch (req.operator) {
    case 'In': return has && values.includes(value as string);
    case 'NotIn': return !has || !values.includes(value as string);
    case 'Exists': return has;
    case 'DoesNotExist': return !has;
    case 'Gt':
    case 'Lt': {
      if (!has || values.length !== 1) return false;
      const found = Number.parseInt(value as string, 10);
      const bound = Number.parseInt(values[0] as string, 10);
      if (Number.isNaN(found) || Number.isNaN(bound)) return false;
      return req.operator === 'Gt' ? found > bound : found < bound;
    }
    default: return false;
  }
}

/** Whether a LabelSelector selects the labels; an empty selector selects everything, as in apps/v1. */
export function labelSelectorMatches(selector: LabelSelector | undefined, labels: Record<string, string> | undefined): boolean {
  const have = labels ?? {};
  for (const [key, value] of Object.entries(selector?.matchLabels ?? {})) if (have[key] !== value) return false;
  return (selector?.matchExpressions ?? []).every((req) => requirementMatches(req, have));
}

/** Whether a node matches one term; a term with no requirements matches nothing, as the scheduler has it. */
export function nodeSelectorTermMatches(term: NodeSelectorTerm, node: { name: string; labels: Record<string, string> }): boolean {
  const expressions = term.matchExpressions ?? [];
  const fields = term.matchFields ?? [];
  if (expressions.length === 0 && fields.length === 0) return false;
  const fieldSet = { 'metadata.name': node.name };
  return expressions.every((req) => requirementMatches(req, node.labels)) && fields.every((req) => requirementMatches(req, fieldSet));
}

/** A label selector in the equality form: every entry must match exactly. */
export type EqualitySelector = Readonly<Record<string, string>>;

/** True when every `key=value` of `selector` is among `labels`. The empty selector matches everything. */
export function matchesLabels(labels: Readonly<Record<string, string>> | undefined, selector: EqualitySelector): boolean {
  return Object.entries(selector).every(([key, value]) => labels?.[key] === value);
}

/** `selector` as the `labelSelector` query parameter writes it (`a=b,c=d`). */
export function selectorString(selector: EqualitySelector): string {
  return Object.entries(selector).map(([key, value]) => `${key}=${value}`).join(',');
}

/** The equality form of a `labelSelector` string (`a=b,c=d`, as {@link selectorString} writes it); throws for any other form. */
export function parseSelectorString(text: string): EqualitySelector {
  const selector: Record<string, string> = {};
  for (const part of text.split(',')) {
    const match = /^([^=!,\s]+)==?([^=!,\s]*)$/.exec(part.trim());
    if (!match) throw new Error(`expected a label selector of key=value pairs, but "${text}" has "${part}"`);
    selector[match[1] as string] = match[2] as string;
  }
  return selector;
}
