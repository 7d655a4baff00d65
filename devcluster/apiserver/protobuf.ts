// kubectl's typed commands (`kubectl create namespace|configmap|secret|serviceaccount|role|
// clusterrole|rolebinding|clusterrolebinding|quota`, `kubectl auth can-i`) send Kubernetes
// protobuf. This decodes exactly those kinds (metadata name/namespace/labels/annotations/
// finalizers and their own fields) into JSON objects; anything else is refused with 415 and a hint
// to use `kubectl apply`.
import { ApiError } from '../store/errors.ts';

type Field = { no: number; wire: number; value: bigint | Buffer };

const MAGIC = Buffer.from([0x6b, 0x38, 0x73, 0x00]);

function readVarint(buf: Buffer, at: number): [bigint, number] {
  let result = 0n;
  let shift = 0n;
  let pos = at;
  for (;;) {
    const byte = buf[pos];
    if (byte === undefined) throw unsupported('truncated varint');
    pos += 1;
    result |= BigInt(byte & 0x7f) << shift;
    if ((byte & 0x80) === 0) return [result, pos];
    shift += 7n;
  }
}

function fields(buf: Buffer): Field[] {
  const out: Field[] = [];
  let pos = 0;
  while (pos < buf.length) {
    const [key, afterKey] = readVarint(buf, pos);
    const no = Number(key >> 3n);
    const wire = Number(key & 7n);
    pos = afterKey;
    if (wire === 0) {
      const [v, next] = readVarint(buf, pos);
      out.push({ no, wire, value: v });
      pos = next;
    } else if (wire === 2) {
      const [len, next] = readVarint(buf, pos);
      const end = next + Number(len);
      out.push({ no, wire, value: buf.subarray(next, end) });
      pos = end;
    } else if (wire === 1) {
      pos += 8;
    } else if (wire === 5) {
      pos += 4;
    } else {
      throw unsupported(`wire type ${wire}`);
    }
  }
  return out;
}

function unsupported(why: string): ApiError {
  return new ApiError(
    415,
    'UnsupportedMediaType',
    `the devcluster decodes protobuf only for Namespace, ConfigMap, Secret, ServiceAccount, RBAC kinds, ResourceQuota and access reviews (${why}); use JSON, e.g. \`kubectl create ... --dry-run=client -o yaml | kubectl apply -f -\``,
  );
}

function text(f: Field | undefined): string | undefined {
  return f && Buffer.isBuffer(f.value) ? f.value.toString('utf8') : undefined;
}

function bytes(f: Field): Buffer {
  return Buffer.isBuffer(f.value) ? f.value : Buffer.alloc(0);
}

function mapEntries(list: Field[], no: number, asBase64 = false): Record<string, string> | undefined {
  const entries = list.filter((f) => f.no === no);
  if (entries.length === 0) return undefined;
  const out: Record<string, string> = {};
  for (const e of entries) {
    const kv = fields(bytes(e));
    const key = text(kv.find((f) => f.no === 1)) ?? '';
    const valueField = kv.find((f) => f.no === 2);
    out[key] = asBase64 ? (valueField ? bytes(valueField).toString('base64') : '') : (text(valueField) ?? '');
  }
  return out;
}

function objectMeta(buf: Buffer): Record<string, unknown> {
  const f = fields(buf);
  const meta: Record<string, unknown> = {};
  const set = (key: string, v: unknown): void => {
    if (v !== undefined) meta[key] = v;
  };
  set('name', text(f.find((x) => x.no === 1)));
  set('generateName', text(f.find((x) => x.no === 2)));
  set('namespace', text(f.find((x) => x.no === 3)));
  set('labels', mapEntries(f, 11));
  set('annotations', mapEntries(f, 12));
  const finalizers = f.filter((x) => x.no === 14).map((x) => text(x) ?? '');
  if (finalizers.length > 0) meta.finalizers = finalizers;
  return meta;
}

function strings(list: Field[], names: Record<number, string>): Record<string, string> {
  const out: Record<string, string> = {};
  for (const f of list) {
    const name = names[f.no];
    const value = text(f) ?? '';
    if (name !== undefined && value !== '') out[name] = value;
  }
  return out;
}

function policyRule(rule: Field[]): Record<string, string[]> {
  const out: Record<string, string[]> = {};
  const names: Record<number, string> = { 1: 'verbs', 2: 'apiGroups', 3: 'resources', 4: 'resourceNames', 5: 'nonResourceURLs' };
  for (const f of rule) {
    const name = names[f.no];
    if (name !== undefined) (out[name] ??= []).push(text(f) ?? '');
  }
  return out;
}

