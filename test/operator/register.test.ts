// The data use register's pure parts: the record an enclave leaves, where a project stands at a
// given time, and the CSV and HTML a visitor gets. Never a member, whatever the spec holds.
import { readFileSync } from 'node:fs';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { enclave, type Enclave } from '../../api/enclave.ts';
import { RECORD_KEY, recordConfigMap, recordFromConfigMap, recordName, registerRecordType } from '../../operator/data-use-register/configmap.ts';
import { registerCsv } from '../../operator/data-use-register/csv.ts';
import { registerHtml } from '../../operator/data-use-register/html.ts';
import { closedRecord, recordOf, type RegisterRecord } from '../../operator/data-use-register/record.ts';
import { publishRegister, statusAt } from '../../operator/data-use-register/publish.ts';
import { desiredHash } from '../../operator/runtime/index.ts';

const base = enclave.parse(parse(readFileSync(new URL('../../examples/enclave-cardiac-mri.yaml', import.meta.url), 'utf8')));
const UID = '0f5c2a9e-1b7d-4c3e-9a51-6d2f8e4b7c10';
const SITE = { site: 'uclh', displayName: 'University College London Hospitals NHS Foundation Trust' };

function withAccess(e: Enclave, access: Partial<Enclave['spec']['access']>): Enclave {
  return { ...e, spec: { ...e.spec, access: { ...e.spec.access, ...access } } };
}

const extension = (until: string, justification = 'Revisions requested by the journal') => ({ until, justification, approvedBy: 'UCLH Data Access Committee' });

describe('the record an enclave leaves', () => {
  it('holds the project, the datasets by name and the access period, and nothing about members', () => {
    const record = recordOf(base, UID);
    expect(record).toEqual({
      enclave: { name: 'cardiac-mri', uid: UID },
      site: 'uclh',
      project: {
        id: 'SDE-2026-0042',
        title: 'Deep learning for cardiac MRI outcome prediction',
        organisation: 'UCL Institute of Cardiovascular Science',
        purpose: base.spec.project.purpose,
        approvedBy: 'UCLH Data Access Committee',
      },
      datasets: base.spec.data.map((d) => d.name),
      access: { validFrom: '2026-01-01T00:00:00Z', expiresAt: '2027-12-31T23:59:59Z', extensions: [], withdrawnExtensions: [] },
      closedAt: null,
    });
    for (const m of base.spec.members) expect(JSON.stringify(record)).not.toContain(m.user ?? m.group);
  });

  it('keeps every extension it ever recorded: one the spec drops stays, as withdrawn, once', () => {
    const first = recordOf(withAccess(base, { extensions: [extension('2028-03-31T00:00:00Z'), extension('2028-06-30T00:00:00Z')] }), UID);
    const rewritten = recordOf(withAccess(base, { extensions: [extension('2028-06-30T00:00:00Z', 'A different story')] }), UID, first);
    expect(rewritten.access.extensions).toEqual([extension('2028-06-30T00:00:00Z', 'A different story')]);
    expect(rewritten.access.withdrawnExtensions).toEqual([extension('2028-03-31T00:00:00Z'), extension('2028-06-30T00:00:00Z')]);
    const again = recordOf(withAccess(base, { extensions: [] }), UID, rewritten);
    expect(again.access.withdrawnExtensions).toEqual([extension('2028-03-31T00:00:00Z'), extension('2028-06-30T00:00:00Z'), extension('2028-06-30T00:00:00Z', 'A different story')]);
    const restored = recordOf(withAccess(base, { extensions: [extension('2028-03-31T00:00:00Z')] }), UID, again);
    expect(restored.access.withdrawnExtensions).toEqual([extension('2028-06-30T00:00:00Z'), extension('2028-06-30T00:00:00Z', 'A different story')]);
  });

  it('is closed once, at the first time its enclave was seen gone', () => {
    const closed = closedRecord(recordOf(base, UID), new Date('2027-02-01T10:00:00Z'));
    expect(closed.closedAt).toBe('2027-02-01T10:00:00.000Z');
    expect(closedRecord(closed, new Date('2027-03-01T00:00:00Z')).closedAt).toBe('2027-02-01T10:00:00.000Z');
  });
});

