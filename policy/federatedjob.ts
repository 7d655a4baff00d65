// Site rules for a FederatedJob: its aggregator, images, datasets and GPUs.
import { enclaveDatasets } from '../api/dataset-catalogue.ts';
import type { Enclave } from '../api/enclave.ts';
import type { FederatedJob } from '../api/federatedjob.ts';
import type { SiteConfig } from '../api/siteconfig.ts';
import { checkDatasets, checkGpus, checkImage, checkNamespace } from './common.ts';
import type { Finding } from './findings.ts';
import { enclaveImageRule } from './images.ts';

/**
 * The only Secret a federated job mounts is the federation kit the site declares for its
 * aggregator: its participant runs the researcher's own command, and whatever it mounts can be
 * read back through the logs members hold (`pods/log`).
 */
function checkFederationKit(job: FederatedJob, site: SiteConfig): Finding[] {
  const named = job.spec.aggregator.caSecretRef?.name;
  if (named === undefined) return [];
  const aggregator = site.aggregators.find((a) => a.name === job.spec.aggregator.endpoint);
  if (aggregator === undefined || aggregator.kitSecret === named) return [];
  const declared = aggregator.kitSecret === undefined ? `none for aggregator ${aggregator.name}` : `"${aggregator.kitSecret}" for aggregator ${aggregator.name}`;
  return [{ field: 'spec.aggregator.caSecretRef.name', reason: 'SecretNotDeclared', message: `expected the federation kit site ${site.site} declares (${declared}); found "${named}"` }];
}

/**
 * Checks a federated job against its enclave and site: in the enclave's namespace; the
 * aggregator endpoint is one the site names, and the only Secret it mounts is that aggregator's
 * federation kit; participant (and aggregator) images allowed by
 * the site and narrowed by the enclave, as a workspace's are;
 * datasets among the enclave's catalogued ones and, by the catalogue's kind, volumes only
 * (participants reach nothing but the aggregator); GPUs within the enclave's and of a product the pool has.
 */
export function checkFederatedJob(job: FederatedJob, enclave: Enclave, site: SiteConfig): Finding[] {
  const out: Finding[] = [...checkNamespace(job.metadata.namespace, enclave)];
  const endpoint = job.spec.aggregator.endpoint;
  if (!site.aggregators.some((a) => a.name === endpoint)) {
    const known = site.aggregators.map((a) => a.name).join(', ') || 'none';
    out.push({ field: 'spec.aggregator.endpoint', reason: 'UnknownAggregator', message: `expected an aggregator of site ${site.site} (${known}); found "${endpoint}"` });
  }
  out.push(...checkFederationKit(job, site));
  const prefixes = enclaveImageRule(enclave, site);
  out.push(...checkImage(job.spec.participant.image, 'spec.participant.image', prefixes));
  if (job.spec.aggregator.image !== undefined) out.push(...checkImage(job.spec.aggregator.image, 'spec.aggregator.image', prefixes));
  const datasets = job.spec.participant.datasets;
  out.push(...checkDatasets(datasets, 'spec.participant.datasets', enclave, site));
  const catalogued = enclaveDatasets(enclave.spec, site);
  datasets.forEach((name, i) => {
    const ds = catalogued.find((d) => d.name === name);
    if (ds !== undefined && ds.kind !== 'volume') {
      out.push({ field: `spec.participant.datasets[${i}]`, reason: 'DatasetUnreachable', message: `expected a volume dataset (participants' only egress is the aggregator); found "${name}", a ${ds.kind} dataset` });
    }
  });
  out.push(...checkGpus(job.spec.participant.resources, 'spec.participant.resources', enclave, site));
  return out;
}
