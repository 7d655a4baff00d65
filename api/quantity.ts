// Kubernetes quantities ("500m", "4Gi", "2Ti", 8) as numbers, for comparing what a spec asks for
// with what a quota or pool allows. The syntax itself is checked by the schemas (meta.ts).

/** A quantity that is not in Kubernetes quantity syntax. */
export class QuantityParseError extends Error {
  override readonly name = 'QuantityParseError';
  constructor(text: string) {
    super(`expected a Kubernetes quantity such as "500m", "2", "16Gi" or "1Ti", found "${text}"`);
  }
}

/** The binary suffixes (Ki … Ei) and their multipliers. */
export const BINARY: Record<string, number> = { Ki: 2 ** 10, Mi: 2 ** 20, Gi: 2 ** 30, Ti: 2 ** 40, Pi: 2 ** 50, Ei: 2 ** 60 };
const DECIMAL: Record<string, number> = { n: 1e-9, u: 1e-6, m: 1e-3, '': 1, k: 1e3, M: 1e6, G: 1e9, T: 1e12, P: 1e15, E: 1e18 };
const PATTERN = /^([+-]?(?:[0-9]+(?:\.[0-9]*)?|\.[0-9]+))(Ki|Mi|Gi|Ti|Pi|Ei|n|u|m|k|M|G|T|P|E|[eE][-+]?[0-9]+)?$/;

/** The value of a quantity in base units (cores, bytes, items); throws QuantityParseError. */
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
