// Reading requests from a kube-apiserver audit log (bench/lib/audit.ts), which the benchmarks and
// the end-to-end suite count the operator's requests by: by client, from a mark, while the API
// server may be writing its last line, and never from a log rotated since the mark.
import { appendFileSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { auditMark, requestsSince } from '../../bench/lib/audit.ts';

const record = (userAgent: string, verb: string, resource: string, code = 200, at = '2026-12-04T12:00:00.000000Z'): string =>
  `${JSON.stringify({ stage: 'ResponseComplete', verb, userAgent, stageTimestamp: at, objectRef: { resource, namespace: 'sde-a' }, responseStatus: { code } })}\n`;

describe('requests from an audit log', () => {
  const log = join(mkdtempSync(join(tmpdir(), 'sde-audit-read-')), 'audit.log');

  it('counts each client\'s reads and writes after the mark, by request, with what it created (a review stores nothing: a read)', async () => {
    writeFileSync(log, record('sde-operator/1.0 (linux)', 'patch', 'statefulsets'));
    const mark = auditMark(log);
    appendFileSync(log, record('sde-operator/1.0 (linux)', 'create', 'rolebindings', 201) + record('sde-operator/1.0 (linux)', 'list', 'pods') + record('sde-operator/1.0 (linux)', 'create', 'subjectaccessreviews', 201) + record('kubectl/v1.23', 'patch', 'enclaves'));
    const byClient = await requestsSince(log, mark);
    expect(byClient['sde-operator']).toMatchObject({ writes: 1, reads: 2, created: 1, createdByResource: { rolebindings: 1 }, byRequest: { 'create rolebindings': 1, 'list pods': 1, 'create subjectaccessreviews': 1 } });
    expect(byClient.kubectl?.writes).toBe(1);
  });

  it('leaves out a last line the API server is still writing, but not a broken line before others', async () => {
    writeFileSync(log, '');
    const line = record('sde-operator/1.0', 'delete', 'pods');
    appendFileSync(log, line + line.slice(0, 40));
    expect((await requestsSince(log, 0))['sde-operator']?.writes).toBe(1);
    appendFileSync(log, `\n${line}`);
    await expect(requestsSince(log, 0)).rejects.toThrow(/one JSON record per line/);
  });

  it('refuses a log smaller than the mark: it was rotated, and the requests are in the old file', async () => {
    writeFileSync(log, record('sde-operator/1.0', 'patch', 'pods').repeat(3));
    const mark = auditMark(log);
    writeFileSync(log, record('sde-operator/1.0', 'patch', 'pods'));
    await expect(requestsSince(log, mark)).rejects.toThrow(/rotated/);
  });
});
