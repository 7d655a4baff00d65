import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { Backoff, backoffDelay, jitteredPeriod } from '../../../operator/runtime/backoff.ts';

describe('backoffDelay', () => {
  it('stays within [(1 - jitter) · min(max, base · 2^n), min(max, base · 2^n)]', () => {
    fc.assert(
      fc.property(fc.integer({ min: 0, max: 80 }), fc.integer({ min: 1, max: 10_000 }), fc.integer({ min: 1, max: 600_000 }), fc.double({ min: 0, max: 1, noNaN: true }), fc.double({ min: 0, max: 1, maxExcluded: true, noNaN: true }), (attempt, baseMs, maxMs, jitter, random) => {
        const ceiling = Math.min(maxMs, baseMs * 2 ** attempt);
        const delay = backoffDelay(attempt, { baseMs, maxMs, jitter }, () => random);
        expect(delay).toBeLessThanOrEqual(ceiling);
        expect(delay).toBeGreaterThanOrEqual((1 - jitter) * ceiling - 1e-9);
      }),
    );
  });

  it('spreads retries of different replicas apart (jitter is really random)', () => {
    const delays = new Set(Array.from({ length: 20 }, () => backoffDelay(3, { baseMs: 100, maxMs: 10_000 })));
    expect(delays.size).toBeGreaterThan(1);
  });
});

describe('jitteredPeriod', () => {
  it('stays within [period, (1 + jitter) · period]', () => {
    fc.assert(
      fc.property(fc.integer({ min: 0, max: 600_000 }), fc.double({ min: 0, max: 2, noNaN: true }), fc.double({ min: 0, max: 1, maxExcluded: true, noNaN: true }), (periodMs, jitter, random) => {
        const delay = jitteredPeriod(periodMs, jitter, () => random);
        expect(delay).toBeGreaterThanOrEqual(periodMs);
        expect(delay).toBeLessThanOrEqual((1 + jitter) * periodMs + 1e-9);
      }),
    );
  });
});

describe('Backoff', () => {
  it('grows with each failure and starts over after reset', () => {
    const backoff = new Backoff({ baseMs: 10, maxMs: 1_000, jitter: 0 });
    expect([backoff.next(), backoff.next(), backoff.next()]).toEqual([10, 20, 40]);
    expect(backoff.failures).toBe(3);
    backoff.reset();
    expect(backoff.next()).toBe(10);
  });
});
