// Kubernetes resource quantities ("500m", "2Ti", "1.5Gi", "8") as whole numbers of milli-units, so
// cpu, memory and extended resources add and compare exactly with one arithmetic, in admission
// (quota, LimitRange) and in the scheduler alike. 2Ti in milli-units is 2.2e15, well inside the
// exact integer range of a double. The syntax is api/quantity.ts's, as everywhere in the project.
import { BINARY, parseQuantity } from '../../api/quantity.ts';

/** Parses a quantity into milli-units, rounding up as the API server does ("1n" is 1m); throws QuantityParseError. */
export function parseMilli(quantity: string | number): number {
  return Math.ceil(parseQuantity(quantity) * 1000 - 1e-6);
}

/** -1, 0 or 1 as quantity a is less than, equal to or greater than b (to the milli-unit). */
export function compareQuantities(a: string | number, b: string | number): number {
  return Math.sign(parseMilli(a) - parseMilli(b));
}

/** A set of named resource amounts in milli-units (cpu, memory, pods, nvidia.com/gpu, ...). */
export type ResourceAmounts = Map<string, number>;

/** Parses a Kubernetes ResourceList ({cpu: "2", memory: "4Gi"}) into milli-unit amounts. */
export function parseResourceList(list: Record<string, string | number> | undefined): ResourceAmounts {
  const amounts: ResourceAmounts = new Map();
  for (const [name, value] of Object.entries(list ?? {})) amounts.set(name, parseMilli(value));
  return amounts;
}

/** Adds `more` into `into` (in place; subtracts with sign -1) and returns `into`. */
export function addAmounts(into: ResourceAmounts, more: ResourceAmounts, sign: 1 | -1 = 1): ResourceAmounts {
  for (const [name, value] of more) into.set(name, (into.get(name) ?? 0) + sign * value);
  return into;
}

/** Whether a quantity was written with binary (Ki, Mi...) or decimal suffixes, so sums print alike. */
export type QuantityFormat = 'BinarySI' | 'DecimalSI';

/** The format a quantity string uses. */
export function quantityFormat(quantity: string | number): QuantityFormat {
  return typeof quantity === 'string' && /[KMGTPE]i$/.test(quantity.trim()) ? 'BinarySI' : 'DecimalSI';
}

const BINARY_SUFFIXES = ['Ei', 'Pi', 'Ti', 'Gi', 'Mi', 'Ki'];

/** Formats milli-units canonically: '0', '500m', '2', '4Gi', '1500Mi'; the inverse of parseMilli. */
export function formatMilli(milli: number, format: QuantityFormat = 'DecimalSI'): string {
  if (milli === 0) return '0';
  if (milli % 1000 !== 0) return `${milli}m`;
  const whole = milli / 1000;
  if (format === 'BinarySI') {
    for (const suffix of BINARY_SUFFIXES) {
      const unit = BINARY[suffix] ?? 1;
      if (Math.abs(whole) >= unit && whole % unit === 0) return `${whole / unit}${suffix}`;
    }
  }
  return String(whole);
}