describe('the record as a ConfigMap', () => {
  const record = recordOf(withAccess(base, { extensions: [extension('2028-03-31T00:00:00Z')] }), UID);

  it('is named for the enclave and its uid, labelled for the register, and reads back as it was written', () => {
    const configMap = recordConfigMap(record, 'sde-system');
    expect(configMap.metadata).toMatchObject({ name: 'register-cardiac-mri-0f5c2a9e', namespace: 'sde-system' });
    expect(registerRecordType('sde-system', 'uclh')).toMatchObject({ kind: 'ConfigMap', namespace: 'sde-system', labelSelector: 'app.kubernetes.io/managed-by=sde-operator,app.kubernetes.io/component=data-use-register,sde.london/site=uclh' });
    expect(configMap.metadata?.labels).toMatchObject({ 'sde.london/registered-enclave': 'cardiac-mri', 'sde.london/project': 'SDE-2026-0042', 'sde.london/site': 'uclh' });
    expect(configMap.metadata?.labels).not.toHaveProperty(['sde.london/enclave']);
    expect(recordFromConfigMap(configMap)).toEqual(record);
  });

  it('renders the same object for the same record, so an unchanged record is never written again', () => {
    const again = recordFromConfigMap(recordConfigMap(record, 'sde-system')) as RegisterRecord;
    expect(desiredHash(recordConfigMap(again, 'sde-system'))).toBe(desiredHash(recordConfigMap(record, 'sde-system')));
    const closed = closedRecord(record, new Date('2027-02-01T00:00:00Z'));
    expect(desiredHash(recordConfigMap(recordFromConfigMap(recordConfigMap(closed, 'sde-system')) as RegisterRecord, 'sde-system'))).toBe(desiredHash(recordConfigMap(closed, 'sde-system')));
  });

  it.each([
    ['not JSON', '{'],
    ['JSON of another shape', '{"project":"x"}'],
    ['nothing', undefined],
  ])('yields no record for a ConfigMap holding %s', (_what, text) => {
    expect(recordFromConfigMap({ apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'x' }, ...(text === undefined ? {} : { data: { [RECORD_KEY]: text } }) } as never)).toBeUndefined();
  });

  it('a new enclave under an old name gets a record of its own', () => {
    expect(recordName('cardiac-mri', UID)).not.toBe(recordName('cardiac-mri', '7a0d11c4-0000-4000-8000-000000000000'));
  });
});

describe('where a project stands', () => {
  const record = recordOf(withAccess(base, { extensions: [extension('2028-06-30T00:00:00Z')] }), UID);
  it.each([
    ['before validFrom', record, '2025-12-31T00:00:00Z', 'not-started'],
    ['inside the first period', record, '2027-06-01T00:00:00Z', 'active'],
    ['inside the extension', record, '2028-01-15T00:00:00Z', 'active'],
    ['after the extension', record, '2028-06-30T00:00:00Z', 'ended'],
    ['after its enclave was deleted early', closedRecord(record, new Date('2027-02-01T00:00:00Z')), '2027-03-01T00:00:00Z', 'closed'],
    ['after its enclave was deleted once ended', closedRecord(record, new Date('2028-07-01T00:00:00Z')), '2028-08-01T00:00:00Z', 'ended'],
  ] as const)('%s', (_when, r, now, status) => {
    expect(statusAt(r, new Date(now))).toBe(status);
  });
});

