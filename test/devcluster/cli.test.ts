// `sde-operator devcluster` as a user runs it: one `ready` line with the URL, a kubeconfig,
// a clean stop on SIGTERM, and objects kept across a restart with --data on the same port.
import { spawn } from 'node:child_process';
import type { ChildProcessWithoutNullStreams } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { parse } from 'yaml';

const cli = join(import.meta.dirname, '..', '..', 'cli', 'main.ts');
const dirs: string[] = [];
const children: ChildProcessWithoutNullStreams[] = [];

afterEach(() => {
  for (const c of children.splice(0)) if (c.exitCode === null) c.kill('SIGKILL');
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});

async function start(args: string[]): Promise<{ child: ChildProcessWithoutNullStreams; url: string; lines: string[] }> {
  const child = spawn(process.execPath, [cli, 'devcluster', ...args], { stdio: ['pipe', 'pipe', 'pipe'] });
  children.push(child);
  const lines: string[] = [];
  const url = await new Promise<string>((resolve, reject) => {
    let out = '';
    let err = '';
    child.stderr.on('data', (d: Buffer) => (err += d.toString()));
    child.stdout.on('data', (d: Buffer) => {
      out += d.toString();
      const ready = out.split('\n').find((l) => l.includes('ready'));
      if (ready) {
        lines.push(...out.split('\n').filter((l) => l !== ''));
        resolve(/http:\/\/127\.0\.0\.1:\d+/.exec(ready)?.[0] ?? '');
      }
    });
    child.on('exit', (code) => reject(new Error(`devcluster exited with ${code} before ready:\n${out}${err}`)));
  });
  return { child, url, lines };
}

function stop(child: ChildProcessWithoutNullStreams): Promise<number | null> {
  return new Promise((resolve) => {
    child.on('exit', (code) => resolve(code));
    child.kill('SIGTERM');
  });
}

describe('sde-operator devcluster', () => {
  it('prints one ready line, writes a kubeconfig, stops on SIGTERM and keeps --data objects across a restart', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'devcluster-cli-'));
    dirs.push(dir);
    const kubeconfig = join(dir, 'kubeconfig');
    const data = join(dir, 'data.json');
    const first = await start(['--port', '0', '--kubeconfig', kubeconfig, '--data', data]);
    expect(first.lines.filter((l) => l.includes('ready'))).toHaveLength(1);
    const config = parse(readFileSync(kubeconfig, 'utf8')) as { clusters: { cluster: { server: string; 'insecure-skip-tls-verify': boolean } }[] };
    expect(config.clusters[0]?.cluster).toEqual({ server: first.url, 'insecure-skip-tls-verify': true });
    const created = await fetch(`${first.url}/api/v1/namespaces/default/configmaps`, {
      method: 'POST',
      headers: { 'Content-Type': 'application/json' },
      body: JSON.stringify({ apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'survivor' }, data: { a: 'b' } }),
    });
    expect(created.status).toBe(201);
    const nodes = (await (await fetch(`${first.url}/api/v1/nodes`)).json()) as { items: unknown[] };
    expect(nodes.items).toHaveLength(4);
    expect(await stop(first.child)).toBe(0);
    const port = new URL(first.url).port;
    const second = await start(['--port', port, '--kubeconfig', kubeconfig, '--data', data]);
    expect(second.url).toBe(first.url);
    const again = (await (await fetch(`${second.url}/api/v1/namespaces/default/configmaps/survivor`)).json()) as { data: Record<string, string> };
    expect(again.data).toEqual({ a: 'b' });
    expect(await stop(second.child)).toBe(0);
  });

  it('refuses a bad flag with a message naming it', async () => {
    const child = spawn(process.execPath, [cli, 'devcluster', '--port', 'eighty'], { stdio: ['pipe', 'pipe', 'pipe'] });
    children.push(child);
    let err = '';
    child.stderr.on('data', (d: Buffer) => (err += d.toString()));
    const code = await new Promise<number | null>((resolve) => child.on('exit', resolve));
    expect(code).not.toBe(0);
    expect(err).toContain('--port expects a non-negative number, found "eighty"');
  });
});
