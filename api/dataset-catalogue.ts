// The site's dataset catalogue: every dataset an enclave at the site may name, with its kind, zone
// and source. Zone and source are the site's alone: an enclave names entries and may only narrow
// them, so "raw data is never mounted" rests on the trust's configuration, not on a label the
// enclave writes about itself.
import { z } from 'zod';
import type { EnclaveSpec } from './enclave.ts';
import { dnsLabel, quantity, secretRef, unique } from './meta.ts';

const DATA_ZONES = ['raw', 'standardised', 'curated', 'scratch'] as const;
/** Kinds a site data service provides, reached over the network rather than mounted. */
export const SERVICE_KINDS = ['database', 'imaging', 'search'] as const;

type ServiceKind = (typeof SERVICE_KINDS)[number];

const name = dnsLabel
  .refine((n) => !n.endsWith('-home'), {
    error: (issue) => `expected a name not ending in "-home": its claim data-${String(issue.input)} would be workspace data-${String(issue.input).slice(0, -5)}'s home claim`,
  })
  .describe('Dataset name enclaves name in spec.data; mounted at /data/<name> in workspaces and jobs.');

const zone = z
  .enum(DATA_ZONES)
  .refine((value) => value !== 'raw', { message: 'raw-zone data is never mounted in an enclave; catalogue its standardised or curated extract instead' })
  .describe('Data lake zone: standardised or curated data, or scratch space enclaves may write. Raw-zone data is never catalogued.');

const volumeSource = z
  .strictObject({
    persistentVolume: dnsLabel.optional().describe('Name of an existing PersistentVolume holding the dataset (one enclave binds it).'),
    nfs: z
      .strictObject({
        server: z.string().min(1).max(253).describe('NFS server host name or address.'),
        path: z.string().min(1).max(4096).regex(/^\//, { message: 'must be an absolute path' }).describe('Exported path.'),
      })
      .optional()
      .describe('An NFS export holding the dataset.'),
    csi: z
      .strictObject({
        driver: z.string().min(1).max(253).describe('CSI driver name.'),
        volumeHandle: z.string().min(1).max(1024).describe('Volume handle the driver understands.'),
        volumeAttributes: z.record(z.string(), z.string()).optional().describe('Driver-specific attributes.'),
      })
      .optional()
      .describe('A CSI volume holding the dataset.'),
  })
  .refine((s) => [s.persistentVolume, s.nfs, s.csi].filter((v) => v !== undefined).length === 1, {
    message: 'a volume dataset needs exactly one of persistentVolume, nfs or csi',
  })
  .describe('Where the volume lives: exactly one of persistentVolume, nfs or csi.');

const volumeDataset = z
  .strictObject({
    name,
    kind: z.literal('volume').describe('Files in the data lake (a zone\'s extract, an imaging export), mounted at /data/<name>.'),
    zone,
    source: volumeSource,
    size: quantity('Size of each enclave\'s claim on the volume; counted against the enclave\'s storage quota.'),
    readOnly: z
      .boolean()
      .default(true)
      .describe('Mounted read-only (the default). Only a scratch-zone volume may be writable; an enclave may still narrow it to read-only.'),
  })
  .refine((d) => d.readOnly || d.zone === 'scratch', {
    message: 'only a scratch-zone volume may be writable; curated and standardised data are always read-only',
    path: ['readOnly'],
  });

const serviceDataset = z.strictObject({
  name,
  kind: z.enum(SERVICE_KINDS).describe('database: OMOP CDM; imaging: XNAT/DICOM; search: CogStack/Elasticsearch: reached through a site data service.'),
  zone,
  source: z
    .strictObject({
      dataService: dnsLabel.describe('Name of an entry in the site\'s dataServices of the same kind.'),
      secretRef: secretRef
        .optional()
        .describe('The Secret (and optionally one key of it) holding this dataset\'s credentials, which every enclave namespace that names the dataset holds under this name; its contents are never copied.'),
    })
    .describe('The data service that holds the dataset, and its credentials.'),
});

/** One catalogue entry: a volume the site mounts, or a dataset held by one of its data services. */
const catalogueDataset = z
  .discriminatedUnion('kind', [volumeDataset, serviceDataset])
  .describe('A dataset enclaves at this site may be approved for: Five Safes "safe data".');

/** The catalogue: names are unique. */
export const datasetCatalogue = z
  .array(catalogueDataset)
  .superRefine(unique((d) => d.name))
  .default([])
  .describe('Every dataset enclaves at this site may name; zone, kind and source come from here, never from an enclave.');

export type CatalogueDataset = z.output<typeof catalogueDataset>;
type VolumeDataset = z.output<typeof volumeDataset>;
type ServiceDataset = z.output<typeof serviceDataset>;

/** A dataset as an enclave gets it: the catalogue's entry, read-only unless both the catalogue and the enclave let it be written. */
export type EnclaveDataset = VolumeDataset | (ServiceDataset & { readOnly: true });

interface Catalogued {
  datasets: readonly CatalogueDataset[];
  dataServices: readonly { name: string; kind: ServiceKind }[];
}

/**
 * The enclave's datasets that the site catalogues, in the enclave's order, each the catalogue's
 * entry narrowed by the enclave: read-only when either says so. Names the catalogue lacks are left
 * out (the site rules report them), so nothing the enclave writes can widen what it mounts.
 */
export function enclaveDatasets(spec: Pick<EnclaveSpec, 'data'>, site: Pick<Catalogued, 'datasets'>): EnclaveDataset[] {
  return spec.data.flatMap((ref): EnclaveDataset[] => {
    const entry = site.datasets.find((d) => d.name === ref.name);
    if (entry === undefined) return [];
    if (entry.kind !== 'volume') return [{ ...entry, readOnly: true as const }];
    return [{ ...entry, readOnly: entry.readOnly || ref.readOnly === true }];
  });
}

/**
 * Refuses a catalogue entry whose data service the site does not have or is of another kind,
 * naming `datasets[i].source.dataService`. Run where the whole site configuration is in hand.
 */
export function checkCatalogueServices(site: Catalogued, ctx: z.RefinementCtx): void {
  site.datasets.forEach((d, i) => {
    if (d.kind === 'volume') return;
    const path = ['datasets', i, 'source', 'dataService'];
    const service = site.dataServices.find((s) => s.name === d.source.dataService);
    if (service === undefined) {
      const known = site.dataServices.map((s) => s.name).join(', ') || 'none';
      ctx.addIssue({ code: 'custom', path, message: `expected one of the site's dataServices (${known}); found "${d.source.dataService}"` });
    } else if (service.kind !== d.kind) {
      ctx.addIssue({ code: 'custom', path, message: `expected a ${d.kind} service for a ${d.kind} dataset; found "${d.source.dataService}", a ${service.kind} service` });
    }
  });
}
