// Optional file persistence: the whole store as one JSON file, written atomically shortly after
// changes and on stop, and loaded on start so a restarted devcluster keeps its objects.
import { existsSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import type { ClusterStore } from './cluster-store.ts';
import type { Snapshot } from './snapshot.ts';

/** The data file exists but is not a snapshot this devcluster wrote. */
export class DataFileError extends Error {
  override readonly name = 'DataFileError';
}

/**
 * Saves the store to `file` a short while after each burst of writes (never spending more than
 * about a tenth of the time saving); `flush` saves now.
 */
export class FilePersistence {
  #timer: NodeJS.Timeout | undefined;
  #lastFlushMs = 0;
  readonly #unsubscribe: () => void;
  readonly #file: string;
  readonly #store: ClusterStore;

  constructor(store: ClusterStore, file: string, delayMs = 200) {
    this.#store = store;
    this.#file = file;
    this.#unsubscribe = store.onWrite(() => {
      this.#timer ??= setTimeout(() => {
        this.#timer = undefined;
        this.flush();
      }, Math.max(delayMs, this.#lastFlushMs * 10));
    });
  }

  /** Loads `file` into the store if it exists; throws DataFileError if it is unreadable. */
  static load(store: ClusterStore, file: string): void {
    if (!existsSync(file)) return;
    let snap: unknown;
    try {
      snap = JSON.parse(readFileSync(file, 'utf8'));
    } catch (err) {
      throw new DataFileError(`data file ${file}: expected a JSON snapshot written by the devcluster, found unparsable content (${(err as Error).message})`);
    }
    const s = snap as { resourceVersion?: unknown; objects?: unknown };
    if (typeof s.resourceVersion !== 'number' || !Array.isArray(s.objects)) {
      throw new DataFileError(`data file ${file}: expected { resourceVersion, objects }, found another JSON shape`);
    }
    store.restore(snap as Snapshot);
  }

  /** Writes the snapshot now (atomically: temp file then rename). */
  flush(): void {
    const started = performance.now();
    const tmp = `${this.#file}.tmp`;
    writeFileSync(tmp, JSON.stringify(this.#store.snapshot()));
    renameSync(tmp, this.#file);
    this.#lastFlushMs = performance.now() - started;
  }

  /** Stops listening and writes a final snapshot. */
  close(): void {
    this.#unsubscribe();
    if (this.#timer) clearTimeout(this.#timer);
    this.#timer = undefined;
    this.flush();
  }
}
