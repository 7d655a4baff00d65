// The site's dataset catalogue: what a SiteConfig may offer enclaves (never raw data, writable
// only scratch, each data service one the site has, of the dataset's kind), and how an enclave's
// names resolve against it: zone, kind and source from the site, read-only only ever narrowed.
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { enclaveDatasets } from '../../api/dataset-catalogue.ts';
import { problemsFromIssues } from '../../api/problems.ts';
import { siteConfig } from '../../api/siteconfig.ts';
import type { SiteConfig } from '../../api/siteconfig.ts';

type Doc = Record<string, unknown>;
const uclh = parse(readFileSync(new URL('../../examples/site-uclh.yaml', import.meta.url), 'utf8')) as Doc & { datasets: Doc[] };

// UCLH's site with its catalogue replaced.
function withCatalogue(datasets: unknown[]): Doc {
  return { ...uclh, datasets };
}

function refusals(doc: Doc): string[] {
  const result = siteConfig.safeParse(doc);
  return result.success ? [] : problemsFromIssues(result.error.issues, { source: 'site', index: 1 }).map((p) => `${p.path}: ${p.message}`);
}

const curated = { name: 'cardiac-mri-curated', kind: 'volume', zone: 'curated', source: { nfs: { server: 'datalake.sde.uclh.nhs.uk', path: '/curated/cardiac-mri' } }, size: '2Ti' };
const omop = { name: 'omop', kind: 'database', zone: 'curated', source: { dataService: 'omop-cdm', secretRef: { name: 'omop-readonly' } } };

describe('the dataset catalogue of a SiteConfig', () => {
  it('holds UCLH\'s five datasets, read-only but for scratch', () => {
    const site = siteConfig.parse(uclh);
    expect(site.datasets.map((d) => `${d.name} ${d.kind} ${d.zone} ${d.kind === 'volume' ? d.readOnly : 'service'}`)).toEqual([
      'cardiac-mri-curated volume curated true',
      'omop database curated service',
      'xnat imaging curated service',
      'hes-standardised volume standardised true',
      'scratch volume scratch false',
    ]);
  });

  // Hostile: "raw data is never mounted" is the site's to keep, so the site cannot offer it.
  it.each([
    ['a raw-zone volume', [{ ...curated, name: 'epr-dump', zone: 'raw', source: { nfs: { server: 'datalake.sde.uclh.nhs.uk', path: '/raw/epr-dump' } } }], 'datasets[0].zone: raw-zone data is never mounted in an enclave; catalogue its standardised or curated extract instead'],
    ['a raw-zone database', [{ ...omop, zone: 'raw' }], 'datasets[0].zone: raw-zone data is never mounted'],
    ['a writable curated volume', [{ ...curated, readOnly: false }], 'datasets[0].readOnly: only a scratch-zone volume may be writable; curated and standardised data are always read-only'],
    ['a writable standardised volume', [{ ...curated, zone: 'standardised', readOnly: false }], 'datasets[0].readOnly: only a scratch-zone volume may be writable'],
    ['a writable database', [{ ...omop, readOnly: false }], 'datasets[0]: unknown field(s) "readOnly"'],
    ['a volume with two sources', [{ ...curated, source: { ...curated.source, persistentVolume: 'cardiac-pv' } }], 'datasets[0].source: a volume dataset needs exactly one of persistentVolume, nfs or csi'],
    ['a volume with no source', [{ ...curated, source: {} }], 'datasets[0].source: a volume dataset needs exactly one of persistentVolume, nfs or csi'],
    ['a volume without a size', [{ ...curated, size: undefined }], 'datasets[0].size: Required value'],
    ['an NFS path that is not absolute', [{ ...curated, source: { nfs: { server: 'datalake', path: 'curated' } } }], 'datasets[0].source.nfs.path: must be an absolute path'],
    ['a database held on NFS', [{ ...omop, source: { nfs: { server: 'x', path: '/y' } } }], 'datasets[0].source.dataService: Required value'],
    ['a data service the site does not have', [{ ...omop, source: { dataService: 'omop-v2' } }], 'datasets[0].source.dataService: expected one of the site\'s dataServices (omop-cdm, xnat, cogstack); found "omop-v2"'],
    ['a data service of another kind', [{ ...omop, source: { dataService: 'cogstack' } }], 'datasets[0].source.dataService: expected a database service for a database dataset; found "cogstack", a search service'],
    ['a kind it does not know', [{ ...curated, kind: 'spreadsheet' }], 'datasets[0].kind: Invalid discriminator value'],
    ['a misspelt field', [{ ...curated, readonly: true }], 'datasets[0]: unknown field(s) "readonly"'],
    ['a name twice', [curated, { ...omop, name: curated.name }], 'datasets[1]: Duplicate value: "cardiac-mri-curated"'],
    ['a name whose claim would be a workspace\'s home claim', [{ ...curated, name: 'notes-home' }], 'datasets[0].name: expected a name not ending in "-home": its claim data-notes-home would be workspace data-notes\'s home claim'],
  ])('refuses %s, naming the field', (_what, datasets, message) => {
    expect(refusals(withCatalogue(datasets)).join('\n')).toContain(message);
  });

  it('accepts a writable scratch volume on an existing PersistentVolume, and a data service credential named by key', () => {
    expect(refusals(withCatalogue([
      { name: 'scratch', kind: 'volume', zone: 'scratch', readOnly: false, source: { persistentVolume: 'scratch-pv' }, size: '1Ti' },
      { ...omop, source: { dataService: 'omop-cdm', secretRef: { name: 'omop-readonly', key: 'password' } } },
    ]))).toEqual([]);
  });
});

