// Every committed change, delivered once the write is done: first to the store plugins'
// afterCommit, then to the watches of its type (each picking changes by its selectors), then to
// in-process subscribers (each handed its own copy), then to write hooks. A change written by
// any of them is queued behind the one being delivered, so all see changes in resourceVersion
// order; a failing listener neither undoes the change nor fails the writer.
import type { HistoryEntry } from './history.ts';
import type { ListOptions } from './listing.ts';
import { clone } from './objects.ts';
import { parseFieldSelector, parseLabelSelector } from './selectors.ts';
import { typeKeyOf } from './type-registry.ts';
import type { KubeObject, ResourceType, StoreEvent, WatchEventType } from './types.ts';
import { asServed } from './versions.ts';

/** A committed change, as plugins see it after the write. */
export interface CommittedChange {
  type: Exclude<WatchEventType, 'BOOKMARK'>;
  rt: ResourceType;
  object: KubeObject;
  previous?: KubeObject;
}

type Listener = (ev: StoreEvent) => void;
type Watcher = (entry: HistoryEntry) => void;

/** Told about a failure while a committed change is delivered. */
export type ListenerErrorHandler = (err: unknown, change: StoreEvent) => void;

/** Runs `afterCommit` for a change; `guarded` keeps one failure from stopping the rest. */
export type AfterCommit = (change: CommittedChange, guarded: (fn: () => void) => void) => void;

/** Delivers each committed change to everything that follows the store, in order. */
export class ChangeFanOut {
  readonly #afterCommit: AfterCommit;
  readonly #onListenerError: ListenerErrorHandler;
  readonly #listeners = new Map<string, Set<Listener>>();
  readonly #watchers = new Map<string, Set<Watcher>>();
  #writeHooks: (() => void)[] = [];
  readonly #pending: HistoryEntry[] = [];
  #dispatching = false;

  constructor(afterCommit: AfterCommit, onListenerError: ListenerErrorHandler) {
    this.#afterCommit = afterCommit;
    this.#onListenerError = onListenerError;
  }

  /** Delivers `entry` now, or after the change being delivered when called from a listener. */
  publish(entry: HistoryEntry): void {
    this.#pending.push(entry);
    if (this.#dispatching) return;
    this.#dispatching = true;
    try {
      for (let next = this.#pending.shift(); next !== undefined; next = this.#pending.shift()) this.#deliver(next);
    } finally {
      this.#dispatching = false;
    }
  }

  /** Calls `onEvent` with a copy of every change written through the type named `typeKey` (`*`: every type). */
  subscribe(typeKey: string, onEvent: (ev: StoreEvent) => void): () => void {
    const set = this.#listeners.get(typeKey) ?? new Set();
    this.#listeners.set(typeKey, set);
    const wrapped: Listener = (ev) => onEvent(ev);
    set.add(wrapped);
    return () => {
      set.delete(wrapped);
    };
  }

  /** Calls `watcher` with every change (not a copy) to the objects stored under `storageKey`. */
  follow(storageKey: string, watcher: Watcher): () => void {
    const set = this.#watchers.get(storageKey) ?? new Set();
    this.#watchers.set(storageKey, set);
    set.add(watcher);
    return () => {
      set.delete(watcher);
    };
  }

  /** Calls `hook` after every committed change. */
  onWrite(hook: () => void): () => void {
    this.#writeHooks.push(hook);
    return () => {
      this.#writeHooks = this.#writeHooks.filter((h) => h !== hook);
    };
  }

  #deliver(entry: HistoryEntry): void {
    const change: CommittedChange = { type: entry.type as CommittedChange['type'], rt: entry.resource, object: entry.object };
    if (entry.previous) change.previous = entry.previous;
    // The change is committed: a failing listener must neither undo it nor fail the writer.
    const guarded = (fn: () => void): void => {
      try {
        fn();
      } catch (err) {
        this.#onListenerError(err, { type: entry.type, resource: entry.resource, object: entry.object });
      }
    };
    this.#afterCommit(change, guarded);
    for (const w of this.#watchers.get(entry.typeKey) ?? []) guarded(() => w(entry));
    const listeners = [...(this.#listeners.get(typeKeyOf(entry.resource)) ?? []), ...(this.#listeners.get('*') ?? [])];
    for (const l of listeners) guarded(() => l({ type: entry.type, resource: entry.resource, object: clone(entry.object) }));
    for (const hook of this.#writeHooks) guarded(hook);
  }
}

/**
 * What one watch of `rt` makes of a change: the object as `rt` serves it, when it matches the
 * watch's namespace and selectors; an object that stops matching is DELETED for the watch, and
 * one that starts to is ADDED, as kube-apiserver's watch cache reports them.
 */
export function watchFilter(rt: ResourceType, opts: ListOptions, onEvent: (type: WatchEventType, object: KubeObject) => void): Watcher {
  const labelMatch = parseLabelSelector(opts.labelSelector);
  const fieldMatch = parseFieldSelector(opts.fieldSelector);
  const ns = rt.namespaced && opts.namespace !== undefined && opts.namespace !== '' ? opts.namespace : undefined;
  const matches = (o: KubeObject | undefined): boolean =>
    o !== undefined && (ns === undefined || o.metadata.namespace === ns) && labelMatch(o.metadata.labels) && fieldMatch(o);
  return (entry) => {
    const obj = asServed(rt, entry.object);
    const now = matches(obj);
    const before = entry.previous === undefined ? false : matches(asServed(rt, entry.previous));
    if (entry.type === 'MODIFIED' && !now && before) onEvent('DELETED', obj);
    else if (entry.type === 'MODIFIED' && now && !before) onEvent('ADDED', obj);
    else if (now) onEvent(entry.type, obj);
  };
}
