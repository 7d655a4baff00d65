// The API server misbehaving under a converging operator: restarted, watches dropped, history
// compacted (410 Gone), a fraction of requests failing with 500 or 429. The operator converges
// to the clean-run state with bounded retries and never stops.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { chaosSite, createFleet, readiness, seededRandom } from '../../bench/lib/chaos.ts';
import { FLEET_SITE, fleetNodes } from '../../bench/lib/fleet.ts';
import { diffFleet, watchDeletions } from '../../bench/lib/fleet-state.ts';
import { startDevCluster } from '../../devcluster/index.ts';
import type { DevCluster } from '../../devcluster/index.ts';
import { createOperator } from '../../operator/operator.ts';
import { createLogger } from '../../operator/runtime/index.ts';
import type { Manager } from '../../operator/runtime/index.ts';

const ENCLAVES = 20;
const SEED = Number(process.env.CHAOS_SEED ?? Date.now() % 100_000);

type Site = Awaited<ReturnType<typeof chaosSite>>;
let site: Site | undefined;
let operator: Manager | undefined;
let restarted: DevCluster | undefined;
let dataDir: string | undefined;

afterEach(async () => {
  await operator?.stop();
  await site?.observer.stop();
  await site?.cluster.stop();
  await restarted?.stop();
  if (dataDir) rmSync(dataDir, { recursive: true, force: true });
  operator = undefined;
  site = undefined;
  restarted = undefined;
  dataDir = undefined;
});

async function startOperator(s: Site): Promise<Manager> {
  const op = createOperator({ site: FLEET_SITE, kubeConfig: s.kubeConfig, port: false, logger: createLogger({ level: 'silent' }), watch: { backoff: { baseMs: 100, maxMs: 2_000 } } });
  await op.start();
  let crashed: unknown;
  op.done.catch((error: unknown) => (crashed = error));
  Object.defineProperty(op, 'crashed', { get: () => crashed });
  return op;
}

/** Reconciles by result, summed over controllers, from the operator's own metrics. */
async function reconcileCounts(op: Manager): Promise<Record<string, number>> {
  const metric = await op.metrics.reconcileTotal.get();
  const out: Record<string, number> = {};
  for (const v of metric.values) out[String(v.labels.result)] = (out[String(v.labels.result)] ?? 0) + v.value;
  return out;
}

async function watchRestarts(op: Manager): Promise<Record<string, number>> {
  const metric = await op.metrics.watchRestarts.get();
  const out: Record<string, number> = {};
  for (const v of metric.values) out[String(v.labels.reason)] = (out[String(v.labels.reason)] ?? 0) + v.value;
  return out;
}

/** Waits for every enclave and workspace to be Ready; [] when they are, else what is not (and why) when `timeoutMs` ran out. */
async function converged(ready: ReturnType<typeof readiness>, s: Site, timeoutMs: number): Promise<string[]> {
  if (await s.observer.until(() => ready.all(ENCLAVES), timeoutMs)) return [];
  return [`not every enclave and workspace Ready within ${timeoutMs} ms`, ...ready.notReady()];
}

async function expectCleanState(s: Site): Promise<void> {
  const diff = await diffFleet(s.user, FLEET_SITE);
  expect(diff.compared).toBeGreaterThan(ENCLAVES * 20);
  expect(diff).toMatchObject({ missing: [], extra: [], mismatched: [] });
}

describe('API server faults during a converge', () => {
  it('a restart of the API server (same port, same data) mid-converge: the operator reconnects and converges', async () => {
    dataDir = mkdtempSync(join(tmpdir(), 'chaos-restart-'));
    const dataFile = join(dataDir, 'objects.json');
    site = await chaosSite(ENCLAVES, { dataFile });
    operator = await startOperator(site);
    const ready = readiness(site.observer);
    const creating = createFleet(site.user, site.observer, ENCLAVES);
    await site.observer.until(() => ready.enclaves.count >= ENCLAVES / 4, 20_000);
    const port = site.cluster.port;
    await site.cluster.stop();
    await new Promise((r) => setTimeout(r, 500));
    restarted = await startDevCluster({ port, dataFile, nodes: fleetNodes(2 * ENCLAVES), kubeconfigPath: join(dataDir, 'kubeconfig') });
    await creating;
    expect(await converged(ready, site, 40_000)).toEqual([]);
    ready.close();
    console.log(`chaos restart: reconciles ${JSON.stringify(await reconcileCounts(operator))}, watch restarts ${JSON.stringify(await watchRestarts(operator))}`);
    expect((operator as unknown as { crashed: unknown }).crashed).toBeUndefined();
    expect(operator.readiness().ready).toBe(true);
    await expectCleanState(site);
  }, 58_000);

  it('dropped watches and 410 Gone, again and again: the operator relists, converges, and deletes nothing', async () => {
    site = await chaosSite(ENCLAVES);
    const deletions = watchDeletions(site.cluster.store);
    operator = await startOperator(site);
    const ready = readiness(site.observer);
    const creating = createFleet(site.user, site.observer, ENCLAVES);
    const random = seededRandom(SEED);
    let dropped = 0;
    for (let i = 0; i < 8; i++) {
      await new Promise((r) => setTimeout(r, 200 + random() * 400));
      if (i % 2 === 0) site.cluster.faults.forceGone();
      dropped += site.cluster.faults.dropWatches();
    }
    await creating;
    expect(await converged(ready, site, 40_000), `seed ${SEED}`).toEqual([]);
    ready.close();
    const restarts = await watchRestarts(operator);
    console.log(`chaos watches (seed ${SEED}): ${dropped} watches dropped, operator watch restarts ${JSON.stringify(restarts)}, reconciles ${JSON.stringify(await reconcileCounts(operator))}`);
    expect((restarts.closed ?? 0) + (restarts.gone ?? 0) + (restarts.error ?? 0)).toBeGreaterThan(0);
    expect((operator as unknown as { crashed: unknown }).crashed).toBeUndefined();
    await expectCleanState(site);
    deletions.close();
    expect(deletions.labelled).toEqual([]);
    expect(deletions.volumes).toEqual([]);
  }, 58_000);

  it.each([500, 429] as const)('status %i for a tenth of requests: converges with bounded retries and never crashes', async (status) => {
    site = await chaosSite(ENCLAVES);
    const deletions = watchDeletions(site.cluster.store);
    operator = await startOperator(site);
    const ready = readiness(site.observer);
    // At 0.2 the 429 run converged in ~10 s before a57d110 and not within 45 s after it (see the report).
    site.cluster.faults.failRequests({ rate: 0.1, status, retryAfterSeconds: 1 });
    await createFleet(site.user, site.observer, ENCLAVES);
    const stuck = await converged(ready, site, 45_000);
    site.cluster.faults.clear();
    ready.close();
    const counts = await reconcileCounts(operator);
    console.log(`chaos ${status}: reconciles ${JSON.stringify(counts)}, requests ${JSON.stringify(Object.fromEntries(operator.client.requests))}, watch restarts ${JSON.stringify(await watchRestarts(operator))}`);
    expect(stuck).toEqual([]);
    expect((operator as unknown as { crashed: unknown }).crashed).toBeUndefined();
    // Bounded: retries stay within a small multiple of the work (3 objects per enclave reconciled).
    expect(counts.error ?? 0).toBeLessThan(ENCLAVES * 3 * 5);
    expect(counts.terminal ?? 0).toBe(0);
    await expectCleanState(site);
    deletions.close();
    expect(deletions.volumes).toEqual([]);
  }, 58_000);
});
