// The isolation probe on the local Kubernetes (issue 19): one probe Job per enclave per period;
// a probe that exits 0 leaves no finding, one that exits with the canary's code yields a finding
// naming the Job and the canary, and the next passing probe clears it. The simulated kubelet ends
// the probe pod with the exit code the site's pod annotation chooses, as the real control
// plane's stand-in kubelet does. Also the findings read from exit codes and messages.
import type { KubernetesObject } from '@kubernetes/client-node';
import { afterEach, describe, expect, it } from 'vitest';
import { siteConfig } from '../../api/siteconfig.ts';
import type { SiteConfig } from '../../api/siteconfig.ts';
import { probeArgs } from '../../constructs/isolation-probe.ts';
import type { ProbeCheck } from '../../constructs/isolation-probe.ts';
import { findingsOf, isolationProbeController, probePeriod } from '../../operator/isolation/probe.ts';
import type { ProbeJob } from '../../operator/isolation/probe.ts';
import { IsolationStore } from '../../operator/isolation/store.ts';
import { createOperator } from '../../operator/operator.ts';
import { createLogger, Kinds } from '../../operator/runtime/index.ts';
import { conditionOf, example, exampleSite, startTestSite } from './harness.ts';
import type { TestSite } from './harness.ts';

const SDE = 'sde.london/v1alpha1';
const NS = 'sde-cardiac-mri';
const CANARY = '203.0.113.7';
const HOUR = 3_600_000;

function probeSite(exitCode: number, message?: string): SiteConfig {
  const podAnnotations: Record<string, string> = { 'stand-in.sde.test/exit-code': String(exitCode), ...(message ? { 'devcluster.sde.london/termination-message': message } : {}) };
  return siteConfig.parse({ ...exampleSite, isolation: { ...exampleSite.isolation, probes: { image: 'nexus.sde.uclh.nhs.uk/sde/busybox:1.36', canary: { ip: CANARY, port: 443 }, period: '1h', podAnnotations } } });
}

