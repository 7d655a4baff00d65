// Durations as Kubernetes tools write them ("30m", "8h", "1h30m"): the schema the API checks them
// with, and their length.
import { z } from 'zod';

/** A Go-style duration ("30m", "8h", "1h30m"), as Kubernetes tools write them. */
export function duration(description: string) {
  return z
    .string()
    .regex(/^([0-9]+(h|m|s))+$/, { message: 'must be a duration such as "30m", "8h" or "1h30m"' })
    .describe(description);
}

/** Parses a Go-style duration ("168h", "1h30m", "45s") into milliseconds. */
export function durationMs(text: string): number {
  const units: Record<string, number> = { h: 3_600_000, m: 60_000, s: 1_000 };
  let total = 0;
  for (const [, n, unit] of text.matchAll(/([0-9]+)(h|m|s)/g)) total += Number(n) * (units[unit as string] ?? 0);
  return total;
}
