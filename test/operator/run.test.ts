import { spawn } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { leaderTiming } from '../../cli/run.ts';

const root = new URL('../../', import.meta.url).pathname;

describe('leader election timing for `run --lease-duration`', () => {
  it.each([15, 2, 1, 60])('%i s: the leader stops before a standby may take over, and renews several times per lease', (seconds) => {
    const t = leaderTiming('sde-system', seconds);
    expect(t.leaseDurationSeconds).toBe(seconds);
    expect(t.renewDeadlineMs).toBeLessThan(seconds * 1000);
    expect(t.retryPeriodMs).toBeLessThan(t.renewDeadlineMs / 2);
  });

  it('keeps client-go\'s relation at the default duration (15 s lease, 10 s renew deadline, 2 s retry)', () => {
    expect(leaderTiming('sde-system', 15)).toEqual({ namespace: 'sde-system', leaseDurationSeconds: 15, renewDeadlineMs: 10_000, retryPeriodMs: 2_000 });
  });
});

describe('`sde-operator run` against an API server older than the minimum', () => {
  it('exits 1 with one line naming the server\'s version and the minimum, before it writes anything', async () => {
    // No 1.22 API server can run here: this one answers /version like one and records every other request.
    const others: string[] = [];
    const server = createServer((request, response) => {
      if (request.url?.startsWith('/version')) {
        response.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ major: '1', minor: '22', gitVersion: 'v1.22.17' }));
        return;
      }
      others.push(`${request.method} ${request.url}`);
      response.writeHead(404).end();
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const { port } = server.address() as AddressInfo;
    const dir = mkdtempSync(join(tmpdir(), 'sde-run-version-'));
    const kubeconfig = join(dir, 'kubeconfig');
    writeFileSync(kubeconfig, JSON.stringify({
      apiVersion: 'v1', kind: 'Config', 'current-context': 'old',
      clusters: [{ name: 'old', cluster: { server: `http://127.0.0.1:${port}`, 'insecure-skip-tls-verify': true } }],
      users: [{ name: 'u', user: { token: 't' } }],
      contexts: [{ name: 'old', context: { cluster: 'old', user: 'u' } }],
    }));
    try {
      const run = await new Promise<{ code: number | null; stderr: string }>((resolve) => {
        const child = spawn(process.execPath, ['cli/main.ts', 'run', '--site', 'uclh', '--site-config', 'examples/site-uclh.yaml', '--kubeconfig', kubeconfig, '--port', '0', '--log-level', 'error'], { cwd: root });
        let stderr = '';
        child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
        child.on('exit', (code) => resolve({ code, stderr }));
      });
      expect(run.code).toBe(1);
      expect(run.stderr.trim().split('\n')).toEqual([`sde-operator: expected Kubernetes 1.23 or later, but http://127.0.0.1:${port} runs v1.22.17; the operator does not start there`]);
      expect(others).toEqual([]);
    } finally {
      server.close();
    }
  });
});

// Hostile: raw data is never mounted, so a site configuration that offers it is refused whole.
describe('`sde-operator run` with a site catalogue offering raw-zone data', () => {
  it('exits 1 naming the catalogue entry\'s field, before it sends a request', async () => {
    const requests: string[] = [];
    const server = createServer((request, response) => {
      requests.push(`${request.method} ${request.url}`);
      response.writeHead(404).end();
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const { port } = server.address() as AddressInfo;
    const dir = mkdtempSync(join(tmpdir(), 'sde-run-site-'));
    const kubeconfig = join(dir, 'kubeconfig');
    writeFileSync(kubeconfig, JSON.stringify({
      apiVersion: 'v1', kind: 'Config', 'current-context': 'site',
      clusters: [{ name: 'site', cluster: { server: `http://127.0.0.1:${port}`, 'insecure-skip-tls-verify': true } }],
      users: [{ name: 'u', user: { token: 't' } }],
      contexts: [{ name: 'site', context: { cluster: 'site', user: 'u' } }],
    }));
    try {
      const run = await new Promise<{ code: number | null; output: string }>((resolve) => {
        const child = spawn(process.execPath, ['cli/main.ts', 'run', '--site', 'uclh', '--site-config', 'examples/invalid/site-raw-zone.yaml', '--kubeconfig', kubeconfig, '--port', '0'], { cwd: root });
        let output = '';
        child.stdout.on('data', (chunk: Buffer) => (output += chunk.toString()));
        child.stderr.on('data', (chunk: Buffer) => (output += chunk.toString()));
        child.on('exit', (code) => resolve({ code, output }));
      });
      expect(run.code).toBe(1);
      expect(run.output).toContain('examples/invalid/site-raw-zone.yaml: document 1 (SiteConfig): datasets[0].zone: raw-zone data is never mounted in an enclave');
      expect(requests).toEqual([]);
    } finally {
      server.close();
    }
  });
});