function reviewSpec(spec: Field[]): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  const resource = spec.find((f) => f.no === 1);
  if (resource) {
    out.resourceAttributes = strings(fields(bytes(resource)), { 1: 'namespace', 2: 'verb', 3: 'group', 4: 'version', 5: 'resource', 6: 'subresource', 7: 'name' });
  }
  const nonResource = spec.find((f) => f.no === 2);
  if (nonResource) out.nonResourceAttributes = strings(fields(bytes(nonResource)), { 1: 'path', 2: 'verb' });
  const user = text(spec.find((f) => f.no === 3));
  if (user) out.user = user;
  const groups = spec.filter((f) => f.no === 4).map((f) => text(f) ?? '');
  if (groups.length > 0) out.groups = groups;
  return out;
}

/** True when a body is Kubernetes protobuf (by content type). */
export function isProtobuf(contentType: string | undefined): boolean {
  return (contentType ?? '').toLowerCase().includes('application/vnd.kubernetes.protobuf');
}

/** Decodes the protobuf of the kinds kubectl's typed commands create (see above); throws 415 otherwise. */
export function decodeProtobufObject(body: Buffer): Record<string, unknown> {
  if (body.length < 4 || !body.subarray(0, 4).equals(MAGIC)) throw unsupported('missing the k8s protobuf envelope');
  const envelope = fields(body.subarray(4));
  const typeMeta = fields(bytes(envelope.find((f) => f.no === 1) ?? { no: 1, wire: 2, value: Buffer.alloc(0) }));
  const apiVersion = text(typeMeta.find((f) => f.no === 1)) ?? '';
  const kind = text(typeMeta.find((f) => f.no === 2)) ?? '';
  const raw = fields(bytes(envelope.find((f) => f.no === 2) ?? { no: 2, wire: 2, value: Buffer.alloc(0) }));
  const metaField = raw.find((f) => f.no === 1);
  const obj: Record<string, unknown> = { apiVersion, kind, metadata: metaField ? objectMeta(bytes(metaField)) : {} };
  const flag = (no: number): boolean | undefined => {
    const f = raw.find((x) => x.no === no);
    return f === undefined ? undefined : f.value === 1n;
  };
  switch (`${apiVersion}/${kind}`) {
    case 'v1/Namespace':
    case 'v1/ServiceAccount':
      return obj;
    case 'v1/ConfigMap': {
      const data = mapEntries(raw, 2);
      const binaryData = mapEntries(raw, 3, true);
      if (data) obj.data = data;
      if (binaryData) obj.binaryData = binaryData;
      if (flag(4) !== undefined) obj.immutable = flag(4);
      return obj;
    }
    case 'v1/Secret': {
      const data = mapEntries(raw, 2, true);
      if (data) obj.data = data;
      const type = text(raw.find((f) => f.no === 3));
      if (type) obj.type = type;
      const stringData = mapEntries(raw, 4);
      if (stringData) obj.stringData = stringData;
      if (flag(5) !== undefined) obj.immutable = flag(5);
      return obj;
    }
    case 'rbac.authorization.k8s.io/v1/Role':
    case 'rbac.authorization.k8s.io/v1/ClusterRole':
      obj.rules = raw.filter((f) => f.no === 2).map((f) => policyRule(fields(bytes(f))));
      return obj;
    case 'rbac.authorization.k8s.io/v1/RoleBinding':
    case 'rbac.authorization.k8s.io/v1/ClusterRoleBinding': {
      const subjects = raw.filter((f) => f.no === 2).map((f) => strings(fields(bytes(f)), { 1: 'kind', 2: 'apiGroup', 3: 'name', 4: 'namespace' }));
      if (subjects.length > 0) obj.subjects = subjects;
      const roleRef = raw.find((f) => f.no === 3);
      obj.roleRef = roleRef ? strings(fields(bytes(roleRef)), { 1: 'apiGroup', 2: 'kind', 3: 'name' }) : {};
      return obj;
    }
    case 'v1/ResourceQuota': {
      const spec = raw.find((f) => f.no === 2);
      const hard: Record<string, string> = {};
      for (const entry of spec ? fields(bytes(spec)).filter((f) => f.no === 1) : []) {
        const kv = fields(bytes(entry));
        const quantity = kv.find((f) => f.no === 2);
        hard[text(kv.find((f) => f.no === 1)) ?? ''] = quantity ? (text(fields(bytes(quantity)).find((f) => f.no === 1)) ?? '0') : '0';
      }
      obj.spec = { hard };
      return obj;
    }
    case 'authorization.k8s.io/v1/SelfSubjectAccessReview':
    case 'authorization.k8s.io/v1/SubjectAccessReview': {
      const specField = raw.find((f) => f.no === 2);
      obj.spec = specField ? reviewSpec(fields(bytes(specField))) : {};
      return obj;
    }
    default:
      throw unsupported(`found ${apiVersion} ${kind}`);
  }
}
