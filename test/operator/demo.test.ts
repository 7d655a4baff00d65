// `npm start` is the README's main job: it must bring the example site up and show a researcher
// getting a workspace without asking for one.
import { spawnSync } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';

describe('sde-operator demo (npm start)', () => {
  it('runs the examples to Ready and provisions a workspace for a newly added researcher', () => {
    const dir = mkdtempSync(join(tmpdir(), 'sde-demo-'));
    const run = spawnSync(process.execPath, ['cli/main.ts', 'demo', '--exit-when-ready', '--dir', dir], {
      cwd: new URL('../../', import.meta.url).pathname,
      encoding: 'utf8',
      timeout: 90_000,
    });
    expect(run.stderr).toBe('');
    expect(run.status).toBe(0);
    expect(run.stdout).toMatch(/local Kubernetes ready at http:\/\/127\.0\.0\.1:\d+/);
    expect(run.stdout).toMatch(/workspace\/okafor-jupyter\s+sde-cardiac-mri\s+Running\s+True\s+on dgx-a100-0[12]/);
    expect(run.stdout).toMatch(/workspace\/auto-a-khan-ucl-ac-uk-[0-9a-f]+\s+sde-cardiac-mri\s+Running\s+True/);
    expect(run.stdout).toContain('a.khan@ucl.ac.uk has a ready workspace without asking for one.');
  }, 120_000);
});
