// The isolation probe Job as rendered: restricted, small, run once, treated by the enclave's
// policies as a workspace pod is for egress; and its script, run by a real shell with a stand-in
// nc, reporting each check and exiting with the documented codes.
import { execFileSync } from 'node:child_process';
import { chmodSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { V1Job } from '@kubernetes/client-node';
import { afterAll, describe, expect, it } from 'vitest';
import { siteConfig } from '../../api/siteconfig.ts';
import type { SiteConfig } from '../../api/siteconfig.ts';
import { renderEnclave, renderWorkspace } from '../../constructs/index.ts';
import { checksOfArgs, probeArgs, probeChecks, probeJobName, PROBE_SCRIPT, renderIsolationProbe } from '../../constructs/isolation-probe.ts';
import { ENCLAVE, FEDERATED_JOB, MANAGED_BY } from '../../constructs/labels.ts';
import { policiesOf, podsOf } from '../../isolation/model.ts';
import { egressAllowed } from '../../isolation/reachability.ts';
import type { ClusterModel } from '../../isolation/reachability.ts';
import { cardiacEnclave, jupyterWorkspace, uclhSite } from './fixtures.ts';
import { restrictedViolations } from './psa.ts';

const CANARY = '203.0.113.7';
const PERIOD = new Date('2026-12-03T13:00:00Z');

function probeSite(extra: Record<string, unknown> = {}): SiteConfig {
  const base = uclhSite();
  return siteConfig.parse({ ...base, isolation: { ...base.isolation, probes: { image: 'nexus.sde.uclh.nhs.uk/sde/busybox:1.36', canary: { ip: CANARY, port: 443 }, period: '1h', ...extra } } });
}

function probeJob(site = probeSite(), neighbour?: { ip: string; port: number }): V1Job {
  const objects = renderIsolationProbe(cardiacEnclave(), site, { period: PERIOD, neighbour });
  expect(objects).toHaveLength(1);
  return objects[0] as unknown as V1Job;
}

describe('renderIsolationProbe', () => {
  it('renders nothing when the site has probes off', () => {
    expect(renderIsolationProbe(cardiacEnclave(), uclhSite(), { period: PERIOD })).toEqual([]);
  });

  it('is a Job of the enclave: in its namespace, owned by it, labelled as its child, one name per period', () => {
    const job = probeJob();
    expect(job.metadata?.namespace).toBe('sde-cardiac-mri');
    expect(job.metadata?.name).toBe(probeJobName(PERIOD));
    expect(job.metadata?.name).toMatch(/^isolation-probe-[0-9a-f]{10}$/);
    expect(probeJobName(new Date(PERIOD.getTime() + 3_600_000))).not.toBe(job.metadata?.name);
    expect(job.metadata?.labels).toMatchObject({ [MANAGED_BY]: 'sde-operator', [ENCLAVE]: 'cardiac-mri' });
    expect(job.metadata?.ownerReferences).toEqual([expect.objectContaining({ kind: 'Enclave', name: 'cardiac-mri', controller: true })]);
    expect(job.spec?.template.metadata?.labels).toEqual(job.metadata?.labels);
    expect(job.spec?.template.metadata?.labels?.[FEDERATED_JOB]).toBeUndefined();
  });

  it('runs once, under PSA restricted, without a token, with small requests equal to limits, stopped at a deadline, deleted after two periods', () => {
    const job = probeJob();
    const pod = job.spec!.template.spec!;
    expect(restrictedViolations(pod)).toEqual([]);
    expect(pod.automountServiceAccountToken).toBe(false);
    expect(pod.restartPolicy).toBe('Never');
    expect(pod.containers).toHaveLength(1);
    expect(pod.containers[0]!.resources).toEqual({ requests: { cpu: '50m', memory: '32Mi' }, limits: { cpu: '50m', memory: '32Mi' } });
    expect(pod.tolerations).toBeUndefined();
    expect(job.spec).toMatchObject({ backoffLimit: 0, ttlSecondsAfterFinished: 7200 });
    expect(job.spec?.activeDeadlineSeconds).toBeGreaterThan(0);
    expect(job.spec?.activeDeadlineSeconds).toBeLessThanOrEqual(300);
  });

  it('carries the site\'s pod annotations on its pod only', () => {
    const job = probeJob(probeSite({ podAnnotations: { 'stand-in.sde.test/exit-code': '10' } }));
    expect(job.spec?.template.metadata?.annotations).toEqual({ 'stand-in.sde.test/exit-code': '10' });
    expect(probeJob().spec?.template.metadata?.annotations).toBeUndefined();
  });

  it('tries the enclave\'s datasets\' services and the package mirror (open), the canary and the neighbour (closed), as arguments, never as shell', () => {
    const job = probeJob(probeSite(), { ip: '10.244.1.9', port: 8888 });
    const container = job.spec!.template.spec!.containers[0]!;
    expect(container.command).toEqual(['/bin/sh', '-c', PROBE_SCRIPT, 'isolation-probe']);
    expect(checksOfArgs(container.args ?? [])).toEqual([
      { role: 'allowed', expect: 'open', name: 'dataset-service/omop-cdm', host: '10.40.2.20', port: 5432 },
      { role: 'allowed', expect: 'open', name: 'dataset-service/xnat', host: '10.40.2.30', port: 443 },
      { role: 'allowed', expect: 'open', name: 'package-mirror/nexus', host: '10.40.1.10', port: 443 },
      { role: 'canary', expect: 'closed', name: 'canary', host: CANARY, port: 443 },
      { role: 'neighbour', expect: 'closed', name: 'neighbour-pod', host: '10.244.1.9', port: 8888 },
    ]);
  });

  it('is treated by the enclave\'s NetworkPolicies as a workspace pod is, for egress, to every destination it tries and more', () => {
    const site = probeSite();
    const enclave = cardiacEnclave();
    const objects = [...renderEnclave(enclave, site, { accessActive: true }), ...renderWorkspace(jupyterWorkspace(), enclave, site, { accessActive: true }), ...renderIsolationProbe(enclave, site, { period: PERIOD })];
    let n = 0;
    const pods = podsOf(objects, () => `10.244.0.${(n += 1)}`);
    const model: ClusterModel = { namespaces: [], pods, policies: policiesOf(objects) };
    const probePod = pods.find((p) => p.name.startsWith('job/isolation-probe-'))!;
    const workspacePod = pods.find((p) => p.name === 'statefulset/okafor-jupyter')!;
    const destinations = [...site.dataServices, ...site.packageMirrors, ...site.aggregators, ...site.allowedEgress]
      .flatMap((d) => d.ports.map((p) => ({ ip: d.cidr.split('/')[0]!, port: p.port })));
    for (const to of [...destinations, { ip: CANARY, port: 443 }, { ip: '8.8.8.8', port: 53 }, { ip: workspacePod.ip, port: 8888 }]) {
      const probe = { port: to.port, protocol: 'TCP' as const };
      expect(egressAllowed(model, probePod, { ip: to.ip }, probe), `${to.ip}:${to.port}`).toBe(egressAllowed(model, workspacePod, { ip: to.ip }, probe));
    }
    for (const check of probeChecks(enclave, site)) {
      expect(egressAllowed(model, probePod, { ip: check.host }, { port: check.port, protocol: 'TCP' }), check.name).toBe(check.expect === 'open');
    }
  });
});

describe('the probe script', () => {
  const dir = mkdtempSync(join(tmpdir(), 'isolation-probe-'));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));
  // A stand-in nc: "connects" to HOST:PORT when that pair is listed in $OPEN.
  writeFileSync(join(dir, 'nc'), '#!/bin/sh\ncase " $OPEN " in *" $4:$5 "*) exit 0 ;; *) exit 1 ;; esac\n');
  chmodSync(join(dir, 'nc'), 0o755);
  const args = probeArgs([
    { role: 'allowed', expect: 'open', name: 'dataset-service/omop-cdm', host: '10.40.2.20', port: 5432 },
    { role: 'allowed', expect: 'open', name: 'package-mirror/nexus', host: '10.40.1.10', port: 443 },
    { role: 'canary', expect: 'closed', name: 'canary', host: CANARY, port: 443 },
    { role: 'neighbour', expect: 'closed', name: 'neighbour-pod', host: '10.244.1.9', port: 8888 },
  ]);

  function run(open: string[], path = `${dir}:/usr/bin:/bin`): { code: number; report: string } {
    const report = join(dir, `report-${Math.random().toString(36).slice(2)}`);
    let code = 0;
    try {
      execFileSync('/bin/sh', ['-c', PROBE_SCRIPT, 'isolation-probe', ...args], { env: { PATH: path, OPEN: open.join(' '), PROBE_REPORT: report }, stdio: 'ignore' });
    } catch (err) {
      code = (err as { status: number }).status;
    }
    return { code, report: readFileSync(report, 'utf8') };
  }

  const allowed = ['10.40.2.20:5432', '10.40.1.10:443'];
  it.each([
    ['every check as expected', allowed, 0, ['PASS allowed dataset-service/omop-cdm 10.40.2.20:5432 expected-open', 'PASS canary canary 203.0.113.7:443 expected-closed']],
    ['an allowed destination unreachable', ['10.40.1.10:443'], 9, ['FAIL allowed dataset-service/omop-cdm 10.40.2.20:5432 expected-open', 'PASS allowed package-mirror/nexus 10.40.1.10:443 expected-open']],
    ['the canary reachable', [...allowed, `${CANARY}:443`], 10, ['FAIL canary canary 203.0.113.7:443 expected-closed']],
    ['a neighbour reachable', [...allowed, '10.244.1.9:8888'], 12, ['FAIL neighbour neighbour-pod 10.244.1.9:8888 expected-closed']],
    ['the canary and a neighbour reachable, nothing allowed', [`${CANARY}:443`, '10.244.1.9:8888'], 15, ['FAIL allowed package-mirror/nexus 10.40.1.10:443 expected-open', 'FAIL neighbour neighbour-pod 10.244.1.9:8888 expected-closed']],
  ])('%s: exit %s, one line per check', (_what, open, code, lines) => {
    const result = run(open);
    expect(result.code).toBe(code);
    expect(result.report.trim().split('\n')).toHaveLength(4);
    for (const line of lines) expect(result.report).toContain(line);
  });

  it('without nc in the image: exit 3 and says so', () => {
    const result = run(allowed, '/nonexistent');
    expect(result.code).toBe(3);
    expect(result.report).toContain('no nc');
  });
});
