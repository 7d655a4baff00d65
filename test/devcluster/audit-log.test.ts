// The devcluster's audit log: one line per request in kube-apiserver's Metadata-level JSON, so a
// client's writes are counted from the server on both, the same way.
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { KubeConfig } from '@kubernetes/client-node';
import { describe, expect, it } from 'vitest';
import { startDevCluster } from '../../devcluster/index.ts';
import { KubeClient, Kinds } from '../../operator/runtime/index.ts';

describe('devcluster --audit-log', () => {
  it('records each request when its response completes, with the verb, user agent, object and code', async () => {
    const auditLog = join(mkdtempSync(join(tmpdir(), 'sde-audit-')), 'audit.log');
    const cluster = await startDevCluster({ simulate: false, auditLog });
    try {
      const kubeConfig = new KubeConfig();
      kubeConfig.loadFromFile(cluster.kubeconfigPath);
      const client = new KubeClient(kubeConfig, { userAgent: 'audit-probe/1' });
      const namespace = { apiVersion: 'v1', kind: 'Namespace', metadata: { name: 'audited' } };
      await client.apply(namespace, { fieldManager: 'probe', force: true });
      await client.apply(namespace, { fieldManager: 'probe', force: true });
      expect(await client.get(Kinds.ConfigMap, 'missing', 'audited')).toBeUndefined();
    } finally {
      await cluster.stop();
    }
    const records = readFileSync(auditLog, 'utf8').trim().split('\n').map((line) => JSON.parse(line) as Record<string, unknown>);
    // Discovery (GET /api/v1) is logged too, without an object.
    const mine = records.filter((r) => r.userAgent === 'audit-probe/1' && r.objectRef !== undefined);
    expect(records.some((r) => r.userAgent === 'audit-probe/1' && r.requestURI === '/api/v1')).toBe(true);
    expect(mine.map((r) => [r.verb, (r.objectRef as { resource?: string }).resource, (r.objectRef as { name?: string }).name, (r.responseStatus as { code: number }).code])).toEqual([
      ['patch', 'namespaces', 'audited', 201],
      ['patch', 'namespaces', 'audited', 200],
      ['get', 'configmaps', 'missing', 404],
    ]);
    expect(mine.every((r) => r.kind === 'Event' && r.apiVersion === 'audit.k8s.io/v1' && r.stage === 'ResponseComplete' && typeof r.requestReceivedTimestamp === 'string')).toBe(true);
  });
});
