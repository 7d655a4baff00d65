// Deterministic names for rendered objects: readable, stable across renders, and within the
// 63-character limit of a DNS label however long the custom resource's own name is.
import { createHash } from 'node:crypto';

const LABEL_MAX = 63;

/** A short stable hash (8 hex characters) of a string, for names that must stay unique when shortened. */
export function shortHash(value: string): string {
  return createHash('sha256').update(value).digest('hex').slice(0, 8);
}

/** `<base>-<suffix>`, or when that is over 63 characters, base shortened with a hash of the whole so names stay unique. */
export function childName(base: string, suffix: string): string {
  const full = `${base}-${suffix}`;
  if (full.length <= LABEL_MAX) return full;
  const keep = LABEL_MAX - suffix.length - 10;
  return `${base.slice(0, keep).replace(/-+$/, '')}-${shortHash(full)}-${suffix}`;
}

/** A DNS-label slug of a free-form name such as an e-mail address: lower case, other characters become "-". */
export function slug(value: string, max: number): string {
  const s = value.toLowerCase().replace(/[^a-z0-9]+/g, '-').replace(/^-+|-+$/g, '').slice(0, max).replace(/-+$/, '');
  return s === '' ? 'x' : s;
}

/** `<prefix>-<slug of value>-<hash of value>`: stable per value, distinct for values that slug alike, at most `max` (63) characters. */
export function memberName(prefix: string, value: string, max = LABEL_MAX): string {
  return `${prefix}-${slug(value, max - prefix.length - 10)}-${shortHash(value)}`;
}

/** `<prefix>-<value>`, or with value shortened and a hash of it appended when that is over 63 characters. */
export function prefixedName(prefix: string, value: string): string {
  const full = `${prefix}-${value}`;
  if (full.length <= LABEL_MAX) return full;
  return `${prefix}-${value.slice(0, LABEL_MAX - prefix.length - 10).replace(/-+$/, '')}-${shortHash(value)}`;
}

/**
 * Every suffix a construct appends to a custom resource's name to name a child (a workspace's
 * home claim, a federated job's participant, aggregator and their policies). A Workspace, whose
 * children carry its bare name, may not end with one: `x-aggregator` would name federated job
 * x's aggregator Service.
 */
export const CHILD_SUFFIXES = ['home', 'participant', 'participant-egress', 'aggregator', 'aggregator-ingress'] as const;
