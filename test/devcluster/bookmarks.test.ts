// Bookmarks as kube-apiserver 1.23 sends them: a quiet watch gets none until 2 s before its
// timeout (measured on the real control plane: a watch of a kind without objects stayed silent
// for 150 s), then the one bookmark and the end of the stream.
import { describe, expect, it } from 'vitest';
import { startDevCluster } from '../../devcluster/index.ts';

describe('watch bookmarks', () => {
  it('sends a quiet watch one bookmark, 2 s before its timeout, and nothing before', async () => {
    const cluster = await startDevCluster({ simulate: false });
    try {
      const started = Date.now();
      const response = await fetch(`${cluster.url}/api/v1/namespaces/default/configmaps?watch=true&allowWatchBookmarks=true&timeoutSeconds=4`);
      const events: Array<{ type: string; at: number }> = [];
      const text = await response.text();
      for (const line of text.split('\n').filter((l) => l.trim() !== '')) events.push({ type: (JSON.parse(line) as { type: string }).type, at: Date.now() - started });
      expect(events.map((e) => e.type)).toEqual(['BOOKMARK']);
      // The stream ended at the timeout, so the bookmark came at about 2 s of the 4.
      expect(Date.now() - started).toBeGreaterThanOrEqual(3_900);
    } finally {
      await cluster.stop();
    }
  });
});
