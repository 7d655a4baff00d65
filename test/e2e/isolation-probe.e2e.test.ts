// The isolation probe on a real control plane (issue 19): the probe Job passes Pod Security
// `restricted` and the enclave's quota in the real API server and runs under the real Job
// controller; the stand-in kubelet (../shared/kubernetes) ends its pod with the exit code the
// site's probe pod annotation chooses. A probe exiting with the canary's code yields a finding
// naming the Job and the canary; the next passing probe clears it. The operator runs in-process
// with a probe controller of its own (on a site without probes, so operator/operator.ts adds none beside it); its
// writes are counted from the audit log when SDE_AUDIT_LOG names it.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { readFileSync } from 'node:fs';
import { parse } from 'yaml';
import { siteConfig } from '../../api/siteconfig.ts';
import type { SiteConfig } from '../../api/siteconfig.ts';
import type { IsolationFinding } from '../../isolation/findings.ts';
import { isolationProbeController } from '../../operator/isolation/probe.ts';
import { IsolationStore } from '../../operator/isolation/store.ts';
import { createOperator } from '../../operator/operator.ts';
import { createLogger } from '../../operator/runtime/index.ts';
import type { KubeClient, Manager } from '../../operator/runtime/index.ts';
import { auditLogPath, auditMark, connect, installCrds, isReady, K, kubeconfigPath, operatorRequestsSince, read, until, type Live } from './harness.ts';

const RUN = `probe-${Date.now().toString(36)}`;
const NS = `sde-${RUN}`;
const CANARY = '203.0.113.7';
const HOUR = 3_600_000;
const example = (file: string): unknown => parse(readFileSync(new URL(`../../examples/${file}`, import.meta.url), 'utf8'));

function probeSite(exitCode: number): SiteConfig {
  const site = siteConfig.parse(example('site-uclh.yaml'));
  return siteConfig.parse({ ...site, isolation: { ...site.isolation, probes: { image: 'nexus.sde.uclh.nhs.uk/sde/busybox:1.36', canary: { ip: CANARY, port: 443 }, period: '1h', podAnnotations: { 'stand-in.sde.test/exit-code': String(exitCode) } } } });
}

describe.skipIf(!kubeconfigPath)(`the isolation probe on the cluster in KUBECONFIG (run ${RUN})`, () => {
  let client: KubeClient;
  let kubeConfig: ReturnType<typeof connect>['kubeConfig'];
  let operator: Manager | undefined;
  const store = new IsolationStore();
  let clock = new Date();

  /** (Re)starts the in-process operator with the probe controller for a site whose probes exit `exitCode`. */
  async function startWithProbes(exitCode: number): Promise<void> {
    await operator?.stop();
    const site = probeSite(exitCode);
    // The operator's own probe controller is left out (a site without probes); this one writes to the test's store.
    const withoutProbes = { ...site, isolation: { ...site.isolation, probes: undefined } };
    operator = createOperator({ site: withoutProbes, kubeConfig, port: false, logger: createLogger({ level: process.env.TEST_LOG_LEVEL ?? 'silent' }), now: () => clock });
    operator.add(isolationProbeController({ site, store, now: () => clock }));
    await operator.start();
  }

  const probeJobs = async (): Promise<Live[]> => (await client.list(K.Job, { namespace: NS, labelSelector: 'app.kubernetes.io/component=isolation-probe' })).items as Live[];

  /** The store's probe findings once one result made after `since` matches; and the ms it took. */
  async function result(since: number, matches: (findings: readonly IsolationFinding[]) => boolean): Promise<{ findings: readonly IsolationFinding[]; ms: number }> {
    const probe = await until('the probe\'s result', async () => {
      const r = store.get(RUN).probe;
      return r !== undefined && r.at.getTime() >= since - 1_000 && matches(r.findings) && r;
    }, 90_000, 100);
    return { findings: probe.findings, ms: Date.now() - since };
  }

  beforeAll(async () => {
    ({ client, kubeConfig } = connect());
    await installCrds(client);
  });

  afterAll(async () => {
    await client?.delete({ apiVersion: K.Enclave.apiVersion, kind: 'Enclave', metadata: { name: RUN } }).catch(() => undefined);
    await operator?.stop();
  });

  it('a probe exiting with the canary\'s code: a finding naming the Job and the canary', async () => {
    await startWithProbes(10);
    const enclave = structuredClone(example('enclave-cardiac-mri.yaml')) as Live;
    enclave.metadata = { name: RUN };
    const started = Date.now();
    await client.apply(enclave, { fieldManager: 'sde-e2e', force: true });
    await until('the enclave Ready', async () => isReady(await read(client, K.Enclave, RUN)));
    const failed = await result(started, (f) => f.length > 0);
    const [job] = await probeJobs();
    expect(failed.findings).toEqual([{ concern: 'network', kind: 'Probe', object: `Job ${NS}/${job?.metadata?.name}`, path: `canary ${CANARY}:443 reachable, though it is outside every destination the enclave may reach` }]);
    expect(job?.status?.conditions?.find((c) => c.type === 'Failed')?.reason).toBe('BackoffLimitExceeded');
    console.log(`probe exiting 10: enclave applied to finding ${failed.ms} ms (the stand-in kubelet runs a Job's pod 5 s)`);
  });

  it('the next passing probe clears it; the failing Job is pruned; at rest the operator writes nothing', async () => {
    const before = (await probeJobs()).map((j) => j.metadata?.name);
    clock = new Date(clock.getTime() + HOUR);
    const mark = auditMark();
    const started = Date.now();
    await startWithProbes(0);
    const cleared = await result(started, (f) => f.length === 0);
    expect(cleared.findings).toEqual([]);
    console.log(`passing probe: operator start to cleared ${cleared.ms} ms`);
    await until('the failing Job pruned', async () => {
      const names = (await probeJobs()).map((j) => j.metadata?.name);
      return names.length === 1 && !before.includes(names[0]) && names;
    }, 30_000);

    if (!auditLogPath) return;
    // Settled: nothing more for the probe to do until the next period.
    await new Promise((r) => setTimeout(r, 3_000));
    const settled = auditMark();
    await new Promise((r) => setTimeout(r, 5_000));
    const atRest = await operatorRequestsSince(settled);
    expect(atRest.writes).toEqual({});
    const run = await operatorRequestsSince(mark);
    console.log(`a probe run's writes: ${JSON.stringify(run.writes)}`);
    expect(run.writes['patch jobs']).toBe(1);
    expect(run.writes['delete jobs']).toBe(1);
  });
});
