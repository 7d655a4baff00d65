// The resource types the API server serves: the built-ins from the start, a custom resource once
// its CRD is established, until the CRD is deleted. The HTTP layer, discovery and the store look
// types up here by group and resource.
import type { ResourceType } from './types.ts';

/** `<group>/<resource>`: a resource type's name in the registry and in subscriptions. */
export function typeKeyOf(rt: ResourceType): string {
  return `${rt.group}/${rt.resource}`;
}

/** The served resource types, by group and resource. */
export class TypeRegistry {
  readonly #types = new Map<string, ResourceType>();

  /** Serves `rt` (replacing a type of the same group and resource). */
  add(rt: ResourceType): void {
    this.#types.set(typeKeyOf(rt), rt);
  }

  /** Stops serving a type. */
  remove(rt: ResourceType): void {
    this.#types.delete(typeKeyOf(rt));
  }

  /** The type served as `group`/`resource`, if any. */
  get(group: string, resource: string): ResourceType | undefined {
    return this.#types.get(`${group}/${resource}`);
  }

  /** Every served type, in the order they were first served. */
  all(): ResourceType[] {
    return [...this.#types.values()];
  }
}
