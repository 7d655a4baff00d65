// Times as the API server writes them into objects (creation and deletion timestamps, conditions,
// managedFields, Events): RFC 3339 in UTC, to the second.

/** `at` as the API server writes a time, e.g. `2026-01-02T03:04:05Z`. */
export function timestamp(at: Date = new Date()): string {
  return at.toISOString().replace(/\.\d{3}Z$/, 'Z');
}
