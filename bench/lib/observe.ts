// Watches a site from the outside (its own client and caches), to tell when a fleet is Ready
// without adding polling load to the API server.
import type { KubeConfig, KubernetesObject } from '@kubernetes/client-node';
import { SdeKinds } from '../../operator/kinds.ts';
import { Kinds, KubeClient, Reflector } from '../../operator/runtime/index.ts';
import type { ObjectCache, WatchedType } from '../../operator/runtime/index.ts';

/** The kinds an observer follows. */
export const OBSERVED = {
  Enclave: SdeKinds.Enclave,
  Workspace: SdeKinds.Workspace,
  Namespace: Kinds.Namespace,
  StatefulSet: Kinds.StatefulSet,
  RoleBinding: Kinds.RoleBinding,
} as const;

type ObservedKind = keyof typeof OBSERVED;

/** Caches of the observed kinds, kept current by watches; `until` waits on them without polling the API. */
export class SiteObserver {
  readonly client: KubeClient;
  readonly #reflectors = new Map<ObservedKind, Reflector>();
  readonly #awaited = new Map<string, (() => void)[]>();
  readonly #subscribed = new Set<ObservedKind>();

  constructor(kubeConfig: KubeConfig, kinds: readonly ObservedKind[] = ['Enclave', 'Workspace', 'Namespace', 'StatefulSet'], userAgent?: string) {
    this.client = new KubeClient(kubeConfig, userAgent ? { userAgent } : {});
    for (const kind of kinds) {
      this.#reflectors.set(kind, new Reflector({ client: this.client, type: OBSERVED[kind] as WatchedType, backoff: { baseMs: 100, maxMs: 1_000 } }));
    }
  }

  /** Starts every watch and resolves once each has listed once. */
  async start(): Promise<void> {
    for (const r of this.#reflectors.values()) r.start();
    await Promise.all([...this.#reflectors.values()].map((r) => r.cache.whenSynced()));
  }

  /** The cache of one observed kind. */
  cache(kind: ObservedKind): ObjectCache {
    const reflector = this.#reflectors.get(kind);
    if (!reflector) throw new Error(`expected the observer to follow ${kind}; it follows ${[...this.#reflectors.keys()].join(', ')}`);
    return reflector.cache;
  }

  /** Objects of a kind, as last seen. */
  list(kind: ObservedKind): readonly Readonly<KubernetesObject>[] {
    return this.cache(kind).list();
  }

  /**
   * A live count of the objects of `kind` for which `predicate` holds, kept by the watch events
   * (constant work per event, so waiting on a thousand enclaves stays linear).
   */
  tally(kind: ObservedKind, predicate: (object: Readonly<KubernetesObject>) => boolean): { readonly count: number; close(): void } {
    const matching = new Set<string>();
    const keyOf = (o: Readonly<KubernetesObject>): string => `${o.metadata?.namespace ?? ''}/${o.metadata?.name ?? ''}`;
    const cache = this.cache(kind);
    for (const o of cache.list()) if (predicate(o)) matching.add(keyOf(o));
    const close = cache.subscribe((event) => {
      if (event.type !== 'DELETED' && predicate(event.object)) matching.add(keyOf(event.object));
      else matching.delete(keyOf(event.object));
    });
    return {
      get count() {
        return matching.size;
      },
      close,
    };
  }

  /** Resolves once an object of `kind` named `name` (in `namespace`) has been seen. */
  whenExists(kind: ObservedKind, name: string, namespace?: string): Promise<void> {
    const cache = this.cache(kind);
    if (cache.get(name, namespace) !== undefined) return Promise.resolve();
    const key = `${kind}|${namespace ?? ''}/${name}`;
    if (!this.#subscribed.has(kind)) {
      this.#subscribed.add(kind);
      cache.subscribe((event) => {
        if (event.type === 'DELETED') return;
        const k = `${kind}|${event.object.metadata?.namespace ?? ''}/${event.object.metadata?.name ?? ''}`;
        const resolvers = this.#awaited.get(k);
        this.#awaited.delete(k);
        for (const resolve of resolvers ?? []) resolve();
      });
    }
    return new Promise((resolve) => this.#awaited.set(key, [...(this.#awaited.get(key) ?? []), resolve]));
  }

  /** Resolves true once `condition` holds (checked on every change of any observed kind), false after `timeoutMs`. */
  until(condition: () => boolean, timeoutMs: number): Promise<boolean> {
    return new Promise((resolve) => {
      const unsubscribe: (() => void)[] = [];
      const finish = (value: boolean): void => {
        clearTimeout(timer);
        clearInterval(tick);
        for (const u of unsubscribe) u();
        resolve(value);
      };
      const check = (): void => {
        if (condition()) finish(true);
      };
      const timer = setTimeout(() => finish(false), timeoutMs);
      // Conditions may depend on the clock too (expiry), so check now and then as well.
      const tick = setInterval(check, 200);
      for (const r of this.#reflectors.values()) unsubscribe.push(r.cache.subscribe(check));
      check();
    });
  }

  /** Stops every watch. */
  async stop(): Promise<void> {
    await Promise.all([...this.#reflectors.values()].map((r) => r.stop()));
  }
}
