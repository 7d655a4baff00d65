// Reads of many objects: a type's objects that match a namespace and label and field selectors,
// in namespace then name order, and pages of them with the continue token the next page starts
// after. Lists are consistent at the time of each page, not at the first page's resourceVersion.
import { badRequest } from './errors.ts';
import { fieldSelectorName, parseFieldSelector, parseLabelSelector } from './selectors.ts';
import type { ObjectStorage } from './storage.ts';
import type { KubeObject, ResourceType } from './types.ts';
import { asServed, storageKeyOf } from './versions.ts';

/** Options for list and watch. */
export interface ListOptions {
  namespace?: string;
  labelSelector?: string;
  fieldSelector?: string;
}

/** Where a page starts and how long it is. */
export interface PageOptions {
  limit?: number;
  continue?: string;
}

/** A page of a list: `continue` is set when more items remain. */
export interface ListPage {
  items: KubeObject[];
  resourceVersion: string;
  continue?: string;
  remainingItemCount?: number;
}

/** Stored objects (not copies) of `rt` matching the options, as `rt` serves them, sorted by namespace then name. */
export function scan(storage: ObjectStorage, rt: ResourceType, opts: ListOptions): KubeObject[] {
  const key = storageKeyOf(rt);
  const stored = storage.namespaces(key);
  if (!stored) return [];
  const labelMatch = parseLabelSelector(opts.labelSelector);
  const fieldMatch = parseFieldSelector(opts.fieldSelector);
  const onlyName = fieldSelectorName(opts.fieldSelector);
  const out: KubeObject[] = [];
  const namespaces = rt.namespaced && opts.namespace !== undefined && opts.namespace !== '' ? [opts.namespace] : stored;
  for (const ns of namespaces.sort()) {
    const objs = storage.inNamespace(key, ns);
    if (!objs) continue;
    const candidates = onlyName === undefined ? objs.values() : [objs.get(onlyName)].filter((o) => o !== undefined);
    const inNs: KubeObject[] = [];
    for (const obj of candidates) {
      const view = asServed(rt, obj);
      if (labelMatch(obj.metadata.labels) && fieldMatch(view)) inNs.push(view);
    }
    inNs.sort((a, b) => (a.metadata.name < b.metadata.name ? -1 : a.metadata.name > b.metadata.name ? 1 : 0));
    for (const o of inNs) out.push(o);
  }
  return out;
}

/** The page of `items` (sorted as scan sorts them) after the continue token, at most `limit` long. */
export function page(items: KubeObject[], resourceVersion: string, opts: PageOptions): ListPage {
  let rest = items;
  if (opts.continue !== undefined && opts.continue !== '') {
    let after: [string, string];
    try {
      after = (JSON.parse(Buffer.from(opts.continue, 'base64url').toString('utf8')) as { start: [string, string] }).start;
    } catch {
      throw badRequest('invalid continue token: expected the token a previous list returned');
    }
    const [afterNs, afterName] = after;
    rest = rest.filter((o) => {
      const ns = o.metadata.namespace ?? '';
      return ns > afterNs || (ns === afterNs && o.metadata.name > afterName);
    });
  }
  if (opts.limit !== undefined && opts.limit > 0 && rest.length > opts.limit) {
    const items = rest.slice(0, opts.limit);
    const last = items[items.length - 1];
    const start = [last?.metadata.namespace ?? '', last?.metadata.name ?? ''];
    return {
      items,
      resourceVersion,
      continue: Buffer.from(JSON.stringify({ rv: resourceVersion, start }), 'utf8').toString('base64url'),
      remainingItemCount: rest.length - items.length,
    };
  }
  return { items: rest, resourceVersion };
}
