// The typed round trip a real API server puts every built-in object through before defaulting:
// fields of omit-empty.ts at their zero value (or null) are not stored. Server-side apply still
// records them in the applier's managedFields, from the configuration as sent, as the real
// server does; and an apply that differs from the stored object only by them writes nothing.
import { BUILTINS } from '../store/builtins.ts';
import { isPlainObject } from '../store/objects.ts';
import type { StorePlugin } from '../store/cluster-store.ts';
import type { ResourceType } from '../store/types.ts';
import { OMIT_EMPTY } from './omit-empty.ts';
import type { StructShape } from './omit-empty.ts';

const BUILTIN_TYPES = new Set<ResourceType>(Object.values(BUILTINS));

function isZero(value: unknown): boolean {
  if (value === null || value === false || value === 0 || value === '') return true;
  if (Array.isArray(value)) return value.length === 0;
  return isPlainObject(value) && Object.keys(value).length === 0;
}

function dropZeros(value: unknown, shape: StructShape): void {
  if (Array.isArray(value)) {
    for (const item of value) dropZeros(item, shape);
    return;
  }
  if (!isPlainObject(value)) return;
  for (const field of shape.omitEmpty) if (field in value && isZero(value[field])) delete value[field];
  for (const [field, inner] of Object.entries(shape.nested ?? {})) dropZeros(value[field], inner);
}

/** Drops the unstored zero values of built-in kinds (never of custom resources); runs before defaulting. */
export function typedRoundTrip(): StorePlugin {
  return {
    name: 'typed-round-trip',
    admit(obj, ctx) {
      if (!BUILTIN_TYPES.has(ctx.rt)) return;
      const shape = OMIT_EMPTY[ctx.rt.kind];
      if (shape !== undefined) dropZeros(obj, shape);
    },
  };
}
