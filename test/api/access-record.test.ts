// The access record is append-only and bounds access: table-driven over the rules of issue 17.
import { describe, expect, it } from 'vitest';
import { accessChangeProblems, appendToRecord, endInForce } from '../../api/access.ts';

const granted = { until: '2028-06-30T00:00:00Z', justification: 'Reviewer revisions', approvedBy: 'UCLH DAC' };
const access = (changes: Partial<{ validFrom: string; expiresAt: string; extensions: typeof granted[] }> = {}) => ({ validFrom: '2026-01-01T00:00:00Z', expiresAt: '2027-12-31T23:59:59Z', extensions: [], ...changes });
const at = new Date('2026-12-03T10:00:00.123Z');

describe('appendToRecord', () => {
  it('records the original approval on first sight, with who made it', () => {
    expect(appendToRecord(undefined, access(), { approvedBy: 'UCLH DAC', recordedBy: 'p.engineer@uclh.nhs.uk', at })).toEqual([
      { until: '2027-12-31T23:59:59Z', approvedBy: 'UCLH DAC', recordedBy: 'p.engineer@uclh.nhs.uk', recordedAt: '2026-12-03T10:00:00Z' },
    ]);
  });

  it('appends a new extension and returns the same record when nothing is new', () => {
    const first = appendToRecord(undefined, access(), { approvedBy: 'UCLH DAC', at });
    const second = appendToRecord(first, access({ extensions: [granted] }), { approvedBy: 'UCLH DAC', recordedBy: 'p.engineer@uclh.nhs.uk', at });
    expect(second.slice(1)).toEqual([{ ...granted, recordedBy: 'p.engineer@uclh.nhs.uk', recordedAt: '2026-12-03T10:00:00Z' }]);
    expect(appendToRecord(second, access({ extensions: [granted] }), { approvedBy: 'UCLH DAC', at })).toBe(second);
  });

  it('is never rebuilt from the spec: an extension the spec drops, or an expiresAt it rewrites, stays on record as it was', () => {
    const recorded = appendToRecord(appendToRecord(undefined, access(), { approvedBy: 'UCLH DAC', at }), access({ extensions: [granted] }), { approvedBy: 'UCLH DAC', at });
    const slipped = access({ expiresAt: '2029-01-01T00:00:00Z', extensions: [] });
    expect(appendToRecord(recorded, slipped, { approvedBy: 'UCLH DAC', at })).toBe(recorded);
  });
});

describe('endInForce', () => {
  const recorded = [{ until: '2027-12-31T23:59:59Z', approvedBy: 'UCLH DAC' }];
  it.each([
    ['the spec\'s end when nothing is recorded yet', access({ expiresAt: '2030-01-01T00:00:00Z' }), undefined, '2030-01-01T00:00:00.000Z'],
    ['the recorded end when the spec moved expiresAt ahead without an extension', access({ expiresAt: '2030-01-01T00:00:00Z' }), recorded, '2027-12-31T23:59:59.000Z'],
    ['the spec\'s end when it is shorter than the record\'s', access({ expiresAt: '2027-01-01T00:00:00Z' }), recorded, '2027-01-01T00:00:00.000Z'],
    ['a recorded extension\'s end', access({ extensions: [granted] }), [...recorded, granted], '2028-06-30T00:00:00.000Z'],
  ] as const)('%s', (_name, spec, record, expected) => {
    expect(endInForce(spec, record).toISOString()).toBe(expected);
  });
});

describe('accessChangeProblems', () => {
  it.each([
    ['an appended extension ending later', access(), access({ extensions: [granted] }), []],
    ['expiresAt moved 30 days ahead', access(), access({ expiresAt: '2028-01-30T23:59:59Z' }), ['spec.access.expiresAt']],
    ['validFrom moved', access(), access({ validFrom: '2025-01-01T00:00:00Z' }), ['spec.access.validFrom']],
    ['validFrom removed', access(), { ...access(), validFrom: undefined }, ['spec.access.validFrom']],
    ['an extension removed', access({ extensions: [granted] }), access(), ['spec.access.extensions[0]']],
    ['an extension edited', access({ extensions: [granted] }), access({ extensions: [{ ...granted, until: '2029-06-30T00:00:00Z' }] }), ['spec.access.extensions[0]']],
    ['an extension ending no later than the current end', access(), access({ extensions: [{ ...granted, until: '2027-06-30T00:00:00Z' }] }), ['spec.access.extensions[0].until']],
    ['the same date written differently', access(), access({ expiresAt: '2027-12-31T23:59:59.000Z' }), []],
  ] as const)('%s', (_name, before, after, fields) => {
    expect(accessChangeProblems(before as never, after as never).map((p) => p.field)).toEqual(fields);
  });

  it('says what was expected and what was found', () => {
    expect(accessChangeProblems(access(), access({ expiresAt: '2028-01-30T23:59:59Z' }))[0]?.message).toBe(
      'is fixed once set: expected 2027-12-31T23:59:59Z, found 2028-01-30T23:59:59Z; extend access by appending an extension with its justification and approver',
    );
  });
});