describe('an enclave\'s datasets resolved against the catalogue', () => {
  const site: SiteConfig = siteConfig.parse(uclh);

  it('takes kind, zone, source and credentials from the catalogue, in the enclave\'s order', () => {
    const resolved = enclaveDatasets({ data: [{ name: 'omop' }, { name: 'cardiac-mri-curated' }] }, site);
    expect(resolved).toEqual([
      { name: 'omop', kind: 'database', zone: 'curated', source: { dataService: 'omop-cdm', secretRef: { name: 'omop-readonly' } }, readOnly: true },
      { name: 'cardiac-mri-curated', kind: 'volume', zone: 'curated', source: { nfs: { server: 'datalake.sde.uclh.nhs.uk', path: '/curated/cardiac-mri' } }, size: '2Ti', readOnly: true },
    ]);
  });

  it.each([
    ['scratch as the catalogue has it', { name: 'scratch' }, false],
    ['scratch asked writable', { name: 'scratch', readOnly: false }, false],
    ['scratch narrowed to read-only', { name: 'scratch', readOnly: true }, true],
    // Hostile: an enclave cannot widen what the catalogue keeps read-only.
    ['a curated volume asked writable', { name: 'cardiac-mri-curated', readOnly: false }, true],
    ['a standardised volume asked writable', { name: 'hes-standardised', readOnly: false }, true],
    ['a database asked writable', { name: 'omop', readOnly: false }, true],
  ])('%s is read-only: %s', (_what, ref, readOnly) => {
    expect(enclaveDatasets({ data: [ref] }, site).map((d) => d.readOnly)).toEqual([readOnly]);
  });

  // Hostile: an enclave object carrying a zone and source of its own (as specs did before the
  // catalogue, or built around the schema) gets the catalogue's, and a name the site lacks gets nothing.
  it('ignores anything an enclave says about a dataset but its name and readOnly, and leaves out names the catalogue lacks', () => {
    const data = [
      { name: 'cardiac-mri-curated', zone: 'scratch', kind: 'volume', source: { nfs: { server: 'datalake.sde.uclh.nhs.uk', path: '/raw/epr-dump' } }, size: '1Ei' },
      { name: 'epr-dump', zone: 'curated', source: { nfs: { server: 'datalake.sde.uclh.nhs.uk', path: '/raw/epr-dump' } } },
    ];
    const resolved = enclaveDatasets({ data }, site);
    expect(resolved).toEqual([site.datasets[0]]);
    expect(JSON.stringify(resolved)).not.toContain('/raw/');
  });
});
