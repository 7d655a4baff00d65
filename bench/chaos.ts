// `npm run chaos`: the large chaos run for the report. CHAOS_ENCLAVES (default 200) enclaves
// converge while `sde-operator run` is SIGKILLed CHAOS_KILLS (default 20) times at random moments
// and restarted; then the site is compared with the clean-run state. Writes bench/results/chaos.json.
import { mkdirSync, writeFileSync } from 'node:fs';
import { chaosSite, convergeUnderKills, seededRandom } from './lib/chaos.ts';
import { FLEET_SITE, ROOT } from './lib/fleet.ts';
import { diffFleet, watchDeletions } from './lib/fleet-state.ts';
import { buildOperator } from './lib/processes.ts';

const n = Number(process.env.CHAOS_ENCLAVES ?? 200);
const kills = Number(process.env.CHAOS_KILLS ?? 20);
const seed = Number(process.env.CHAOS_SEED ?? Date.now() % 100_000);

await buildOperator();
const site = await chaosSite(n);
const deletions = watchDeletions(site.cluster.store);
try {
  const run = await convergeUnderKills(site.cluster, site.user, site.observer, { n, kills, random: seededRandom(seed), maxDelayMs: 3_000, timeoutMs: 10 * 60_000 });
  deletions.close();
  const diff = await diffFleet(site.user, FLEET_SITE);
  const result = {
    enclaves: n,
    workspaces: 2 * n,
    seed,
    ...run,
    compared: diff.compared,
    missing: diff.missing.length,
    extra: diff.extra.length,
    mismatched: diff.mismatched.length,
    childrenDeleted: deletions.labelled.length,
    volumesDeleted: deletions.volumes.length,
    date: new Date().toISOString(),
  };
  console.log(`chaos: ${JSON.stringify(result)}`);
  mkdirSync(new URL('bench/results/', ROOT), { recursive: true });
  writeFileSync(new URL('bench/results/chaos.json', ROOT), `${JSON.stringify(result, null, 2)}\n`);
  process.exitCode = run.converged && diff.missing.length + diff.extra.length + diff.mismatched.length + deletions.volumes.length === 0 ? 0 : 1;
} finally {
  await site.observer.stop();
  await site.cluster.stop();
}
