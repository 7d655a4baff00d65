// Kubernetes resource quantities ("500m", "2Ti", "1.5Gi", "8") as plain numbers of milli-units,
// so cpu, memory and extended resources compare with one arithmetic. 2Ti in milli-units is
// 2.2e15, well inside the exact range of a double.

const BINARY: Record<string, number> = { Ki: 2 ** 10, Mi: 2 ** 20, Gi: 2 ** 30, Ti: 2 ** 40, Pi: 2 ** 50, Ei: 2 ** 60 };
const DECIMAL: Record<string, number> = { n: 1e-9, u: 1e-6, m: 1e-3, '': 1, k: 1e3, M: 1e6, G: 1e9, T: 1e12, P: 1e15, E: 1e18 };
const QUANTITY = /^([+-]?(?:\d+\.?\d*|\.\d+))(?:([eE][+-]?\d+)|(Ki|Mi|Gi|Ti|Pi|Ei|[numkMGTPE])?)$/;

/** Thrown when a string is not a Kubernetes quantity; names the text found. */
export class InvalidQuantityError extends Error {
  override readonly name = 'InvalidQuantityError';
  readonly found: unknown;
  constructor(found: unknown) {
    super(`expected a Kubernetes quantity such as "500m", "2Gi" or "8", found ${JSON.stringify(found)}`);
    this.found = found;
  }
}

/** Parses a quantity into milli-units, rounding up as the API server does ("1n" is 1m). */
export function parseMilli(quantity: string | number): number {
  if (typeof quantity === 'number') return Math.ceil(quantity * 1000);
  const match = QUANTITY.exec(quantity.trim());
  if (!match) throw new InvalidQuantityError(quantity);
  const [, digits, exponent, suffix = ''] = match;
  const base = Number(digits);
  const scale = exponent !== undefined ? 10 ** Number(exponent.slice(1)) : (BINARY[suffix] ?? DECIMAL[suffix] ?? 1);
  return Math.ceil(base * scale * 1000 - 1e-6);
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
