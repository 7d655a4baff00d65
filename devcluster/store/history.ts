// The bounded window of recent changes a watch can resume from. A resourceVersion older than the
// oldest change of its type that fell out of the window (or older than a forced compaction) gets
// 410 Gone, as from a compacted etcd; churn in other types does not expire an idle type's watch.
import { gone } from './errors.ts';
import type { KubeObject, ResourceType, WatchEventType } from './types.ts';

/** One recorded change; `previous` is the object before a MODIFIED, for selector transitions. */
export interface HistoryEntry {
  rv: number;
  typeKey: string;
  type: WatchEventType;
  resource: ResourceType;
  object: KubeObject;
  previous?: KubeObject;
}

/** A ring of the last `capacity` changes, searchable by resourceVersion. */
export class WatchHistory {
  #entries: HistoryEntry[] = [];
  #head = 0;
  #floor = 0;
  readonly #typeFloors = new Map<string, number>();
  readonly #capacity: number;

  constructor(capacity: number) {
    this.#capacity = capacity;
  }

  /** Records a change; the oldest entries fall out once the window is full. */
  record(entry: HistoryEntry): void {
    this.#entries.push(entry);
    if (this.#entries.length - this.#head > this.#capacity) {
      const dropped = this.#entries[this.#head];
      this.#head += 1;
      if (dropped) this.#typeFloors.set(dropped.typeKey, dropped.rv);
      if (this.#head > this.#capacity) {
        this.#entries = this.#entries.slice(this.#head);
        this.#head = 0;
      }
    }
  }

  /** Forgets everything up to `rv`: a watch from any older resourceVersion gets 410 Gone. */
  compact(rv: number): void {
    this.#floor = Math.max(this.#floor, rv);
    while (this.#head < this.#entries.length && (this.#entries[this.#head]?.rv ?? 0) <= rv) this.#head += 1;
  }

  /** Changes after `rv`, oldest first; throws 410 Gone when changes of `typeKey` after `rv` were dropped. */
  since(rv: number, typeKey: string): HistoryEntry[] {
    const floor = Math.max(this.#floor, this.#typeFloors.get(typeKey) ?? 0);
    if (rv < floor) throw gone(`too old resource version: ${rv} (${floor + 1})`);
    let lo = this.#head;
    let hi = this.#entries.length;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if ((this.#entries[mid]?.rv ?? 0) <= rv) lo = mid + 1;
      else hi = mid;
    }
    return this.#entries.slice(lo);
  }
}
