// Kubernetes resource quantities ('500m', '4Gi', '1.5', '2e3'): parse to numbers, add, compare
// and format back the way the API server prints them.

import { BINARY, isQuantity, parseQuantity, QuantityParseError } from '../../api/quantity.ts';

// One parser for the whole project (api/quantity.ts); this module adds what an API server needs
// on top of it: formatting sums back the way the server prints them, and comparing.
export { isQuantity, parseQuantity, QuantityParseError };

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
