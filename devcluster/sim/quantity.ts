// Kubernetes resource quantities ("500m", "2Ti", "1.5Gi", "8") as plain numbers of milli-units,
// so cpu, memory and extended resources compare with one arithmetic. 2Ti in milli-units is
// 2.2e15, well inside the exact range of a double. Parsing is api/quantity.ts's, as everywhere.
import { parseQuantity } from '../../api/quantity.ts';

/** Parses a quantity into milli-units, rounding up as the API server does ("1n" is 1m); throws QuantityParseError. */
export function parseMilli(quantity: string | number): number {
  return Math.ceil(parseQuantity(quantity) * 1000 - 1e-6);
}

/** A set of named resource amounts in milli-units (cpu, memory, pods, nvidia.com/gpu, ...). */
export type ResourceAmounts = Map<string, number>;

/** Parses a Kubernetes ResourceList ({cpu: "2", memory: "4Gi"}) into milli-unit amounts. */
export function parseResourceList(list: Record<string, string | number> | undefined): ResourceAmounts {
  const amounts: ResourceAmounts = new Map();
  for (const [name, value] of Object.entries(list ?? {})) amounts.set(name, parseMilli(value));
  return amounts;
}

/** Adds `more` into `into` (in place) and returns `into`. */
export function addAmounts(into: ResourceAmounts, more: ResourceAmounts, sign: 1 | -1 = 1): ResourceAmounts {
  for (const [name, value] of more) into.set(name, (into.get(name) ?? 0) + sign * value);
  return into;
}
