// The diff kube-apiserver appends to "spec is immutable after creation" messages. The real server
// prints go-cmp's report of the internal struct, which go-cmp words differently from run to run
// on purpose (so no client can parse it); the devcluster keeps its frame and lists the fields
// that changed, with their values as JSON.
import { semanticEqual } from './semantic-equal.ts';

/**
 * `\n  <type>{\n- \t<Field>: <old>\n+ \t<Field>: <new>\n  }\n` for every field of `fields`
 * (JSON name, Go name, in the struct's order) that differs semantically between old and next.
 */
export function fieldDiff(type: string, fields: readonly (readonly [json: string, go: string])[], old: Record<string, unknown>, next: Record<string, unknown>): string {
  const show = (value: unknown): string => (value === undefined ? 'nil' : JSON.stringify(value));
  const lines = fields
    .filter(([json]) => !semanticEqual(old[json], next[json]))
    .flatMap(([json, go]) => [`- \t${go}: ${show(old[json])}`, `+ \t${go}: ${show(next[json])}`]);
  return `\n  ${type}{\n${lines.join('\n')}\n  }\n`;
}