describe('the published register', () => {
  const now = new Date('2027-06-01T00:00:00Z');
  const records = [
    recordOf({ ...base, metadata: { name: 'b' }, spec: { ...base.spec, project: { ...base.spec.project, id: 'SDE-2026-0100' } } }, 'uid-b'),
    recordOf(withAccess(base, { extensions: [extension('2028-06-30T00:00:00Z', 'Revisions, with "quotes", and commas')] }), UID),
    recordOf({ ...base, metadata: { name: 'elsewhere' }, spec: { ...base.spec, site: 'gstt' } }, 'uid-c'),
  ];

  it('lists this site\'s projects in project order, with the end in force', () => {
    const register = publishRegister(records, SITE, now);
    expect(register).toMatchObject({ site: 'uclh', displayName: SITE.displayName, generatedAt: '2027-06-01T00:00:00.000Z' });
    expect(register.projects.map((p) => p.projectId)).toEqual(['SDE-2026-0042', 'SDE-2026-0100']);
    expect(register.projects[0]).toMatchObject({ expiresAt: '2027-12-31T23:59:59Z', endsAt: '2028-06-30T00:00:00.000Z', status: 'active', closedAt: null, datasets: base.spec.data.map((d) => d.name) });
  });

  it('as RFC 4180 CSV: a header, one row per project, quoted cells where needed', () => {
    const lines = registerCsv(publishRegister(records, SITE, now).projects).trimEnd().split('\r\n');
    expect(lines[0]).toBe('projectId,title,organisation,purpose,approvedBy,site,datasets,validFrom,expiresAt,endsAt,extensions,withdrawnExtensions,status,closedAt');
    expect(lines).toHaveLength(3);
    expect(lines[1]).toMatch(/^SDE-2026-0042,Deep learning for cardiac MRI outcome prediction,UCL Institute of Cardiovascular Science,"Train and validate/);
    expect(lines[1]).toContain(`,${base.spec.data.map((d) => d.name).join('; ')},2026-01-01T00:00:00Z,2027-12-31T23:59:59Z,2028-06-30T00:00:00.000Z,"until 2028-06-30T00:00:00Z approved by UCLH Data Access Committee: Revisions, with ""quotes"", and commas",,active,`);
  });

  it('as CSV, never as a formula a spreadsheet would run', () => {
    const hostile = recordOf({ ...base, spec: { ...base.spec, project: { ...base.spec.project, title: '=HYPERLINK("http://evil.example","x")', organisation: '+1', purpose: '@SUM(A1)' } } }, UID);
    const row = registerCsv(publishRegister([hostile], SITE, now).projects).split('\r\n')[1] ?? '';
    expect(row).toContain(`"'=HYPERLINK(""http://evil.example"",""x"")",'+1,`);
    expect(row).toContain(`,'@SUM(A1),`);
  });

  it('as HTML: a captioned table with column and row headers, the language declared, every spec text escaped, no script', () => {
    const hostile = recordOf({ ...base, spec: { ...base.spec, project: { ...base.spec.project, title: '<script>alert(1)</script> & "more"' } } }, UID);
    const html = registerHtml(publishRegister([hostile, records[0] as RegisterRecord], SITE, now));
    expect(html).toMatch(/^<!DOCTYPE html>\n<html lang="en-GB">/);
    expect(html).toContain('<caption>Projects approved at University College London Hospitals NHS Foundation Trust, as of <time datetime="2027-06-01T00:00:00.000Z">1 June 2027 at 00:00</time> UTC (2 projects)</caption>');
    expect(html).toContain('<th scope="col">Project</th>');
    expect(html).toContain('<th scope="row">SDE-2026-0042</th>');
    expect(html).toContain('&lt;script&gt;alert(1)&lt;/script&gt; &amp; &quot;more&quot;');
    expect(html).not.toMatch(/<script/i);
    expect(html).toContain('From <time datetime="2026-01-01T00:00:00Z">1 January 2026</time> to <time datetime="2027-12-31T23:59:59.000Z">31 December 2027</time>');
  });

  it('as HTML for a site with no project yet: the table says so', () => {
    expect(registerHtml(publishRegister([], SITE, now))).toContain('<td colspan="9">No project has been approved at this site yet.</td>');
  });
});

describe('member identities', () => {
  // Identities shaped as a site's users and groups are, none of which can occur in the project text by chance.
  const user = fc.stringMatching(/^[a-z]{3,8}\.[a-z]{3,10}@(ucl\.ac\.uk|uclh\.nhs\.uk|kcl\.ac\.uk)$/);
  const group = fc.stringMatching(/^team-[a-z0-9]{6,12}$/);
  const member = fc.oneof(user.map((u) => ({ user: u })), group.map((g) => ({ group: g })));
  const role = fc.constantFrom('researcher', 'lead', 'data-manager', 'output-checker');

  it('never appear in the record, its ConfigMap, the JSON, the CSV or the HTML', () => {
    fc.assert(
      fc.property(fc.array(fc.tuple(member, role), { minLength: 1, maxLength: 12 }), fc.boolean(), (members, closed) => {
        const spec = { ...base.spec, members: members.map(([m, r]) => ({ ...m, role: r })) };
        const record = recordOf(enclave.parse({ ...base, spec }), UID);
        const stored = closed ? closedRecord(record, new Date('2027-02-01T00:00:00Z')) : record;
        const register = publishRegister([stored], SITE, new Date('2027-06-01T00:00:00Z'));
        const everything = [JSON.stringify(recordConfigMap(stored, 'sde-system')), JSON.stringify(register), registerCsv(register.projects), registerHtml(register)].join('\n');
        for (const [m] of members) expect(everything).not.toContain('user' in m ? m.user : m.group);
      }),
      { numRuns: 200 },
    );
  });
});
