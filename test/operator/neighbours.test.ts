// The sorted names the access monitor picks "the next enclave" from: kept from the cache's events.
import { describe, expect, it } from 'vitest';
import { SortedNames } from '../../operator/isolation/neighbours.ts';
import { SdeKinds } from '../../operator/kinds.ts';
import { Store } from '../../operator/runtime/cache.ts';

const enclave = (name: string, resourceVersion = '1') => ({ apiVersion: 'sde.london/v1alpha1', kind: 'Enclave', metadata: { name, resourceVersion } });

describe('SortedNames', () => {
  it('lists the names after one in order, wrapping round, without the name itself', () => {
    const store = new Store(SdeKinds.Enclave);
    for (const name of ['cardiac-mri', 'asthma', 'eye', 'dermatology']) store.upsert(enclave(name));
    const names = new SortedNames(store);
    expect([...names.after('cardiac-mri')]).toEqual(['dermatology', 'eye', 'asthma']);
    expect([...names.after('eye')]).toEqual(['asthma', 'cardiac-mri', 'dermatology']);
    // A name the cache does not hold starts at the first name after where it would be.
    expect([...names.after('bone')]).toEqual(['cardiac-mri', 'dermatology', 'eye', 'asthma']);
  });

  it('follows the cache: added and deleted names, a modified object changes nothing', () => {
    const store = new Store(SdeKinds.Enclave);
    store.upsert(enclave('cardiac-mri'));
    const names = new SortedNames(store);
    expect([...names.after('cardiac-mri')]).toEqual([]);
    store.upsert(enclave('eye'));
    store.upsert(enclave('dermatology'));
    store.upsert(enclave('dermatology', '2'));
    expect([...names.after('cardiac-mri')]).toEqual(['dermatology', 'eye']);
    store.remove(enclave('dermatology'));
    expect([...names.after('cardiac-mri')]).toEqual(['eye']);
    expect(names.size).toBe(2);
  });

  it('keeps a name once when a relist holds it again', () => {
    const store = new Store(SdeKinds.Enclave);
    const names = new SortedNames(store);
    store.replace([enclave('a'), enclave('b')], '5');
    store.replace([enclave('b', '2'), enclave('c')], '9');
    expect([...names.after('')]).toEqual(['b', 'c']);
  });
});
