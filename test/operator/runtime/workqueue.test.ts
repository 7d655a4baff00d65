import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { KubeApiError, TerminalError } from '../../../operator/runtime/errors.ts';
import { WorkQueue, type Outcome, type ReconcileResult } from '../../../operator/runtime/workqueue.ts';

function deferred<T = void>(): { promise: Promise<T>; resolve: (value: T) => void; reject: (error: unknown) => void } {
  let resolve!: (value: T) => void;
  let reject!: (error: unknown) => void;
  const promise = new Promise<T>((res, rej) => {
    resolve = res;
    reject = rej;
  });
  return { promise, resolve, reject };
}

const noJitter = { baseMs: 100, maxMs: 1_000, jitter: 0 };

describe('WorkQueue', () => {
  let queues: WorkQueue[] = [];
  const make = (process: (key: string) => Promise<ReconcileResult>, options: { concurrency?: number; onOutcome?: (outcome: Outcome) => void } = {}): WorkQueue => {
    const queue = new WorkQueue({ process, backoff: noJitter, ...options });
    queues.push(queue);
    return queue;
  };

  beforeEach(() => {
    queues = [];
  });

  afterEach(async () => {
    await Promise.all(queues.map((queue) => queue.shutdown()));
    vi.useRealTimers();
  });

  it('processes a key added many times before it runs only once', async () => {
    const seen: string[] = [];
    const queue = make(async (key) => {
      seen.push(key);
    });
    queue.add('ns/a');
    queue.add('ns/a');
    queue.add('ns/b');
    queue.add('ns/a');
    queue.start();
    await queue.whenIdle();
    expect(seen).toEqual(['ns/a', 'ns/b']);
  });

  it('never runs one key twice at once, and runs it again after when re-added in flight', async () => {
    const gate = deferred();
    let running = 0;
    let maxRunning = 0;
    let calls = 0;
    const queue = make(
      async () => {
        calls += 1;
        running += 1;
        maxRunning = Math.max(maxRunning, running);
        if (calls === 1) await gate.promise;
        running -= 1;
      },
      { concurrency: 4 },
    );
    queue.start();
    queue.add('a');
    await vi.waitFor(() => expect(calls).toBe(1));
    queue.add('a');
    queue.add('a');
    await new Promise((resolve) => setImmediate(resolve));
    expect(calls).toBe(1);
    gate.resolve();
    await queue.whenIdle();
    expect(calls).toBe(2);
    expect(maxRunning).toBe(1);
  });

  it('runs a low-priority key only when no normal one waits, and a key queued at both as normal', async () => {
    const seen: string[] = [];
    const queue = make(async (key) => {
      seen.push(key);
    });
    queue.add('pod-progress-1', 'low');
    queue.add('create-1');
    queue.add('pod-progress-2', 'low');
    queue.add('both', 'low');
    queue.add('create-2');
    queue.add('both');
    queue.add('create-1', 'low');
    expect(queue.depth).toBe(5);
    queue.start();
    await queue.whenIdle();
    expect(seen).toEqual(['create-1', 'create-2', 'both', 'pod-progress-1', 'pod-progress-2']);
  });

  /** A one-worker queue whose first key, 'a', is in flight until `release()`. */
  async function holdingA(): Promise<{ queue: WorkQueue; seen: string[]; release: () => void }> {
    const gate = deferred();
    const seen: string[] = [];
    const queue = make(
      async (key) => {
        seen.push(key);
        if (seen.length === 1) await gate.promise;
      },
      { concurrency: 1 },
    );
    queue.start();
    queue.add('a');
    await vi.waitFor(() => expect(seen).toEqual(['a']));
    return { queue, seen, release: () => gate.resolve() };
  }

  it('runs a key re-added while in flight again at the higher of the priorities it was re-added at', async () => {
    const { queue, seen, release } = await holdingA();
    queue.add('a', 'low');
    queue.add('a');
    queue.add('a', 'low');
    queue.add('b', 'low');
    queue.add('c');
    release();
    await queue.whenIdle();
    // After 'a' ends, 'c' was already waiting at normal; 'a' again at normal before 'b' at low.
    expect(seen).toEqual(['a', 'c', 'a', 'b']);
  });

  it('runs a high-priority key before every other waiting, and a key queued at high and normal as high', async () => {
    const seen: string[] = [];
    const queue = make(async (key) => {
      seen.push(key);
    });
    queue.add('new-1');
    queue.add('progress', 'low');
    queue.add('follow-up-1', 'high');
    queue.add('new-2');
    queue.add('new-2', 'high');
    queue.add('follow-up-1', 'low');
    queue.add('follow-up-2', 'high');
    expect(queue.depth).toBe(5);
    queue.start();
    await queue.whenIdle();
    expect(seen).toEqual(['follow-up-1', 'new-2', 'follow-up-2', 'new-1', 'progress']);
  });

  it('runs a key re-added at high while in flight before the keys waiting at normal', async () => {
    const { queue, seen, release } = await holdingA();
    queue.add('b');
    queue.add('a', 'high');
    queue.add('a');
    release();
    await queue.whenIdle();
    expect(seen).toEqual(['a', 'a', 'b']);
  });

  it('runs at most `concurrency` different keys together', async () => {
    const gates = new Map<string, ReturnType<typeof deferred<void>>>();
    let running = 0;
    let maxRunning = 0;
    const queue = make(
      async (key) => {
        running += 1;
        maxRunning = Math.max(maxRunning, running);
        const gate = deferred<void>();
        gates.set(key, gate);
        await gate.promise;
        running -= 1;
      },
      { concurrency: 2 },
    );
    for (const key of ['a', 'b', 'c', 'd', 'e']) queue.add(key);
    queue.start();
    await vi.waitFor(() => expect(gates.size).toBe(2));
    expect(queue.depth).toBe(3);
    while (gates.size < 5 || running > 0) {
      for (const gate of gates.values()) gate.resolve();
      await new Promise((resolve) => setImmediate(resolve));
    }
    await queue.whenIdle();
    expect(maxRunning).toBe(2);
  });

  it('retries a failing key with exponential backoff and resets it after a success', async () => {
    vi.useFakeTimers();
    const outcomes: Outcome[] = [];
    let calls = 0;
    const failOn = new Set([1, 2, 3, 5]);
    const queue = make(
      async () => {
        calls += 1;
        if (failOn.has(calls)) throw new Error('API unavailable');
      },
      { onOutcome: (outcome) => outcomes.push(outcome) },
    );
    queue.start();
    queue.add('a');
    await vi.advanceTimersByTimeAsync(0);
    expect(calls).toBe(1);
    // Delays double: 100, 200, 400 ms; nothing runs a millisecond early.
    for (const delay of [100, 200, 400]) {
      const before = calls;
      await vi.advanceTimersByTimeAsync(delay - 1);
      expect(calls).toBe(before);
      await vi.advanceTimersByTimeAsync(1);
      expect(calls).toBe(before + 1);
    }
    expect(outcomes.map((outcome) => outcome.result)).toEqual(['error', 'error', 'error', 'success']);
    queue.add('a');
    await vi.advanceTimersByTimeAsync(0);
    expect(calls).toBe(5);
    await vi.advanceTimersByTimeAsync(99);
    expect(calls).toBe(5);
    await vi.advanceTimersByTimeAsync(1);
    expect(calls).toBe(6);
    expect(outcomes.filter((outcome) => outcome.result === 'error').map((outcome) => (outcome as { retryInMs: number }).retryInMs)).toEqual([100, 200, 400, 100]);
  });

  it('waits at least as long as the API server asked (429 Retry-After)', async () => {
    vi.useFakeTimers();
    let calls = 0;
    const queue = make(async () => {
      calls += 1;
      if (calls === 1) throw new KubeApiError(429, 'apply Namespace sandpit-a', { message: 'too many requests' }, { 'retry-after': '3' });
    });
    queue.start();
    queue.add('a');
    await vi.advanceTimersByTimeAsync(2_999);
    expect(calls).toBe(1);
    await vi.advanceTimersByTimeAsync(1);
    expect(calls).toBe(2);
  });

  it('caps the backoff at its maximum', async () => {
    vi.useFakeTimers();
    const delays: number[] = [];
    const queue = make(
      async () => {
        throw new Error('still failing');
      },
      { onOutcome: (outcome) => outcome.result === 'error' && delays.push(outcome.retryInMs) },
    );
    queue.start();
    queue.add('a');
    await vi.advanceTimersByTimeAsync(10_000);
    expect(delays.slice(0, 6)).toEqual([100, 200, 400, 800, 1_000, 1_000]);
  });

  it('honours requeueAfter, and the earliest timer for a key wins', async () => {
    vi.useFakeTimers();
    const runs: number[] = [];
    const queue = make(async () => {
      runs.push(Date.now());
    });
    queue.start();
    const start = Date.now();
    queue.addAfter('a', 1_000);
    queue.addAfter('a', 500);
    queue.addAfter('a', 800);
    await vi.advanceTimersByTimeAsync(2_000);
    expect(runs.map((at) => at - start)).toEqual([500]);
  });

  it('requeues a key that asked for it', async () => {
    vi.useFakeTimers();
    let calls = 0;
    const queue = make(async () => {
      calls += 1;
      return calls < 3 ? { requeueAfter: 1_000 } : undefined;
    });
    queue.start();
    queue.add('enclave-a');
    await vi.advanceTimersByTimeAsync(999);
    expect(calls).toBe(1);
    await vi.advanceTimersByTimeAsync(1);
    expect(calls).toBe(2);
    await vi.advanceTimersByTimeAsync(10_000);
    expect(calls).toBe(3);
  });

  it('does not run a key early when its requeue is further off than a Node timer can wait', async () => {
    vi.useFakeTimers();
    let calls = 0;
    const queue = make(async () => {
      calls += 1;
    });
    queue.start();
    const ninetyDays = 90 * 24 * 3600 * 1000;
    queue.addAfter('enclave-expiring-in-march', ninetyDays);
    await vi.advanceTimersByTimeAsync(24 * 3600 * 1000);
    expect(calls).toBe(0);
    await vi.advanceTimersByTimeAsync(25 * 24 * 3600 * 1000);
    expect(calls).toBe(1);
  });

  it('records a TerminalError and does not retry it', async () => {
    vi.useFakeTimers();
    const outcomes: Outcome[] = [];
    let calls = 0;
    const queue = make(
      async () => {
        calls += 1;
        throw new TerminalError('InvalidSpec', 'spec.resources.gpus: expected at most 8, found 12');
      },
      { onOutcome: (outcome) => outcomes.push(outcome) },
    );
    queue.start();
    queue.add('a');
    await vi.advanceTimersByTimeAsync(60_000);
    expect(calls).toBe(1);
    expect(outcomes).toHaveLength(1);
    expect(outcomes[0]?.result).toBe('terminal');
    expect(queue.scheduled).toBe(0);
  });

  it('shuts down gracefully: awaits in-flight work and takes no new keys', async () => {
    const gate = deferred();
    const seen: string[] = [];
    let finished = false;
    const queue = make(
      async (key) => {
        seen.push(key);
        await gate.promise;
        finished = true;
      },
      { concurrency: 1 },
    );
    queue.start();
    queue.add('a');
    queue.add('b');
    await vi.waitFor(() => expect(seen).toEqual(['a']));
    const stopped = queue.shutdown();
    queue.add('c');
    let done = false;
    void stopped.then(() => (done = true));
    await new Promise((resolve) => setImmediate(resolve));
    expect(done).toBe(false);
    gate.resolve();
    await stopped;
    expect(finished).toBe(true);
    expect(seen).toEqual(['a']);
  });
});
