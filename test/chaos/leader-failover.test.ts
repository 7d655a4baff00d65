// Two `sde-operator run --leader-elect` replicas while the leader is SIGKILLed again and again
// (a new replica started each time): never two leaders at once, and the standby takes over
// within a lease duration plus a retry period.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { chaosSite, createFleet, readiness } from '../../bench/lib/chaos.ts';
import { FLEET_SITE } from '../../bench/lib/fleet.ts';
import { diffFleet } from '../../bench/lib/fleet-state.ts';
import { buildOperator, freePort, startOperatorProcess } from '../../bench/lib/processes.ts';
import type { OperatorProcess } from '../../bench/lib/processes.ts';

const ENCLAVES = 10;
const KILLS = 3;
const LEASE_SECONDS = 2;

interface Replica { process: OperatorProcess; port: number }

async function isLeading(replica: Replica): Promise<boolean> {
  try {
    const text = await (await fetch(`http://127.0.0.1:${replica.port}/metrics`, { signal: AbortSignal.timeout(1_000) })).text();
    return /^sde_leader 1$/m.test(text);
  } catch {
    return false;
  }
}

/** One look at a replica's `sde_leader`: it held at some instant between `sent` and `answered`. */
interface Sample { sent: number; answered: number; leading: boolean }

/**
 * The most replicas proven to lead at one instant. A replica leads at most once (it exits when it
 * loses the lease), so it surely led from the answer of its first "leading" sample to the sending
 * of its last; two replicas led at once only where those spans meet. (Comparing two samples taken
 * "together" is not proof: under load one answer can come a second after the other.)
 */
function mostLeadersAtOnce(samples: Sample[][]): number {
  const spans = samples.flatMap((list) => {
    const leading = list.filter((sample) => sample.leading);
    if (leading.length === 0) return [];
    const from = leading[0]!.answered;
    const to = leading.at(-1)!.sent;
    return from <= to ? [{ from, to }] : [];
  });
  let most = Math.min(1, samples.filter((list) => list.some((sample) => sample.leading)).length);
  for (const { from } of spans) most = Math.max(most, spans.filter((span) => span.from <= from && from <= span.to).length);
  return most;
}

describe(`two replicas with a ${LEASE_SECONDS} s lease, the leader killed ${KILLS} times`, () => {
  let site: Awaited<ReturnType<typeof chaosSite>>;
  const replicas: Replica[] = [];
  // The replicas run the image's bundle, built for this file alone (files run side by side).
  const dist = mkdtempSync(join(tmpdir(), 'sde-bundle-'));
  beforeAll(async () => {
    await buildOperator(join(dist, 'sde-operator.mjs'));
    site = await chaosSite(ENCLAVES);
    await site.user.apply({ apiVersion: 'v1', kind: 'Namespace', metadata: { name: 'sde-system' } }, { fieldManager: 'chaos-installer', force: true });
  });
  afterAll(async () => {
    for (const r of replicas) await r.process.kill('SIGKILL');
    await site?.observer.stop();
    await site?.cluster.stop();
    rmSync(dist, { recursive: true, force: true });
  });

  async function startReplica(): Promise<Replica> {
    const port = await freePort();
    const replica = { process: await startOperatorProcess(site.cluster.kubeconfigPath, port, ['--leader-elect', '--lease-duration', String(LEASE_SECONDS), '--log-level', 'error']), port };
    replicas.push(replica);
    return replica;
  }

  it('never has two leaders, fails over within the lease, and the fleet converges to the clean-run state', async () => {
    let live = [await startReplica(), await startReplica()];
    // Each replica is sampled on its own loop, killed ones until they stop answering.
    const samples = new Map<Replica, Sample[]>();
    let sampling = true;
    const samplers: Promise<void>[] = [];
    const sample = (replica: Replica): void => {
      const list: Sample[] = [];
      samples.set(replica, list);
      samplers.push(
        (async () => {
          while (sampling && replica.process.child.exitCode === null && replica.process.child.signalCode === null) {
            const sent = performance.now();
            const leading = await isLeading(replica);
            list.push({ sent, answered: performance.now(), leading });
            await new Promise((r) => setTimeout(r, 50));
          }
        })(),
      );
    };
    for (const replica of live) sample(replica);
    const ready = readiness(site.observer);
    const creating = createFleet(site.user, site.observer, ENCLAVES);
    const failovers: number[] = [];
    const leaderOf = async (): Promise<Replica | undefined> => {
      for (let i = 0; i < 400; i++) {
        for (const r of live) if (await isLeading(r)) return r;
        await new Promise((res) => setTimeout(res, 25));
      }
      return undefined;
    };
    for (let k = 0; k < KILLS; k++) {
      const leader = await leaderOf();
      expect(leader, 'a leader within 10 s').toBeDefined();
      await new Promise((r) => setTimeout(r, 500));
      await leader!.process.kill('SIGKILL');
      const killedAt = performance.now();
      live = live.filter((r) => r !== leader);
      const next = await leaderOf();
      expect(next, 'the standby takes over').toBeDefined();
      failovers.push(Math.round(performance.now() - killedAt));
      const started = await startReplica();
      live.push(started);
      sample(started);
    }
    await creating;
    const converged = await site.observer.until(() => ready.all(ENCLAVES), 30_000);
    sampling = false;
    await Promise.all(samplers);
    ready.close();
    const maxLeaders = mostLeadersAtOnce([...samples.values()]);
    console.log(`leader failover over ${KILLS} kills: ${JSON.stringify(failovers)} ms; most leaders seen at once: ${maxLeaders}`);
    expect(maxLeaders).toBe(1);
    expect(converged).toBe(true);
    // A standby waits a full lease from when it last saw the record change, plus up to a jittered retry period.
    for (const ms of failovers) expect(ms).toBeLessThan((LEASE_SECONDS + 2 * 2.4 + 1) * 1000);
    const diff = await diffFleet(site.user, FLEET_SITE);
    expect(diff).toMatchObject({ missing: [], extra: [], mismatched: [] });
  }, 58_000);
});
