// Where the register lives in the cluster: one ConfigMap per enclave in the operator's own
// namespace, with no owner reference, so it outlives its enclave and survives any restart. One
// per enclave keeps each far below a ConfigMap's 1 MiB (a record is at most about 230 KB: 100
// extensions of 2,000-character justifications).
import type { KubernetesObject } from '@kubernetes/client-node';
import { COMPONENT, MANAGED_BY, MANAGER, PART_OF, PRODUCT, PROJECT, SITE } from '../../api/labels.ts';
import { selectorString } from '../../api/selectors.ts';
import { Kinds } from '../runtime/index.ts';
import type { WatchedType } from '../runtime/index.ts';
import { registerRecord, type RegisterRecord } from './record.ts';

/** `app.kubernetes.io/component` of every register record. */
export const REGISTER_COMPONENT = 'data-use-register';
/**
 * The name of the enclave a record is about. Not `sde.london/enclave`: pruning selects an
 * enclave's children by that label, and a record is never the enclave's to delete.
 */
export const REGISTERED_ENCLAVE = 'sde.london/registered-enclave';
/** The ConfigMap key holding the record as JSON. */
export const RECORD_KEY = 'record.json';

type ConfigMap = KubernetesObject & { data?: Record<string, string> };

/** The register's ConfigMaps of `site` in `namespace`, as the operator watches them: one namespace, so a Role there suffices. */
export function registerRecordType(namespace: string, site: string): WatchedType {
  return Object.freeze({ ...Kinds.ConfigMap, namespace, labelSelector: selectorString({ [MANAGED_BY]: MANAGER, [COMPONENT]: REGISTER_COMPONENT, [SITE]: site }) });
}

/**
 * The name of an enclave's record: its name and the start of its uid, so an enclave deleted and
 * created again under the same name (perhaps for another project) starts a record of its own.
 */
export function recordName(enclave: string, uid: string): string {
  return `register-${enclave}-${uid.replaceAll('-', '').slice(0, 8)}`;
}

/** The ConfigMap holding `record` in `namespace`; the same record always gives the same object. */
export function recordConfigMap(record: RegisterRecord, namespace: string): ConfigMap {
  return {
    apiVersion: 'v1',
    kind: 'ConfigMap',
    metadata: {
      name: recordName(record.enclave.name, record.enclave.uid),
      namespace,
      labels: {
        [MANAGED_BY]: MANAGER,
        [PART_OF]: PRODUCT,
        [COMPONENT]: REGISTER_COMPONENT,
        [SITE]: record.site,
        [PROJECT]: record.project.id,
        [REGISTERED_ENCLAVE]: record.enclave.name,
      },
    },
    data: { [RECORD_KEY]: `${JSON.stringify(record, null, 2)}\n` },
  };
}

// Records read from frozen cached ConfigMaps, parsed once per version.
const parsed = new WeakMap<object, RegisterRecord | undefined>();

/** The record a ConfigMap holds, or undefined when it holds none that fits {@link registerRecord}. */
export function recordFromConfigMap(configMap: Readonly<KubernetesObject>): RegisterRecord | undefined {
  if (parsed.has(configMap)) return parsed.get(configMap);
  let record: RegisterRecord | undefined;
  try {
    const result = registerRecord.safeParse(JSON.parse((configMap as ConfigMap).data?.[RECORD_KEY] ?? ''));
    record = result.success ? result.data : undefined;
  } catch {
    record = undefined;
  }
  if (Object.isFrozen(configMap)) parsed.set(configMap, record);
  return record;
}
