// The HTTP underneath client-node: undici's request API for requests, for watch streams, and for
// lists read as they arrive.
import { HttpMethod, RequestContext, ResponseContext, wrapHttpLibrary, type HttpLibrary, type KubeConfig } from '@kubernetes/client-node';
import { Readable } from 'node:stream';
import { StringDecoder } from 'node:string_decoder';
import { request } from 'undici';
import { KubeApiError } from './errors.ts';

/**
 * client-node's requests sent with undici's `request()` instead of its `fetch()`. client-node
 * lets a configuration choose its HTTP library (`createConfiguration({ httpApi })`); its default
 * goes through the WHATWG fetch machinery (Request, Headers, web streams) on every call: 4,000
 * GETs of a small object cost 285 µs of CPU each that way and 105 µs with `request()` on the same
 * undici dispatcher (both counting the in-process test server's share).
 * Authentication, URLs, serialisation and errors stay client-node's. Each body is read whole
 * before client-node sees the response, so no connection waits on a body it leaves unread (its
 * generated APIs do not read a 401's). Every request carries `userAgent`.
 */
export function undiciHttpLibrary(userAgent: string): HttpLibrary {
  return wrapHttpLibrary({ send: (context) => send(context, userAgent) });
}

async function send(context: RequestContext, userAgent: string): Promise<ResponseContext> {
  const body = context.getBody();
  const response = await request(context.getUrl(), {
    method: context.getHttpMethod(),
    headers: { ...context.getHeaders(), 'User-Agent': userAgent },
    ...(body === undefined ? {} : { body: typeof body === 'string' ? body : String(body) }),
    dispatcher: context.getDispatcher(),
    signal: context.getSignal(),
  });
  const headers = flatHeaders(response.headers);
  const data = Buffer.from(await response.body.arrayBuffer());
  return new ResponseContext(response.statusCode, headers, {
    text: async () => data.toString('utf8'),
    binary: async () => data,
    stream: () => Readable.toWeb(Readable.from([data])) as ReadableStream<Uint8Array>,
  });
}

/** undici's response headers as one string each (repeated ones joined with ", "). */
function flatHeaders(headers: Record<string, string | string[] | undefined>): Record<string, string> {
  const flat: Record<string, string> = {};
  for (const [name, value] of Object.entries(headers)) if (value !== undefined) flat[name] = Array.isArray(value) ? value.join(', ') : value;
  return flat;
}

/**
 * A GET of `path` (with `query`; undefined and empty values left out) as client-node would send
 * it: the URL on the current cluster, its authentication headers and the connection pool it chose.
 * `what` names the request in the error thrown when the kubeconfig has no current cluster.
 */
async function authorizedGet(kubeConfig: KubeConfig, path: string, query: Record<string, string | number | boolean | undefined>, userAgent: string, what: string) {
  const cluster = kubeConfig.getCurrentCluster();
  if (!cluster) throw new Error(`expected a current cluster in the kubeconfig to ${what}, but found none`);
  const url = new URL(`${cluster.server.replace(/\/+$/, '')}${path}`);
  for (const [name, value] of Object.entries(query)) if (value !== undefined && value !== '') url.searchParams.set(name, String(value));
  const context = new RequestContext(url.toString(), HttpMethod.GET);
  await kubeConfig.applySecurityAuthentication(context);
  return { url, options: { method: 'GET' as const, headers: { ...context.getHeaders(), accept: 'application/json', 'User-Agent': userAgent }, dispatcher: context.getDispatcher() } };
}

/** Options of {@link streamText}. */
export interface TextRequest {
  /** Path, e.g. `/api/v1/namespaces`. */
  path: string;
  /** Query parameters; undefined and empty values are left out. */
  query: Record<string, string | undefined>;
  userAgent: string;
  /** What the request is for, in an error's message (e.g. `list roles`). */
  what: string;
  /** Called with the body decoded, a piece at a time as it arrives. */
  onText(piece: string): void;
}

/**
 * GETs `path` with client-node's authentication and the connection pool it chose, and hands the
 * body to `onText` as it arrives, so a large answer (a list) is never held whole, in bytes or in
 * text. A non-2xx answer throws a {@link KubeApiError} carrying its status instead; an error
 * thrown by `onText` ends the request and is thrown.
 */
