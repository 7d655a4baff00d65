// Watch responses: chunked JSON lines of {type, object}, from a resourceVersion or with the
// current objects first, optional bookmarks, timeoutSeconds, and 410 Gone as an ERROR event.
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { ClusterStore } from '../store/cluster-store.ts';
import type { KubeObject, ResourceType, WatchEventType } from '../store/types.ts';
import type { FaultInjector } from './faults.ts';
import { statusOf } from './status.ts';

/** Options of one watch request. */
export interface WatchRequest {
  rt: ResourceType;
  apiVersion: string;
  namespace?: string;
  labelSelector?: string;
  fieldSelector?: string;
  resourceVersion?: string;
  timeoutSeconds?: number;
  allowBookmarks: boolean;
  sendInitialEvents: boolean;
  /** Bookmarks this often; without it, one bookmark 2 s before the timeout, as kube-apiserver 1.23 sends them. */
  bookmarkIntervalMs?: number | undefined;
  /** Turns an object into what is sent (the object, or a one-row Table). */
  render: (obj: KubeObject) => unknown;
}

const serialised = new WeakMap<object, string>();

function line(type: WatchEventType, obj: KubeObject, render: (o: KubeObject) => unknown, cacheable: boolean): string {
  if (cacheable) {
    const hit = serialised.get(obj);
    if (hit !== undefined) return `{"type":"${type}","object":${hit}}\n`;
    const text = JSON.stringify(render(obj));
    serialised.set(obj, text);
    return `{"type":"${type}","object":${text}}\n`;
  }
  return `${JSON.stringify({ type, object: render(obj) })}\n`;
}

// How long before a watch's timeout kube-apiserver sends its bookmark (1.23: the only one a quiet
// watch gets; a watch of a kind without objects stayed silent for 150 s on the real control plane).
const BOOKMARK_BEFORE_TIMEOUT_S = 2;

/** Streams a watch until the client goes away, the timeout passes, or faults drop it. */
export function serveWatch(store: ClusterStore, faults: FaultInjector, req: IncomingMessage, res: ServerResponse, w: WatchRequest, cacheable: boolean): void {
  res.writeHead(200, { 'Content-Type': 'application/json', 'Cache-Control': 'no-cache, private', 'Transfer-Encoding': 'chunked' });
  res.flushHeaders();
  let closed = false;
  // Events of one burst (a write, the garbage collector's cascade, a simulated controller's
  // pass) go out in one chunk, as kube-apiserver flushes a watch only once its queue is empty.
  let pending = '';
  const timers: NodeJS.Timeout[] = [];
  let unsubscribe: () => void = () => undefined;
  const finish = (): void => {
    if (closed) return;
    closed = true;
    unsubscribe();
    untrack();
    for (const t of timers) clearTimeout(t);
    res.end(pending);
    pending = '';
  };
  const untrack = faults.trackWatch(finish);
  req.on('close', finish);
  res.on('close', finish);
  res.on('error', finish);
  const flush = (): void => {
    const text = pending;
    pending = '';
    if (!closed && text !== '') res.write(text);
  };
  const send = (type: WatchEventType, obj: KubeObject): void => {
    if (closed) return;
    if (pending === '') setImmediate(flush);
    pending += line(type, obj, w.render, cacheable);
  };
  const bookmark = (initialEnd: boolean): void => {
    if (closed) return;
    flush();
    const metadata: Record<string, unknown> = { resourceVersion: store.currentResourceVersion() };
    if (initialEnd) metadata.annotations = { 'k8s.io/initial-events-end': 'true' };
    res.write(`${JSON.stringify({ type: 'BOOKMARK', object: { kind: w.rt.kind, apiVersion: w.apiVersion, metadata } })}\n`);
  };
  const initial = w.sendInitialEvents || w.resourceVersion === undefined || w.resourceVersion === '' || w.resourceVersion === '0';
  try {
    const opts: Parameters<ClusterStore['watch']>[1] = {};
    if (w.namespace !== undefined) opts.namespace = w.namespace;
    if (w.labelSelector !== undefined) opts.labelSelector = w.labelSelector;
    if (w.fieldSelector !== undefined) opts.fieldSelector = w.fieldSelector;
    if (!initial && w.resourceVersion !== undefined) opts.resourceVersion = w.resourceVersion;
    unsubscribe = store.watch(w.rt, opts, send);
  } catch (err) {
    const { body } = statusOf(err);
    pending = '';
    res.write(`${JSON.stringify({ type: 'ERROR', object: body })}\n`);
    finish();
    return;
  }
  if (w.sendInitialEvents && w.allowBookmarks) bookmark(true);
  const timeout = w.timeoutSeconds !== undefined && w.timeoutSeconds > 0 ? w.timeoutSeconds : 1800;
  if (w.allowBookmarks && w.bookmarkIntervalMs !== undefined) {
    const interval = w.bookmarkIntervalMs;
    const tick = (): void => {
      bookmark(false);
      if (!closed) timers[0] = setTimeout(tick, interval);
    };
    timers[0] = setTimeout(tick, interval);
  } else if (w.allowBookmarks && timeout > BOOKMARK_BEFORE_TIMEOUT_S) {
    // As kube-apiserver 1.23 does: a quiet watch gets its one bookmark just before its timeout.
    timers[0] = setTimeout(() => bookmark(false), (timeout - BOOKMARK_BEFORE_TIMEOUT_S) * 1000);
  }
  timers.push(setTimeout(finish, timeout * 1000));
}
