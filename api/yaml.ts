// YAML as the project writes it (CRDs, rendered objects, the installation's site configuration).
import { stringify } from 'yaml';

/** YAML with the key order as built and no line folding, so generated files diff cleanly. */
export function toYaml(value: unknown): string {
  return stringify(value, { lineWidth: 0 });
}
