// LimitRange admission: fills container requests and limits from the namespace's LimitRanges at
// pod creation (so pods without requests still count against quota) and enforces `max` and `min`.
import { BUILTINS } from '../store/builtins.ts';
import { forbidden } from '../store/errors.ts';
import type { StorePlugin } from '../store/cluster-store.ts';
import { podContainers } from '../resources/pod-resources.ts';
import { compareQuantities } from '../resources/quantity.ts';

interface LimitRangeItem {
  type?: string;
  default?: Record<string, string>;
  defaultRequest?: Record<string, string>;
  max?: Record<string, string>;
  min?: Record<string, string>;
}

/** LimitRange defaulting and `max`/`min` enforcement for containers, as a store plugin. */
export function limitRanger(): StorePlugin {
  return {
    name: 'limit-ranger',
    admit(obj, ctx) {
      if (ctx.rt !== BUILTINS.pods || ctx.operation !== 'CREATE') return;
      const ns = obj.metadata.namespace ?? 'default';
      const items = ctx.store
        .scan(BUILTINS.limitranges, { namespace: ns })
        .flatMap((lr) => ((lr.spec as { limits?: LimitRangeItem[] } | undefined)?.limits ?? []))
        .filter((i) => i.type === 'Container');
      if (items.length === 0) return;
      const { containers, initContainers } = podContainers(obj);
      for (const c of [...containers, ...initContainers]) {
        c.resources ??= {};
        const limits = (c.resources.limits ??= {});
        const requests = (c.resources.requests ??= {});
        for (const item of items) {
          for (const [name, q] of Object.entries(item.default ?? {})) limits[name] ??= q;
          for (const [name, q] of Object.entries(item.defaultRequest ?? {})) requests[name] ??= q;
          for (const [name, q] of Object.entries(item.default ?? {})) requests[name] ??= limits[name] ?? q;
        }
        for (const item of items) {
          for (const [name, max] of Object.entries(item.max ?? {})) {
            const limit = limits[name];
            if (limit !== undefined && compareQuantities(limit, max) > 0) {
              throw forbidden(ctx.rt, obj.metadata.name, `maximum ${name} usage per Container is ${max}, but limit is ${limit}`);
            }
          }
          for (const [name, min] of Object.entries(item.min ?? {})) {
            const request = requests[name];
            if (request !== undefined && compareQuantities(request, min) < 0) {
              throw forbidden(ctx.rt, obj.metadata.name, `minimum ${name} usage per Container is ${min}, but request is ${request}`);
            }
          }
        }
        if (Object.keys(limits).length === 0) delete c.resources.limits;
        if (Object.keys(requests).length === 0) delete c.resources.requests;
      }
    },
  };
}
