import { describe, expect, it } from 'vitest';
import { leaderTiming } from '../../operator/run.ts';

describe('leader election timing for `run --lease-duration`', () => {
  it.each([15, 2, 1, 60])('%i s: the leader stops before a standby may take over, and renews several times per lease', (seconds) => {
    const t = leaderTiming('sde-system', seconds);
    expect(t.leaseDurationSeconds).toBe(seconds);
    expect(t.renewDeadlineMs).toBeLessThan(seconds * 1000);
    expect(t.retryPeriodMs).toBeLessThan(t.renewDeadlineMs / 2);
  });

  it('keeps client-go\'s relation at the default duration (15 s lease, 10 s renew deadline, 2 s retry)', () => {
    expect(leaderTiming('sde-system', 15)).toEqual({ namespace: 'sde-system', leaseDurationSeconds: 15, renewDeadlineMs: 10_000, retryPeriodMs: 2_000 });
  });
});
