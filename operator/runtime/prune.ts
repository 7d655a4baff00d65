// Deleting children that are no longer rendered, by label, with what the operator protects out of reach.
import type { KubernetesObject } from '@kubernetes/client-node';
import type { ObjectCache } from './cache.ts';
import type { KubeClient } from './kube.ts';
import { selectorString, type EqualitySelector as LabelSelector } from '../../api/selectors.ts';
import { identityOf, typeId, type ResourceType } from './resources.ts';

/** What pruning must never delete, whatever its labels (the operator's research data): true to keep `object`. */
export type PruneProtection = (object: Readonly<KubernetesObject>) => boolean;

/** Options of {@link prune}. */
export interface PruneOptions {
  /** Labels every candidate carries (e.g. `{ 'sde.london/enclave': name }`); must not be empty. */
  selector: LabelSelector;
  /** A candidate for which this is true is never deleted, only reported in `protected`. */
  protect: PruneProtection;
  /** Identities ({@link identityOf}) of the objects still desired: these stay. */
  keep: ReadonlySet<string>;
  /** The kinds to look through, each with its cache (from a controller's `owns`). */
  caches: readonly ObjectCache[];
  /** Only look in this namespace; default all. */
  namespace?: string;
  /**
   * Kinds of which the caller renders every object `selector` matches in `namespace` (nobody else
   * creates such objects there). When none of them is to be kept, one DELETE of the collection
   * removes them all at once instead of one request each: an enclave's member bindings on expiry.
   * Needs `namespace`.
   */
  collections?: readonly ResourceType[];
}

/** What pruning did: identities deleted (and the cached objects they were), and identities it refused to delete because they are protected. */
export interface PruneResult {
  deleted: string[];
  deletedObjects: Readonly<KubernetesObject>[];
  protected: string[];
}

/** An empty selector would make every object of the given kinds a candidate: refused. */
export class UnsafePruneError extends Error {
  override readonly name = 'UnsafePruneError';

  constructor(kinds: readonly ResourceType[]) {
    super(`expected a non-empty label selector to prune ${kinds.map((type) => type.kind).join(', ')}, but found none`);
  }
}

/**
 * Deletes cached objects of the given kinds that carry every `selector` label and are not in
 * `keep`, skipping protected ones (reported in `protected`). Deletions that find the object gone
 * count as done. Reads only the caches; the only requests are the deletes.
 */
export async function prune(client: KubeClient, options: PruneOptions): Promise<PruneResult> {
  if (Object.keys(options.selector).length === 0) throw new UnsafePruneError(options.caches.map((cache) => cache.type));
  const result: PruneResult = { deleted: [], deletedObjects: [], protected: [] };
  const doomed: Readonly<KubernetesObject>[] = [];
  const wholeCollections: Array<{ type: ResourceType; objects: Readonly<KubernetesObject>[] }> = [];
  for (const cache of options.caches) {
    const matching = cache.list({ labels: options.selector, ...(options.namespace !== undefined ? { namespace: options.namespace } : {}) });
    const mine: Readonly<KubernetesObject>[] = [];
    for (const object of matching) {
      const identity = identityOf(object);
      if (options.keep.has(identity) || object.metadata?.deletionTimestamp) continue;
      if (options.protect(object)) result.protected.push(identity);
      else mine.push(object);
    }
    const whole = options.namespace !== undefined && mine.length > 1 && mine.length === matching.length && (options.collections ?? []).some((type) => typeId(type) === typeId(cache.type));
    if (whole) wholeCollections.push({ type: cache.type, objects: mine });
    else doomed.push(...mine);
  }
  if (doomed.length > 0 || wholeCollections.length > 0) client.assertMayWrite();
  const done = (object: Readonly<KubernetesObject>): void => {
    result.deleted.push(identityOf(object));
    result.deletedObjects.push(object);
  };
  await Promise.all([
    ...doomed.map(async (object) => {
      await client.delete({ apiVersion: object.apiVersion, kind: object.kind, metadata: { name: object.metadata?.name, namespace: object.metadata?.namespace } } as KubernetesObject);
      done(object);
    }),
    ...wholeCollections.map(async ({ type, objects }) => {
      await client.deleteCollection(type, options.namespace, selectorString(options.selector));
      for (const object of objects) done(object);
    }),
  ]);
  return result;
}
