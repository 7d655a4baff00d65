// Updates a real API server refuses are refused by the devcluster too, for real writes as for
// dry runs (test/devcluster/fidelity/updates.test.ts compares every rule with a 1.23 server): an
// operator re-applying a changed Job gets 422 and the Job stays as it was; kubectl prints the
// real server's message. And what makes the refusals hold for the simulated control plane: a
// claim gets its default storage class at creation (the binder never writes it later), and a
// Service that becomes ExternalName gives up the cluster IP it was allocated.
import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as k8s from '@kubernetes/client-node';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { startDevCluster } from '../../devcluster/index.ts';
import type { DevCluster } from '../../devcluster/index.ts';
import { BUILTINS } from '../../devcluster/store/builtins.ts';
import type { KubeObject } from '../../devcluster/store/types.ts';
import { apiError } from './api-error.ts';

const KUBECTL = '/usr/bin/kubectl';
const NS = 'sde-immutable';

let dc: DevCluster;
let objects: k8s.KubernetesObjectApi;

function participant(image: string): k8s.KubernetesObject & Record<string, unknown> {
  return {
    apiVersion: 'batch/v1',
    kind: 'Job',
    metadata: { name: 'participant', namespace: NS },
    spec: { backoffLimit: 2, template: { spec: { restartPolicy: 'Never', containers: [{ name: 'participant', image }] } } },
  };
}

const apply = (obj: k8s.KubernetesObject): Promise<k8s.KubernetesObject> =>
  objects.patch(obj, undefined, undefined, 'sde-operator', true, k8s.PatchStrategy.ServerSideApply);

function imageOf(job: KubeObject | undefined): unknown {
  return (job?.spec as { template: { spec: { containers: { image: string }[] } } } | undefined)?.template.spec.containers[0]?.image;
}

// The Job controller writes status meanwhile; what the operator owns must not have moved.
function operatorEntry(job: KubeObject | undefined): unknown {
  return (job?.metadata.managedFields as { manager: string }[] | undefined)?.find((e) => e.manager === 'sde-operator');
}

beforeAll(async () => {
  dc = await startDevCluster({ events: false, jobRunMillis: 60_000 });
  const kc = new k8s.KubeConfig();
  kc.loadFromFile(dc.kubeconfigPath);
  objects = k8s.KubernetesObjectApi.makeApiClient(kc);
  dc.store.create(BUILTINS.namespaces, { apiVersion: 'v1', kind: 'Namespace', metadata: { name: NS } });
  await apply(participant('nvcr.io/nvidia/clara/nvflare:2.5.0'));
});

afterAll(async () => {
  await dc.stop();
});

describe('immutable fields', () => {
  it('refuses a re-applied Job with another pod template, for real, and keeps the Job as it was', async () => {
    const before = dc.store.get(BUILTINS.jobs, NS, 'participant');
    const refused = await apply(participant('nvcr.io/nvidia/clara/nvflare:2.5.1')).catch((e: unknown) => e);
    expect(refused).toBeInstanceOf(k8s.ApiException);
    const err = refused as k8s.ApiException<string>;
    expect(err.code).toBe(422);
    const status = JSON.parse(String(err.body)) as { reason: string; message: string; details: { causes: { field: string }[] } };
    expect(status.reason).toBe('Invalid');
    expect(status.message).toBe('Job.batch "participant" is invalid: spec.template: Invalid value: core.PodTemplateSpec{…}: field is immutable');
    expect(status.details.causes.map((c) => c.field)).toEqual(['spec.template']);
    const after = dc.store.get(BUILTINS.jobs, NS, 'participant');
    expect(imageOf(after)).toBe('nvcr.io/nvidia/clara/nvflare:2.5.0');
    expect(after?.spec).toEqual(before?.spec);
    expect(operatorEntry(after)).toEqual(operatorEntry(before));
  });

  it.skipIf(!existsSync(KUBECTL))('shows kubectl the message a real server gives', async () => {
    const cacheDir = mkdtempSync(join(tmpdir(), 'kubectl-cache-'));
    try {
      const manifest = JSON.stringify(participant('nvcr.io/nvidia/clara/nvflare:2.5.1'));
      const run = await new Promise<{ code: number | null; stderr: string }>((resolve) => {
        const child = spawn(KUBECTL, [`--kubeconfig=${dc.kubeconfigPath}`, `--cache-dir=${cacheDir}`, 'apply', '-f', '-'], { stdio: ['pipe', 'ignore', 'pipe'] });
        let stderr = '';
        child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
        child.on('close', (code) => resolve({ code, stderr }));
        child.stdin.end(manifest);
      });
      expect(run.code).toBe(1);
      expect(run.stderr).toContain('The Job "participant" is invalid: spec.template: Invalid value: core.PodTemplateSpec{…}: field is immutable');
    } finally {
      rmSync(cacheDir, { recursive: true, force: true });
    }
  });

  it('lists the changed fields of a claim in the spec diff, and lets the binder set volumeName once', async () => {
    const claim = dc.store.create(BUILTINS.persistentvolumeclaims, {
      apiVersion: 'v1', kind: 'PersistentVolumeClaim', metadata: { name: 'home', namespace: NS },
      spec: { accessModes: ['ReadWriteOnce'], resources: { requests: { storage: '1Gi' } } },
    });
    expect((claim.spec as { storageClassName?: string }).storageClassName).toBe('standard');
    await vi.waitFor(() => expect(dc.store.get(BUILTINS.persistentvolumeclaims, NS, 'home')?.status).toMatchObject({ phase: 'Bound' }));
    const bound = dc.store.get(BUILTINS.persistentvolumeclaims, NS, 'home') as KubeObject;
    const err = apiError(() => dc.store.update(BUILTINS.persistentvolumeclaims, { ...bound, spec: { ...(bound.spec as object), accessModes: ['ReadWriteMany'] } }));
    expect(err.code).toBe(422);
    expect(err.causes?.[0]?.message).toBe(
      'Forbidden: spec is immutable after creation except resources.requests for bound claims\n  core.PersistentVolumeClaimSpec{\n- \tAccessModes: ["ReadWriteOnce"]\n+ \tAccessModes: ["ReadWriteMany"]\n  }\n',
    );
  });

  it('takes the allocated cluster IP and IP families from a Service that becomes ExternalName', () => {
    const service = dc.store.create(BUILTINS.services, {
      apiVersion: 'v1', kind: 'Service', metadata: { name: 'aggregator', namespace: NS }, spec: { ports: [{ port: 8002 }] },
    });
    const external = dc.store.update(BUILTINS.services, { ...service, spec: { ...(service.spec as object), type: 'ExternalName', externalName: 'fl.sde.london' } });
    expect(external.spec).toEqual({ type: 'ExternalName', externalName: 'fl.sde.london', sessionAffinity: 'None', ports: [{ port: 8002, protocol: 'TCP', targetPort: 8002 }] });
  });
});
