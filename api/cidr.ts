// IPv4 CIDR blocks: the one pattern every CIDR field of the API is checked against, and the
// arithmetic of network policy checks (containment of blocks and of addresses).
import { z } from 'zod';

/** An IPv4 CIDR field (`10.20.0.0/24`), as the API's schemas and the CRDs check it; octets over 255 are the site rules' to refuse (see {@link isCidr}). */
export const cidr = z
  .string()
  .regex(/^([0-9]{1,3}\.){3}[0-9]{1,3}\/([0-9]|[12][0-9]|3[0-2])$/, { message: 'must be an IPv4 CIDR such as "10.20.0.0/24"' });

/** An IPv4 address field (`203.0.113.7`), checked by pattern as {@link cidr} is (no JSON Schema `format`, which not every validator knows). */
export const ipv4Address = z
  .string()
  .regex(/^(25[0-5]|2[0-4][0-9]|1[0-9][0-9]|[1-9]?[0-9])(\.(25[0-5]|2[0-4][0-9]|1[0-9][0-9]|[1-9]?[0-9])){3}$/, { message: 'must be an IPv4 address such as "203.0.113.7"' });

/** An IPv4 block as a start address and prefix length, both as numbers. */
export interface Block {
  base: number;
  prefix: number;
}

/** Raised when a string is not an IPv4 address or CIDR block. */
export class CidrError extends Error {
  override readonly name = 'CidrError';
  constructor(value: string) {
    super(`expected an IPv4 CIDR such as "10.20.0.0/24", found ${JSON.stringify(value)}`);
  }
}

function address(text: string, whole: string): number {
  const parts = text.split('.');
  if (parts.length !== 4) throw new CidrError(whole);
  let n = 0;
  for (const p of parts) {
    if (!/^[0-9]{1,3}$/.test(p) || Number(p) > 255) throw new CidrError(whole);
    n = n * 256 + Number(p);
  }
  return n;
}

/** Parses "a.b.c.d/n" (or a bare address, as /32); the base is masked to the prefix as Kubernetes does. */
export function parseCidr(cidr: string): Block {
  const [ip, len] = cidr.split('/');
  const prefix = len === undefined ? 32 : Number(len);
  if (ip === undefined || !Number.isInteger(prefix) || prefix < 0 || prefix > 32) throw new CidrError(cidr);
  const size = 2 ** (32 - prefix);
  const a = address(ip, cidr);
  return { base: a - (a % size), prefix };
}

/** True when the text is an IPv4 CIDR block (or address) with every octet at most 255. */
export function isCidr(text: string): boolean {
  try {
    parseCidr(text);
    return true;
  } catch {
    return false;
  }
}

/** The number of addresses in a block. */
export function blockSize(b: Block): number {
  return 2 ** (32 - b.prefix);
}

/** True when every address of `inner` lies in `outer`; false when either is not a valid block, so bad input never widens access. */
export function cidrContains(outer: string, inner: string): boolean {
  if (!isCidr(outer) || !isCidr(inner)) return false;
  const o = parseCidr(outer);
  const i = parseCidr(inner);
  return i.prefix >= o.prefix && i.base >= o.base && i.base + blockSize(i) <= o.base + blockSize(o);
}

/** True when the two blocks share at least one address. */
export function cidrOverlaps(a: string, b: string): boolean {
  const x = parseCidr(a);
  const y = parseCidr(b);
  return x.base < y.base + blockSize(y) && y.base < x.base + blockSize(x);
}

/** An address (a number, as {@link parseCidr} gives) as dotted text. */
export function formatAddress(address: number): string {
  return [24, 16, 8, 0].map((s) => Math.floor(address / 2 ** s) % 256).join('.');
}

/** The first address of a block as dotted text, e.g. the address a client uses for a /32. */
export function firstAddress(cidr: string): string {
  return formatAddress(parseCidr(cidr).base);
}

/** The address just past a block, as dotted text. */
export function addressAfter(cidr: string): string {
  const block = parseCidr(cidr);
  return formatAddress(block.base + blockSize(block));
}
