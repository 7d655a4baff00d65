import { describe, expect, it } from 'vitest';
import { InvalidConditionReasonError, setCondition, setConditions, summarizeReady, type Condition } from '../../../operator/runtime/conditions.ts';
import { statusEqual } from '../../../operator/runtime/status.ts';

const t0 = new Date('2026-11-27T09:00:00.000Z');
const t1 = new Date('2026-11-27T10:30:00.000Z');
const t2 = new Date('2026-11-27T11:45:00.000Z');

describe('conditions', () => {
  it('changes lastTransitionTime only when the status flips', () => {
    let conditions = setCondition([], { type: 'NetworkReady', status: 'False', reason: 'Pending', message: 'policies not applied' }, { now: t0 });
    expect(conditions[0]?.lastTransitionTime).toBe('2026-11-27T09:00:00Z');

    conditions = setCondition(conditions, { type: 'NetworkReady', status: 'False', reason: 'ApplyFailed', message: 'quota exceeded' }, { now: t1 });
    expect(conditions[0]).toMatchObject({ reason: 'ApplyFailed', message: 'quota exceeded', lastTransitionTime: '2026-11-27T09:00:00Z' });

    conditions = setCondition(conditions, { type: 'NetworkReady', status: 'True', reason: 'Applied' }, { now: t2 });
    expect(conditions[0]?.lastTransitionTime).toBe('2026-11-27T11:45:00Z');
  });

  it('keeps other conditions and their order, and does not modify its input', () => {
    const before: Condition[] = setConditions(
      [],
      [
        { type: 'NamespaceReady', status: 'True', reason: 'Applied' },
        { type: 'AccessGranted', status: 'True', reason: 'WithinValidity' },
      ],
      { now: t0, observedGeneration: 3 },
    );
    const frozen = structuredClone(before);
    const after = setCondition(before, { type: 'NamespaceReady', status: 'False', reason: 'Terminating' }, { now: t1, observedGeneration: 4 });
    expect(before).toEqual(frozen);
    expect(after.map((condition) => condition.type)).toEqual(['NamespaceReady', 'AccessGranted']);
    expect(after[0]?.observedGeneration).toBe(4);
    expect(after[1]).toEqual(before[1]);
  });

  it.each(['quota exceeded', 'quotaExceeded', 'Quota-Exceeded', ''])('rejects the non-CamelCase reason %j', (reason) => {
    expect(() => setCondition([], { type: 'Ready', status: 'False', reason })).toThrow(InvalidConditionReasonError);
  });

  it('summarises Ready from the first concern that is not True', () => {
    const conditions = setConditions(
      [],
      [
        { type: 'NamespaceReady', status: 'True', reason: 'Applied' },
        { type: 'QuotaReady', status: 'False', reason: 'QuotaExceeded', message: 'gpus 12 > pool 8' },
      ],
      { now: t0 },
    );
    expect(summarizeReady(conditions, ['NamespaceReady', 'QuotaReady'])).toEqual({ type: 'Ready', status: 'False', reason: 'QuotaExceeded', message: 'QuotaReady: gpus 12 > pool 8' });
    expect(summarizeReady(conditions, ['NamespaceReady'])).toMatchObject({ status: 'True', reason: 'Ready' });
    expect(summarizeReady(conditions, ['NamespaceReady', 'WorkspacesReady'])).toMatchObject({ status: 'Unknown', reason: 'Pending' });
  });
});

describe('statusEqual', () => {
  const status = {
    phase: 'Ready',
    observedGeneration: 2,
    conditions: setCondition([], { type: 'Ready', status: 'True', reason: 'Ready' }, { now: t0 }),
  };

  it('ignores lastTransitionTime noise', () => {
    const rerendered = { ...status, conditions: setCondition([], { type: 'Ready', status: 'True', reason: 'Ready' }, { now: t2 }) };
    expect(statusEqual(status, rerendered)).toBe(true);
  });

  it.each([
    ['a changed phase', { phase: 'Expired' }],
    ['a new observedGeneration', { observedGeneration: 3 }],
    ['a changed condition reason', { conditions: setCondition([], { type: 'Ready', status: 'True', reason: 'Extended' }, { now: t0 }) }],
    ['a removed field', { phase: null }],
    ['a new field', { namespace: 'sandpit-omop-42' }],
  ])('sees %s', (_name, change) => {
    expect(statusEqual(status, { ...status, ...change })).toBe(false);
  });

  it('treats fields the patch does not mention as unchanged (merge patch keeps them)', () => {
    expect(statusEqual({ ...status, namespace: 'sandpit-a' }, status)).toBe(true);
  });
});
