import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { enclave } from '../../api/enclave.ts';
import { registerCsv, registerEntries } from '../../operator/register/register.ts';

const base = enclave.parse(parse(readFileSync(new URL('../../examples/enclave-cardiac-mri.yaml', import.meta.url), 'utf8')));

describe('data use register', () => {
  it('lists this site\'s enclaves with project, datasets and effective dates, never member names', () => {
    const other = { ...base, metadata: { name: 'elsewhere' }, spec: { ...base.spec, site: 'gstt' } };
    const extended = {
      ...base,
      spec: { ...base.spec, access: { ...base.spec.access, extensions: [{ until: '2028-06-30T00:00:00Z', justification: 'Revisions, with "quotes", and commas', approvedBy: 'UCLH DAC' }] } },
      status: { phase: 'Ready' as const },
    };
    const entries = registerEntries([other, extended], 'uclh');
    expect(entries).toHaveLength(1);
    expect(entries[0]).toMatchObject({
      projectId: 'SDE-2026-0042',
      organisation: 'UCL Institute of Cardiovascular Science',
      expiresAt: '2028-06-30T00:00:00.000Z',
      status: 'Ready',
      datasets: [
        { name: 'cardiac-mri-curated', kind: 'volume', zone: 'curated' },
        { name: 'omop', kind: 'database', zone: 'curated' },
        { name: 'xnat', kind: 'imaging', zone: 'curated' },
      ],
    });
    const everything = JSON.stringify(entries) + registerCsv(entries);
    for (const m of base.spec.members) expect(everything).not.toContain(m.user as string);
  });

  it('writes RFC 4180 CSV: a header, one row per enclave, quoted cells where needed', () => {
    const csv = registerCsv(registerEntries([base], 'uclh'));
    const lines = csv.trimEnd().split('\r\n');
    expect(lines[0]).toBe('projectId,title,organisation,purpose,approvedBy,site,datasets,validFrom,expiresAt,extensions,status');
    expect(lines).toHaveLength(2);
    expect(lines[1]).toMatch(/^SDE-2026-0042,Deep learning for cardiac MRI outcome prediction,/);
    expect(lines[1]).toContain('"Train and validate models that predict adverse cardiac events from cardiac MRI and structured EHR data, to improve');
  });
});