describe('the isolation probe on the local Kubernetes', () => {
  let site: TestSite | undefined;
  afterEach(async () => {
    await site?.close();
    site = undefined;
  });

  const store = new IsolationStore();
  let clock = new Date('2026-12-03T12:00:00Z');

  /**
   * Starts the operator with a probe controller for `probes` that writes to this test's store (the
   * operator's own, which operator/operator.ts adds for such a site, is left out).
   */
  async function startWithProbes(probes: SiteConfig): Promise<void> {
    await site!.stopOperator();
    const withoutProbes = { ...probes, isolation: { ...probes.isolation, probes: undefined } };
    const operator = createOperator({ site: withoutProbes, kubeConfig: site!.kubeConfig, port: false, logger: createLogger({ level: process.env.TEST_LOG_LEVEL ?? 'silent' }), now: () => clock });
    operator.add(isolationProbeController({ site: probes, store, now: () => clock }));
    await operator.start();
    site!.operator = operator;
  }

  const probeJobs = async (): Promise<KubernetesObject[]> => (await site!.client.list(Kinds.Job, { namespace: NS, labelSelector: 'app.kubernetes.io/component=isolation-probe' })).items;

  /** Ms from `since` until the store's probe result for cardiac-mri is one made after `since` and `matches`. */
  async function probeResult(since: number, matches: (findings: readonly unknown[]) => boolean): Promise<{ ms: number; findings: readonly unknown[] }> {
    const result = await site!.waitFor('the probe\'s result', async () => {
      const probe = store.get('cardiac-mri').probe;
      return probe !== undefined && probe.at.getTime() >= since - 1_000 && matches(probe.findings) && probe;
    }, 20_000);
    return { ms: Date.now() - since, findings: result.findings };
  }

  it('a passing probe leaves no finding, one exiting with the canary\'s code names the Job and the canary, the next passing one clears it; old Jobs are pruned and nothing is written at rest', async () => {
    site = await startTestSite({ cluster: { jobRunMillis: 300 }, site: probeSite(0) });
    await startWithProbes(probeSite(0));
    let started = Date.now();
    await site.apply([example('enclave-cardiac-mri.yaml')[0]!]);
    await site.waitFor('enclave Ready', async () => conditionOf(await site!.get(SDE, 'Enclave', 'cardiac-mri'), 'Ready')?.status === 'True');
    const passed = await probeResult(started, (f) => f.length === 0);
    expect(passed.findings).toEqual([]);
    const [first] = await probeJobs();
    expect(first?.metadata?.ownerReferences?.[0]).toMatchObject({ kind: 'Enclave', name: 'cardiac-mri', controller: true });

    // At rest: the Job is there, its result read; the operator writes nothing more.
    const writes = site.operator!.client.writes;
    await new Promise((r) => setTimeout(r, 1_500));
    expect(site.operator!.client.writes).toBe(writes);

    // The next period, with the canary open: the finding names the new Job and the canary.
    clock = new Date(clock.getTime() + HOUR);
    started = Date.now();
    await startWithProbes(probeSite(10));
    const failed = await probeResult(started, (f) => f.length > 0);
    const failedJob = (await probeJobs()).find((j) => j.metadata?.name !== first?.metadata?.name);
    expect(failed.findings).toEqual([{ concern: 'network', kind: 'Probe', object: `Job ${NS}/${failedJob?.metadata?.name}`, path: `canary ${CANARY}:443 reachable, though it is outside every destination the enclave may reach` }]);
    console.log(`failing probe: operator start to finding ${failed.ms} ms (pod run time 300 ms)`);
    // The passing Job is pruned once a newer one has finished.
    await site.waitFor('the first Job pruned', async () => (await probeJobs()).every((j) => j.metadata?.name !== first?.metadata?.name));

    clock = new Date(clock.getTime() + HOUR);
    started = Date.now();
    await startWithProbes(probeSite(0));
    const cleared = await probeResult(started, (f) => f.length === 0);
    expect(cleared.findings).toEqual([]);
    await site.waitFor('only the last Job kept', async () => (await probeJobs()).length === 1);
    // The run's writes: its Job created once, the last one deleted once.
    await new Promise((r) => setTimeout(r, 1_000));
    expect(site.operator!.client.requests.get('apply')).toBe(1);
    expect(site.operator!.client.requests.get('delete')).toBe(1);
  }, 90_000);

  it('tries a running workspace pod of another enclave as the neighbour, at its address and tool port', async () => {
    site = await startTestSite({ cluster: { jobRunMillis: 300 }, site: probeSite(0) });
    await startWithProbes(probeSite(0));
    await site.apply([example('enclave-cardiac-mri.yaml')[0]!]);
    await site.waitFor('enclave Ready', async () => conditionOf(await site!.get(SDE, 'Enclave', 'cardiac-mri'), 'Ready')?.status === 'True');
    await site.apply(example('workspace-rstudio.yaml'));
    const pod = await site.waitFor('the workspace pod running', async () => {
      const p = (await site!.client.list(Kinds.Pod, { namespace: NS, labelSelector: 'sde.london/workspace=patel-rstudio' })).items[0] as (KubernetesObject & { status?: { phase?: string; podIP?: string } }) | undefined;
      return p?.status?.phase === 'Running' && p.status.podIP !== undefined && p;
    }, 30_000);
    const other = structuredClone(example('enclave-cardiac-mri.yaml')[0]!) as KubernetesObject & { spec: { project: { id: string } } };
    other.metadata = { name: 'cardiac-followup' };
    other.spec.project.id = 'SDE-2026-0043';
    await site.apply([other]);
    const job = await site.waitFor('the other enclave\'s probe Job', async () => (await site!.client.list(Kinds.Job, { namespace: 'sde-cardiac-followup', labelSelector: 'app.kubernetes.io/component=isolation-probe' })).items[0] as ProbeJob | undefined, 30_000);
    const args = job.spec?.template?.spec?.containers?.[0]?.args ?? [];
    expect(args.slice(-5)).toEqual(['neighbour', 'closed', 'neighbour-pod', pod.status!.podIP, '8787']);
  }, 90_000);

  it('probes one enclave once per period, at a time offset per enclave', () => {
    const a = probePeriod('cardiac-mri', clock, HOUR);
    expect(a.end.getTime() - a.start.getTime()).toBe(HOUR);
    expect(a.start.getTime()).toBeLessThanOrEqual(clock.getTime());
    expect(a.end.getTime()).toBeGreaterThan(clock.getTime());
    expect(probePeriod('cardiac-mri', new Date(a.end.getTime() - 1), HOUR)).toEqual(a);
    expect(probePeriod('cardiac-mri', a.end, HOUR).start).toEqual(a.end);
    expect(probePeriod('oncology-nlp', clock, HOUR).start).not.toEqual(a.start);
  });
});

