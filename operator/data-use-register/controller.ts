// The register controller: keeps every enclave of this site on record in the operator's
// namespace, from its first reconcile until long after the enclave is gone.
import type { KubernetesObject } from '@kubernetes/client-node';
import { enclave as enclaveSchema } from '../../api/enclave.ts';
import type { SiteConfig } from '../../api/siteconfig.ts';
import { SdeKinds } from '../kinds.ts';
import type { ControllerOptions, ReconcileContext, WatchedType } from '../runtime/index.ts';
import { checkSpec } from '../spec-check.ts';
import { recordConfigMap, recordFromConfigMap, REGISTERED_ENCLAVE, registerRecordType } from './configmap.ts';
import { closedRecord, recordOf } from './record.ts';

/** What the register controller needs: the site, the namespace its records live in, and a clock tests can move. */
export interface RegisterControllerOptions {
  site: SiteConfig;
  namespace: string;
  now?: () => Date;
}

/**
 * The register controller's options for a manager. For an enclave of this site whose spec passes
 * the schema, its record says what the spec says now; once the enclave is deleted (or another
 * enclave has taken its name) the record is closed, with the time, and kept. A record is never
 * deleted, and one that already says it all causes no request.
 */
export function registerController(options: RegisterControllerOptions): ControllerOptions {
  const records = registerRecordType(options.namespace, options.site.site);
  return {
    name: 'register',
    primary: SdeKinds.Enclave,
    // A record's change (or its loss) reconciles its enclave, deleted or not: the cache lists every
    // record at start, so an enclave deleted while no operator ran is closed all the same.
    watches: [{ type: records, mapToKeys: (record) => [record.metadata?.labels?.[REGISTERED_ENCLAVE]].filter((name): name is string => name !== undefined) }],
    reconcile: (_key, ctx) => reconcileRecords(ctx, options, records),
  };
}

async function reconcileRecords(ctx: ReconcileContext, options: RegisterControllerOptions, type: WatchedType): Promise<void> {
  const kept = ctx
    .cache(type)
    .list({ namespace: options.namespace, labels: { [REGISTERED_ENCLAVE]: ctx.name } })
    .map(recordFromConfigMap)
    .filter((record) => record !== undefined);
  const enclave = enclaveOnRecord(ctx.primary(), options.site.site);
  const uid = enclave?.metadata?.uid;
  const desired: KubernetesObject[] = [];
  if (enclave !== undefined && uid !== undefined) {
    // A spec the schema refuses leaves its record as last written: nothing in it can be trusted.
    const checked = checkSpec(enclaveSchema, enclave);
    if (checked.ok) desired.push(recordConfigMap(recordOf(checked.value, uid, kept.find((r) => r.enclave.uid === uid)), options.namespace));
  }
  const now = options.now?.() ?? new Date();
  for (const record of kept) {
    if (record.enclave.uid !== uid && record.closedAt === null) desired.push(recordConfigMap(closedRecord(record, now), options.namespace));
  }
  if (desired.length > 0) await ctx.apply(desired);
}

/** The enclave as the register sees it: present, not being deleted, and of this site; else undefined. */
function enclaveOnRecord(live: Readonly<KubernetesObject> | undefined, site: string): Readonly<KubernetesObject> | undefined {
  if (live === undefined || live.metadata?.deletionTimestamp) return undefined;
  return (live as { spec?: { site?: unknown } }).spec?.site === site ? live : undefined;
}
