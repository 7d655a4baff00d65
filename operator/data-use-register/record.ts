// One enclave's entry in the data use register (Five Safes "safe projects") as the cluster keeps
// it: what the data access committee approved, which datasets, for how long, every extension ever
// recorded, and when the enclave was removed. It holds no member, by construction.
import { z } from 'zod';
import type { Enclave } from '../../api/enclave.ts';

const extension = z.object({ until: z.string(), justification: z.string(), approvedBy: z.string() });

/** The persisted record of one enclave's project; records are read back through it, so one edited out of shape is not published. */
export const registerRecord = z.object({
  enclave: z.object({ name: z.string(), uid: z.string() }),
  site: z.string(),
  project: z.object({ id: z.string(), title: z.string(), organisation: z.string(), purpose: z.string(), approvedBy: z.string() }),
  datasets: z.array(z.string()),
  access: z.object({
    validFrom: z.string().nullable(),
    expiresAt: z.string(),
    extensions: z.array(extension),
    // Extensions an earlier record listed that the spec no longer has: the register never forgets one.
    withdrawnExtensions: z.array(extension),
  }),
  closedAt: z.string().nullable(),
});

export type RegisterRecord = z.output<typeof registerRecord>;
export type RecordedExtension = RegisterRecord['access']['extensions'][number];

const sameExtension = (a: RecordedExtension, b: RecordedExtension): boolean => a.until === b.until && a.justification === b.justification && a.approvedBy === b.approvedBy;

/**
 * The record of `enclave` (whose uid is `uid`) as its spec stands: project, dataset names and access period. Every
 * extension `previous` (this enclave's earlier record) held that the spec no longer has is kept
 * as withdrawn: those withdrawn before keep their place, newly withdrawn ones follow. Deterministic:
 * same inputs, same record, key order included.
 */
export function recordOf(enclave: Enclave, uid: string, previous?: RegisterRecord): RegisterRecord {
  const { project, access } = enclave.spec;
  const extensions = access.extensions.map((x) => ({ until: x.until, justification: x.justification, approvedBy: x.approvedBy }));
  const earlier = previous ? [...previous.access.withdrawnExtensions, ...previous.access.extensions] : [];
  const withdrawnExtensions = earlier.filter((x, i) => !extensions.some((y) => sameExtension(x, y)) && earlier.findIndex((y) => sameExtension(x, y)) === i);
  return {
    enclave: { name: enclave.metadata.name, uid },
    site: enclave.spec.site,
    project: { id: project.id, title: project.title, organisation: project.organisation, purpose: project.purpose, approvedBy: project.approvedBy },
    datasets: enclave.spec.data.map((d) => d.name),
    access: { validFrom: access.validFrom ?? null, expiresAt: access.expiresAt, extensions, withdrawnExtensions },
    closedAt: null,
  };
}

/** `record` marked closed at `at`, its enclave deleted; a record already closed keeps its first time. */
export function closedRecord(record: RegisterRecord, at: Date): RegisterRecord {
  return record.closedAt !== null ? record : { ...record, closedAt: at.toISOString() };
}

/** The end of access the record grants: the latest of its expiresAt and its extensions in force. */
export function recordedEnd(record: RegisterRecord): string {
  const ends = [record.access.expiresAt, ...record.access.extensions.map((x) => x.until)];
  return new Date(Math.max(...ends.map((t) => Date.parse(t)))).toISOString();
}