describe('findings of a finished probe Job', () => {
  const checks: ProbeCheck[] = [
    { role: 'allowed', expect: 'open', name: 'dataset-service/omop-cdm', host: '10.40.2.20', port: 5432 },
    { role: 'allowed', expect: 'open', name: 'package-mirror/nexus', host: '10.40.1.10', port: 443 },
    { role: 'canary', expect: 'closed', name: 'canary', host: CANARY, port: 443 },
    { role: 'neighbour', expect: 'closed', name: 'neighbour-pod', host: '10.244.1.9', port: 8888 },
  ];
  const job: ProbeJob = { apiVersion: 'batch/v1', kind: 'Job', metadata: { name: 'isolation-probe-abc', namespace: NS }, spec: { template: { spec: { containers: [{ name: 'probe', args: probeArgs(checks) }] } } } };
  const failed = (exitCode: number | undefined, message?: string) => findingsOf(job, { finished: 'Failed', reason: 'BackoffLimitExceeded', terminated: exitCode === undefined ? undefined : { exitCode, reason: 'Error', ...(message ? { message } : {}) } }).map((f) => f.path);

  it.each([
    ['a completed Job', findingsOf(job, { finished: 'Complete' }).map((f) => f.path), []],
    ['exit 10 without a message', failed(10), [`canary ${CANARY}:443 reachable, though it is outside every destination the enclave may reach`]],
    ['exit 12 without a message', failed(12), ['neighbour-pod 10.244.1.9:8888 reachable: a pod of another enclave']],
    ['exit 9 without a message: every allowed destination a suspect', failed(9), ['one of dataset-service/omop-cdm 10.40.2.20:5432, package-mirror/nexus 10.40.1.10:443 unreachable, though the enclave may reach it']],
    ['exit 9 with the message naming the one', failed(9, 'PASS allowed dataset-service/omop-cdm 10.40.2.20:5432 expected-open\nFAIL allowed package-mirror/nexus 10.40.1.10:443 expected-open\n'), ['package-mirror/nexus 10.40.1.10:443 unreachable, though the enclave may reach it']],
    ['exit 14: canary and neighbour', failed(14), [`canary ${CANARY}:443 reachable, though it is outside every destination the enclave may reach`, 'neighbour-pod 10.244.1.9:8888 reachable: a pod of another enclave']],
    ['exit 3: no nc', failed(3), ['no verdict: the probe image has no nc']],
    ['exit 137: killed', failed(137), ['no verdict: the probe exited 137 (Error)']],
    ['no pod left', failed(undefined), ['no verdict: the Job failed (BackoffLimitExceeded) with no exit code']],
  ])('%s', (_what, paths, expected) => {
    expect(paths).toEqual(expected);
  });

  it('names the Job as kubectl does, as a network finding of kind Probe', () => {
    expect(findingsOf(job, { finished: 'Failed', reason: 'BackoffLimitExceeded', terminated: { exitCode: 10 } })[0]).toMatchObject({ concern: 'network', kind: 'Probe', object: `Job ${NS}/isolation-probe-abc` });
  });
});
