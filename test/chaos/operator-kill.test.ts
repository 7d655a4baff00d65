// The operator process SIGKILLed at random moments of a converge and restarted each time: the
// site ends exactly as a clean run leaves it, with nothing deleted on the way.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { chaosSite, convergeUnderKills, seededRandom } from '../../bench/lib/chaos.ts';
import { FLEET_SITE } from '../../bench/lib/fleet.ts';
import { diffFleet, watchDeletions } from '../../bench/lib/fleet-state.ts';
import { buildOperator } from '../../bench/lib/processes.ts';

const ENCLAVES = 30;
const KILLS = 5;
const SEED = Number(process.env.CHAOS_SEED ?? Date.now() % 100_000);

describe(`operator SIGKILLed ${KILLS} times during a ${ENCLAVES}-enclave converge (seed ${SEED})`, () => {
  let site: Awaited<ReturnType<typeof chaosSite>>;
  // The operator runs from the image's bundle, built for this file alone (files run side by side).
  const dist = mkdtempSync(join(tmpdir(), 'sde-bundle-'));
  beforeAll(async () => {
    await buildOperator(join(dist, 'sde-operator.mjs'));
    site = await chaosSite(ENCLAVES);
  });
  afterAll(async () => {
    await site?.observer.stop();
    await site?.cluster.stop();
    rmSync(dist, { recursive: true, force: true });
  });

  it('converges to the clean-run state: same objects and specs, no duplicates, no orphans, no deletions, no dataset volume lost', async () => {
    const deletions = watchDeletions(site.cluster.store);
    const run = await convergeUnderKills(site.cluster, site.user, site.observer, { n: ENCLAVES, kills: KILLS, random: seededRandom(SEED), maxDelayMs: 1_500, timeoutMs: 40_000 });
    deletions.close();
    console.log(`chaos kill: ${JSON.stringify(run)}`);
    expect(run.converged).toBe(true);
    const diff = await diffFleet(site.user, FLEET_SITE);
    expect(diff.compared).toBeGreaterThan(ENCLAVES * 20);
    expect(diff).toMatchObject({ missing: [], extra: [], mismatched: [] });
    expect(deletions.labelled, 'no child was deleted and recreated').toEqual([]);
    expect(deletions.volumes, 'no PersistentVolume was deleted').toEqual([]);
  }, 55_000);
});
