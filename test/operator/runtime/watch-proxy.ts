// A pass-through proxy in front of a devcluster that holds back what watches receive, as a loaded
// API server or a broken network path would: watch data arrives `latencyMs` late (answers to
// other requests do not wait), or, after `stallWatches()`, the watches open then receive nothing
// more while their connections stay up (a half-open connection). Requests and answers are not
// changed: the API server behind it is the devcluster.
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, request, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

/** A running proxy; `kubeconfigPath` is the upstream's kubeconfig pointed at the proxy. */
export interface WatchProxy {
  url: string;
  kubeconfigPath: string;
  /** Delay of everything a watch receives (events, bookmarks, its end), in order; default 0. */
  latencyMs: number;
  /** Stops every open watch's data from reaching its client, without closing it; returns how many. */
  stallWatches(): number;
  stop(): Promise<void>;
}

/** Starts a proxy on a free port in front of the API server `upstream` (its URL and kubeconfig). */
export async function startWatchProxy(upstream: { url: string; kubeconfigPath: string }): Promise<WatchProxy> {
  const target = new URL(upstream.url);
  const watches = new Set<{ stall(): void }>();

  const forward = (incoming: IncomingMessage, outgoing: ServerResponse): void => {
    const isWatch = new URL(incoming.url ?? '/', upstream.url).searchParams.get('watch') === 'true';
    const toUpstream = request({ hostname: target.hostname, port: target.port, method: incoming.method, path: incoming.url, headers: { ...incoming.headers, host: target.host } }, (answer) => {
      outgoing.writeHead(answer.statusCode ?? 502, answer.headers);
      if (!isWatch) {
        answer.pipe(outgoing);
        return;
      }
      let stalled = false;
      const watch = { stall: () => (stalled = true) };
      watches.add(watch);
      const pass = (send: () => void): void => {
        if (stalled) return;
        if (proxy.latencyMs > 0) setTimeout(() => !stalled && !outgoing.destroyed && send(), proxy.latencyMs);
        else send();
      };
      answer.on('data', (chunk: Buffer) => pass(() => outgoing.write(chunk)));
      answer.on('end', () => pass(() => outgoing.end()));
      outgoing.on('close', () => watches.delete(watch));
    });
    toUpstream.on('error', () => outgoing.destroy());
    outgoing.on('close', () => toUpstream.destroy());
    incoming.pipe(toUpstream);
  };

  const server = createServer(forward);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  const directory = mkdtempSync(join(tmpdir(), 'watch-proxy-'));
  const kubeconfigPath = join(directory, 'kubeconfig');
  writeFileSync(kubeconfigPath, readFileSync(upstream.kubeconfigPath, 'utf8').replaceAll(upstream.url, url));
  const proxy: WatchProxy = {
    url,
    kubeconfigPath,
    latencyMs: 0,
    stallWatches() {
      for (const watch of watches) watch.stall();
      const stalled = watches.size;
      watches.clear();
      return stalled;
    },
    async stop() {
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
      rmSync(directory, { recursive: true, force: true });
    },
  };
  return proxy;
}
