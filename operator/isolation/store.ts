// What the isolation checks last found for each enclave, by check: the network and Pod Security
// evaluation, the members' access asked of the authorizer, and the probe Job. Each check writes
// its own part; the Enclave controller reads them all into NetworkIsolated and AccessIsolated and
// is told when a part changes.
import type { IsolationFinding } from '../../isolation/findings.ts';
import { jsonEqual } from '../runtime/index.ts';

/** The checks that report into the store. */
export type IsolationCheck = 'network' | 'access' | 'probe';

/** One check's last result for one enclave: its findings, and when it was made. */
export interface CheckResult {
  findings: readonly IsolationFinding[];
  at: Date;
}

/** Every check's last result for one enclave; a check not yet made is absent. */
export type EnclaveIsolation = Partial<Record<IsolationCheck, CheckResult>>;

/** Findings per enclave and check, shared by the checks and the Enclave controller. */
export class IsolationStore {
  readonly #results = new Map<string, EnclaveIsolation>();
  readonly #listeners: Array<(enclave: string, check: IsolationCheck) => void> = [];

  /** The last results for `enclave` (empty when nothing was checked yet). */
  get(enclave: string): EnclaveIsolation {
    return this.#results.get(enclave) ?? {};
  }

  /**
   * Records `check`'s findings for `enclave`; tells the listeners when they differ from the last
   * ones (a first result counts as a change). Returns whether they did.
   */
  set(enclave: string, check: IsolationCheck, findings: readonly IsolationFinding[], at: Date): boolean {
    const results = this.#results.get(enclave) ?? {};
    const before = results[check];
    results[check] = { findings, at };
    this.#results.set(enclave, results);
    const changed = before === undefined || !jsonEqual(before.findings, findings);
    if (changed) for (const listener of this.#listeners) listener(enclave, check);
    return changed;
  }

  /** Forgets a deleted enclave. */
  forget(enclave: string): void {
    this.#results.delete(enclave);
  }

  /** Calls `listener` whenever a check's findings for an enclave change. */
  onChange(listener: (enclave: string, check: IsolationCheck) => void): void {
    this.#listeners.push(listener);
  }
}
