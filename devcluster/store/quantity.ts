// Kubernetes resource quantities ('500m', '4Gi', '1.5', '2e3'): parse to numbers, add, compare
// and format back the way the API server prints them.

/** A quantity string that is not in Kubernetes quantity syntax. */
export class QuantityParseError extends Error {
  override readonly name = 'QuantityParseError';
  constructor(text: string) {
    super(`quantity "${text}" must match the regular expression '^([+-]?[0-9.]+)([eEinumkKMGTP]*[-+]?[0-9]*)$'`);
  }
}

const BINARY: Record<string, number> = { Ki: 2 ** 10, Mi: 2 ** 20, Gi: 2 ** 30, Ti: 2 ** 40, Pi: 2 ** 50, Ei: 2 ** 60 };
const DECIMAL: Record<string, number> = { n: 1e-9, u: 1e-6, m: 1e-3, '': 1, k: 1e3, M: 1e6, G: 1e9, T: 1e12, P: 1e15, E: 1e18 };
const PATTERN = /^([+-]?(?:[0-9]+(?:\.[0-9]*)?|\.[0-9]+))(Ki|Mi|Gi|Ti|Pi|Ei|n|u|m|k|M|G|T|P|E|[eE][-+]?[0-9]+)?$/;

/** Parses a quantity (string or number) to its numeric value; throws QuantityParseError. */
export function parseQuantity(q: string | number): number {
  if (typeof q === 'number') return q;
  const m = PATTERN.exec(q.trim());
  if (!m) throw new QuantityParseError(q);
  const num = Number(m[1]);
  const suffix = m[2] ?? '';
  if (suffix in BINARY) return num * (BINARY[suffix] ?? 1);
  if (suffix in DECIMAL) return num * (DECIMAL[suffix] ?? 1);
  return num * 10 ** Number(suffix.slice(1));
}

/** True when the text is a valid quantity. */
export function isQuantity(q: unknown): boolean {
  if (typeof q === 'number') return Number.isFinite(q);
  return typeof q === 'string' && PATTERN.test(q.trim());
}

/** Whether a quantity was written with binary (Ki, Mi...) or decimal suffixes, so sums print alike. */
export type QuantityFormat = 'BinarySI' | 'DecimalSI';

/** The format a quantity string uses. */
export function quantityFormat(q: string | number): QuantityFormat {
  return typeof q === 'string' && /[KMGTPE]i$/.test(q.trim()) ? 'BinarySI' : 'DecimalSI';
}

function round(n: number): number {
  return Math.round(n * 1e9) / 1e9;
}

/** Formats a value canonically: '0', '500m', '2', '4Gi', '1500Mi'; the inverse of parseQuantity. */
export function formatQuantity(value: number, format: QuantityFormat = 'DecimalSI'): string {
  const v = round(value);
  if (v === 0) return '0';
  if (format === 'BinarySI' && Number.isInteger(v)) {
    for (const suffix of ['Ei', 'Pi', 'Ti', 'Gi', 'Mi', 'Ki']) {
      const unit = BINARY[suffix] ?? 1;
      if (Math.abs(v) >= unit && v % unit === 0) return `${v / unit}${suffix}`;
    }
    return String(v);
  }
  if (Number.isInteger(v)) return String(v);
  for (const [suffix, unit] of [['m', 1e-3], ['u', 1e-6], ['n', 1e-9]] as const) {
    const scaled = round(v / unit);
    if (Number.isInteger(scaled)) return `${scaled}${suffix}`;
  }
  return String(v);
}

/** Adds quantities, keeping the format of the first operand. */
export function addQuantities(a: string | number, b: string | number): string {
  return formatQuantity(parseQuantity(a) + parseQuantity(b), quantityFormat(a));
}

/** -1, 0 or 1 as a is less than, equal to or greater than b. */
export function compareQuantities(a: string | number, b: string | number): number {
  const d = round(parseQuantity(a) - parseQuantity(b));
  return d < 0 ? -1 : d > 0 ? 1 : 0;
}
