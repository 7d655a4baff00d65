// devcluster throughput: objects stored per second (in-process and over HTTP), objects listed per
// second, watch fan-out (events per second delivered to 100 HTTP watchers), and memory at 10,000
// objects. Prints the figures and writes bench/results/devcluster.json.
import { mkdirSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { startDevCluster } from '../devcluster/index.ts';
import { BUILTINS } from '../devcluster/store/builtins.ts';

const OBJECTS = 10_000;
const HTTP_OBJECTS = 5_000;
const WATCHERS = 100;
const FANOUT_EVENTS = 1_000;

function configMap(name: string, ns: string): Record<string, unknown> {
  return { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name, namespace: ns, labels: { app: 'bench', shard: String(name.length % 3) } }, data: { payload: 'x'.repeat(200) } };
}

async function inBatches(total: number, concurrency: number, task: (i: number) => Promise<void>): Promise<void> {
  let next = 0;
  await Promise.all(Array.from({ length: concurrency }, async () => {
    while (next < total) {
      const i = next;
      next += 1;
      await task(i);
    }
  }));
}

const dc = await startDevCluster({ simulate: false, historySize: 100_000 });
const nsBody = (name: string): string => JSON.stringify({ apiVersion: 'v1', kind: 'Namespace', metadata: { name } });
for (const ns of ['bench-store', 'bench-http', 'bench-watch']) {
  await fetch(`${dc.url}/api/v1/namespaces`, { method: 'POST', headers: { 'Content-Type': 'application/json' }, body: nsBody(ns) });
}

let t = performance.now();
for (let i = 0; i < OBJECTS; i += 1) dc.store.create(BUILTINS.configmaps, configMap(`cm-${i}`, 'bench-store') as never);
const storeCreatesPerSec = OBJECTS / ((performance.now() - t) / 1000);
(globalThis as { gc?: () => void }).gc?.();
const rssAt10k = process.memoryUsage().rss / 2 ** 20;
const heapAt10k = process.memoryUsage().heapUsed / 2 ** 20;

t = performance.now();
await inBatches(HTTP_OBJECTS, 32, async (i) => {
  const res = await fetch(`${dc.url}/api/v1/namespaces/bench-http/configmaps`, { method: 'POST', headers: { 'Content-Type': 'application/json' }, body: JSON.stringify(configMap(`cm-${i}`, 'bench-http')) });
  if (res.status !== 201) throw new Error(`create answered ${res.status}: ${await res.text()}`);
  await res.arrayBuffer();
});
const httpCreatesPerSec = HTTP_OBJECTS / ((performance.now() - t) / 1000);

t = performance.now();
const LISTS = 10;
let listed = 0;
for (let i = 0; i < LISTS; i += 1) {
  const body = (await (await fetch(`${dc.url}/api/v1/namespaces/bench-store/configmaps`)).json()) as { items: unknown[] };
  listed += body.items.length;
}
const httpListedPerSec = listed / ((performance.now() - t) / 1000);

t = performance.now();
let selected = 0;
for (let i = 0; i < LISTS; i += 1) selected += dc.store.listPage(BUILTINS.configmaps, { namespace: 'bench-store', labelSelector: 'shard=1' }).items.length;
const storeSelectScansPerSec = (LISTS * OBJECTS) / ((performance.now() - t) / 1000);

const rv = dc.store.currentResourceVersion();
const controllers: AbortController[] = [];
let delivered = 0;
const readers = await Promise.all(Array.from({ length: WATCHERS }, async () => {
  const controller = new AbortController();
  controllers.push(controller);
  const res = await fetch(`${dc.url}/api/v1/namespaces/bench-watch/configmaps?watch=1&resourceVersion=${rv}`, { signal: controller.signal });
  return res.body!.getReader();
}));
const allDelivered = Promise.all(readers.map(async (reader) => {
  let seen = 0;
  const decoder = new TextDecoder();
  while (seen < FANOUT_EVENTS) {
    const { value, done } = await reader.read();
    if (done) break;
    const text = decoder.decode(value);
    for (let i = text.indexOf('\n'); i >= 0; i = text.indexOf('\n', i + 1)) seen += 1;
  }
  delivered += seen;
}));
t = performance.now();
for (let i = 0; i < FANOUT_EVENTS; i += 1) dc.store.create(BUILTINS.configmaps, configMap(`w-${i}`, 'bench-watch') as never);
await allDelivered;
const fanoutEventsPerSec = delivered / ((performance.now() - t) / 1000);
for (const c of controllers) c.abort();

(globalThis as { gc?: () => void }).gc?.();
const stored = dc.store.snapshot().objects.length;
const rssMiB = process.memoryUsage().rss / 2 ** 20;
const heapMiB = process.memoryUsage().heapUsed / 2 ** 20;
await dc.stop();

const results = {
  objectsStoredPerSecInProcess: Math.round(storeCreatesPerSec),
  objectsStoredPerSecHttp: Math.round(httpCreatesPerSec),
  objectsListedPerSecHttp: Math.round(httpListedPerSec),
  objectsScannedWithSelectorPerSec: Math.round(storeSelectScansPerSec),
  selectedPerList: selected / LISTS,
  watchFanOutEventsPerSec: Math.round(fanoutEventsPerSec),
  watchers: WATCHERS,
  fanOutEventsPerWatcher: FANOUT_EVENTS,
  rssMiBAt10000Objects: Math.round(rssAt10k),
  heapUsedMiBAt10000Objects: Math.round(heapAt10k),
  objectsStoredAtEnd: stored,
  rssMiBAtEnd: Math.round(rssMiB),
  heapUsedMiBAtEnd: Math.round(heapMiB),
  node: process.version,
};
console.log(`objects stored/s (in-process):       ${results.objectsStoredPerSecInProcess}`);
console.log(`objects stored/s (HTTP, 32 clients):  ${results.objectsStoredPerSecHttp}`);
console.log(`objects listed/s (HTTP, 10k lists):   ${results.objectsListedPerSecHttp}`);
console.log(`watch fan-out events/s (${WATCHERS} watchers): ${results.watchFanOutEventsPerSec}`);
console.log(`RSS at ${OBJECTS} objects:            ${results.rssMiBAt10000Objects} MiB (heap ${results.heapUsedMiBAt10000Objects} MiB)`);
console.log(`RSS at end (${stored} objects, after HTTP and 100 watchers): ${results.rssMiBAtEnd} MiB (heap ${results.heapUsedMiBAtEnd} MiB)`);
const out = join(dirname(fileURLToPath(import.meta.url)), 'results', 'devcluster.json');
mkdirSync(dirname(out), { recursive: true });
writeFileSync(out, `${JSON.stringify(results, null, 2)}\n`);