export async function streamText(kubeConfig: KubeConfig, get: TextRequest): Promise<void> {
  const { url, options } = await authorizedGet(kubeConfig, get.path, get.query, get.userAgent, get.what);
  const response = await request(url, options);
  if (response.statusCode < 200 || response.statusCode > 299) {
    throw new KubeApiError(response.statusCode, get.what, await response.body.text().catch(() => ''), flatHeaders(response.headers));
  }
  const decoder = new StringDecoder('utf8');
  for await (const chunk of response.body) get.onText(decoder.write(chunk as Buffer));
  const rest = decoder.end();
  if (rest !== '') get.onText(rest);
}

/** One decoded line of a watch stream: `{type, object}` as the API sends it. */
export interface WatchLine {
  type: string;
  object: Record<string, unknown>;
}

/** Options of {@link openWatch}. */
export interface WatchRequest {
  /** Collection path, e.g. `/api/v1/namespaces`. */
  path: string;
  /** Query parameters besides `watch=true`; undefined values are left out. */
  query: Record<string, string | number | boolean | undefined>;
  /** Ends the watch with a `TimeoutError` when the stream is silent this long (bookmarks count). */
  inactivityMs: number;
  userAgent: string;
  onLine(line: WatchLine): void;
  /** Called once: with nothing when the server closed the stream, else with why it ended. */
  onDone(error: unknown): void;
}

function timeoutError(inactivityMs: number): Error {
  return new DOMException(`expected watch data at least every ${inactivityMs} ms, but none came`, 'TimeoutError');
}

/**
 * Opens a watch stream with client-node's authentication and the connection pool it chose, and
 * splits it into lines itself (client-node's `Watch` goes through fetch, a web stream adapter and
 * readline, which cost more CPU than decoding the events). A non-200 answer ends it with a
 * {@link KubeApiError} carrying the status (410 Gone included); a line that is not JSON, or a
 * handler that throws, ends it with that error instead of being skipped silently. Returns the
 * controller that closes it; `onDone` is not called after an abort by the caller.
 */
export async function openWatch(kubeConfig: KubeConfig, watch: WatchRequest): Promise<AbortController> {
  const { url, options } = await authorizedGet(kubeConfig, watch.path, { watch: 'true', ...watch.query }, watch.userAgent, 'watch');
  const controller = new AbortController();
  let ended = false;
  const done = (error: unknown): void => {
    if (ended) return;
    ended = true;
    if (!controller.signal.aborted) controller.abort();
    watch.onDone(error);
  };
  controller.signal.addEventListener('abort', () => (ended = true), { once: true });
  request(url, {
    ...options,
    signal: controller.signal,
    headersTimeout: watch.inactivityMs,
    bodyTimeout: watch.inactivityMs,
  }).then(
    async (response) => {
      if (response.statusCode !== 200) {
        done(new KubeApiError(response.statusCode, `watch ${watch.path}`, await response.body.text().catch(() => '')));
        return;
      }
      const stream = response.body;
      stream.setEncoding('utf8');
      let partial = '';
      stream.on('data', (chunk: string) => {
        if (ended) return;
        let start = 0;
        for (let end = chunk.indexOf('\n'); end !== -1; end = chunk.indexOf('\n', start)) {
          const line = partial + chunk.slice(start, end);
          partial = '';
          start = end + 1;
          if (line.trim() === '') continue;
          try {
            watch.onLine(JSON.parse(line) as WatchLine);
          } catch (error) {
            stream.destroy();
            done(error);
            return;
          }
        }
        partial += chunk.slice(start);
      });
      stream.on('end', () => done(undefined));
      stream.on('error', (error: Error) => done((error as { code?: string }).code === 'UND_ERR_BODY_TIMEOUT' ? timeoutError(watch.inactivityMs) : error));
    },
    (error: unknown) => done((error as { code?: string }).code === 'UND_ERR_HEADERS_TIMEOUT' ? timeoutError(watch.inactivityMs) : error),
  );
  return controller;
}
