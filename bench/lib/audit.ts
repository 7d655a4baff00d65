// Requests counted from a kube-apiserver audit log (one JSON line per request, Metadata level, as
// ../shared/kubernetes writes it), by client. The API server's own record, not a client's counters.
import { createReadStream, statSync } from 'node:fs';
import { createInterface } from 'node:readline';

/** One audit record, as far as the benchmarks read it. */
interface AuditRecord {
  stage: string;
  verb: string;
  userAgent?: string;
  stageTimestamp: string;
  objectRef?: { resource?: string; subresource?: string; namespace?: string };
  responseStatus?: { code?: number };
}

/** What one client asked of the API server. */
export interface ClientRequests {
  reads: number;
  writes: number;
  /** By "verb resource[/subresource]". */
  byRequest: Record<string, number>;
  /** Objects it created (answers 201), Events left out, by resource. */
  created: number;
  createdByResource: Record<string, number>;
  /** When its last object was created (ms since the epoch), outside the namespaces `requestsSince` was told to leave out; undefined when it created none. */
  lastCreatedAtMs?: number;
}

/** Which requests {@link requestsSince} reads. */
export interface AuditWindow {
  /** Only those completed before this (default: now). */
  until?: Date;
  /** Objects created in these namespaces do not move `lastCreatedAtMs` (an operator's own records, for example). */
  lastCreatedOutside?: readonly string[];
}

const WRITE_VERBS = new Set(['create', 'update', 'patch', 'delete', 'deletecollection']);

/** True for a write; a review (SubjectAccessReview and the like) is a create that stores nothing, so it is a read. */
export function isWrite(verb: string, resource = ''): boolean {
  return WRITE_VERBS.has(verb) && !resource.endsWith('reviews');
}

/**
 * A client's name in the audit log: the product of its User-Agent (`sde-operator`, `kubectl`,
 * `kube-scheduler`); for kube-controller-manager, with the controller that asked
 * (`kube-controller-manager:statefulset-controller`).
 */
export function clientOf(userAgent = ''): string {
  const product = (userAgent.split(' ')[0] ?? '').split('/')[0] || 'unknown';
  if (product !== 'kube-controller-manager') return product;
  const controller = userAgent.split(' ').pop()?.split('/').pop();
  return controller && controller !== userAgent ? `${product}:${controller}` : product;
}

/** A client that asked nothing. */
export function emptyRequests(): ClientRequests {
  return { reads: 0, writes: 0, byRequest: {}, created: 0, createdByResource: {} };
}

/** A place in the audit log: requests after it are read by {@link requestsSince}. */
export function auditMark(log: string): number {
  return statSync(log).size;
}

/**
 * Every request completed after `mark` (and before `until`, by its stage timestamp), by client
 * ({@link clientOf}).
 */
export async function requestsSince(log: string, mark: number, window: AuditWindow = {}): Promise<Record<string, ClientRequests>> {
  const size = statSync(log).size;
  if (size < mark) throw new Error(`expected the audit log ${log} to have grown past the mark at byte ${mark}, but it holds ${size} bytes: it was rotated, and the requests since the mark are in the old file`);
  const byClient: Record<string, ClientRequests> = {};
  const end = (window.until ?? new Date()).getTime();
  const outside = new Set(window.lastCreatedOutside ?? []);
  // Up to the size seen now; the API server may be writing its last line as it is read.
  const lines = createInterface({ input: createReadStream(log, { start: mark, end: Math.max(mark, size - 1) }), crlfDelay: Infinity });
  let unfinished: string | undefined;
  for await (const line of lines) {
    if (unfinished !== undefined) throw new Error(`expected one JSON record per line of ${log}, but found: ${unfinished.slice(0, 200)}`);
    if (!line.startsWith('{')) continue;
    let record: AuditRecord;
    try {
      record = JSON.parse(line) as AuditRecord;
    } catch {
      unfinished = line;
      continue;
    }
    if (record.stage !== 'ResponseComplete') continue;
    const at = Date.parse(record.stageTimestamp);
    if (at > end) continue;
    const client = (byClient[clientOf(record.userAgent)] ??= emptyRequests());
    const resource = record.objectRef?.resource ?? '';
    const what = `${record.verb} ${resource || record.verb}${record.objectRef?.subresource ? `/${record.objectRef.subresource}` : ''}`;
    client.byRequest[what] = (client.byRequest[what] ?? 0) + 1;
    if (!isWrite(record.verb, resource)) {
      client.reads += 1;
      continue;
    }
    client.writes += 1;
    if (record.responseStatus?.code === 201 && resource !== 'events') {
      client.created += 1;
      client.createdByResource[resource] = (client.createdByResource[resource] ?? 0) + 1;
      if (!outside.has(record.objectRef?.namespace ?? '')) client.lastCreatedAtMs = Math.max(client.lastCreatedAtMs ?? 0, at);
    }
  }
  return byClient;
}
