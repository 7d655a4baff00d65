// The names of a cache's cluster-scoped objects in sorted order, kept up to date from its events:
// "the enclaves after this one" without a pass over every enclave.
import type { ObjectCache } from '../runtime/index.ts';

/**
 * Sorted names, kept as objects are added and deleted, so each lookup is a binary search. The
 * access monitor asks, for every enclave on every change, for a member of the next enclave by
 * name; a pass over all of them each time made a site's creation quadratic (at 1,000 enclaves,
 * the pass and the lists it copied were 12 % of what the operator allocated).
 */
export class SortedNames {
  readonly #names: string[] = [];

  /** Reads `cache` once and follows its events from then on (for the cache's lifetime). */
  constructor(cache: ObjectCache) {
    for (const object of cache.list()) this.#add(object.metadata?.name ?? '');
    cache.subscribe((event) => {
      if (event.type === 'ADDED') this.#add(event.object.metadata?.name ?? '');
      else if (event.type === 'DELETED') this.#remove(event.object.metadata?.name ?? '');
    });
  }

  get size(): number {
    return this.#names.length;
  }

  /** Every name but `name`, starting with the first after it and wrapping round to the first. */
  *after(name: string): Generator<string> {
    const start = this.#lowerBound(name);
    const from = this.#names[start] === name ? start + 1 : start;
    for (let i = 0; i < this.#names.length; i++) {
      const next = this.#names[(from + i) % this.#names.length]!;
      if (next !== name) yield next;
    }
  }

  #add(name: string): void {
    const at = this.#lowerBound(name);
    if (this.#names[at] !== name) this.#names.splice(at, 0, name);
  }

  #remove(name: string): void {
    const at = this.#lowerBound(name);
    if (this.#names[at] === name) this.#names.splice(at, 1);
  }

  /** The index of the first name not less than `name`. */
  #lowerBound(name: string): number {
    let low = 0;
    let high = this.#names.length;
    while (low < high) {
      const mid = (low + high) >>> 1;
      if (this.#names[mid]! < name) low = mid + 1;
      else high = mid;
    }
    return low;
  }
}
