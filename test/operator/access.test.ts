import { describe, expect, it } from 'vitest';
import { accessState } from '../../api/access.ts';
import { durationMs } from '../../api/duration.ts';

const access = (validFrom: string | undefined, expiresAt: string, extensions: string[] = []) => ({
  validFrom, expiresAt, extensions: extensions.map((until) => ({ until, justification: 'j', approvedBy: 'a' })),
});
const WEEK = 7 * 24 * 3_600_000;

describe('accessState', () => {
  it.each([
    { at: '2025-12-31T00:00:00Z', active: false, reason: 'NotYetValid', soon: false, next: '2026-01-01T00:00:00.000Z' },
    { at: '2026-06-01T00:00:00Z', active: true, reason: 'Active', soon: false, next: '2026-12-24T00:00:00.000Z' },
    { at: '2026-12-25T00:00:00Z', active: true, reason: 'Active', soon: true, next: '2026-12-31T00:00:00.000Z' },
    { at: '2026-12-31T00:00:00Z', active: false, reason: 'Expired', soon: false, next: undefined },
  ])('at $at: active=$active ($reason)', ({ at, active, reason, soon, next }) => {
    const s = accessState(access('2026-01-01T00:00:00Z', '2026-12-31T00:00:00Z'), undefined, new Date(at), WEEK);
    expect(s.active).toBe(active);
    expect(s.reason).toBe(reason);
    expect(s.expiringSoon).toBe(soon);
    expect(s.nextChange?.toISOString()).toBe(next);
  });

  it('an extension moves the effective end to the latest until, and restores access', () => {
    const s = accessState(access(undefined, '2026-01-01T00:00:00Z', ['2026-03-01T00:00:00Z', '2026-02-01T00:00:00Z']), undefined, new Date('2026-01-15T00:00:00Z'), WEEK);
    expect(s.active).toBe(true);
    expect(s.effectiveExpiresAt.toISOString()).toBe('2026-03-01T00:00:00.000Z');
  });

  it('never runs past the latest end on record: an expiresAt moved ahead without an extension is not honoured', () => {
    const recorded = [{ until: '2026-01-01T00:00:00Z', approvedBy: 'UCLH DAC' }];
    const rewritten = access(undefined, '2026-02-01T00:00:00Z');
    const s = accessState(rewritten, recorded, new Date('2026-01-15T00:00:00Z'), WEEK);
    expect(s.active).toBe(false);
    expect(s.reason).toBe('Expired');
    expect(s.effectiveExpiresAt.toISOString()).toBe('2026-01-01T00:00:00.000Z');
  });

  it('honours a shortened end at once: the spec\'s end when it is the earlier', () => {
    const recorded = [{ until: '2026-12-31T00:00:00Z', approvedBy: 'UCLH DAC' }];
    expect(accessState(access(undefined, '2026-06-30T00:00:00Z'), recorded, new Date('2026-07-01T00:00:00Z'), WEEK).reason).toBe('Expired');
  });
});

describe('durationMs', () => {
  it.each([['168h', 168 * 3_600_000], ['1h30m', 5_400_000], ['45s', 45_000], ['2m', 120_000]])('%s', (text, ms) => {
    expect(durationMs(text)).toBe(ms);
  });
});
