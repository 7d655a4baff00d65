// NetworkPolicy semantics of the reachability analysis, case by case.
import { describe, expect, it } from 'vitest';
import type { NetworkPolicyObject } from '../../isolation/policy-types.ts';
import { canConnect } from '../../isolation/reachability.ts';
import type { ClusterModel, PodModel } from '../../isolation/reachability.ts';

const web: PodModel = { namespace: 'a', name: 'web', labels: { app: 'web' }, ip: '10.244.0.1' };
const db: PodModel = { namespace: 'a', name: 'db', labels: { app: 'db' }, ip: '10.244.0.2' };
const other: PodModel = { namespace: 'b', name: 'other', labels: { app: 'web' }, ip: '10.244.0.3' };
const tcp = (port: number) => ({ port, protocol: 'TCP' as const });

function np(namespace: string, spec: NetworkPolicyObject['spec']): NetworkPolicyObject {
  return { apiVersion: 'networking.k8s.io/v1', kind: 'NetworkPolicy', metadata: { name: 'p', namespace }, spec };
}

function model(...policies: NetworkPolicyObject[]): ClusterModel {
  return { namespaces: [{ name: 'a', labels: { team: 'x' } }, { name: 'b', labels: { team: 'y' } }], pods: [web, db, other], policies };
}

describe('reachability semantics', () => {
  it('allows everything when no policy selects a pod', () => {
    expect(canConnect(model(), { pod: web }, { ip: '8.8.8.8' }, tcp(443))).toBe(true);
    expect(canConnect(model(), { pod: other }, { pod: db }, tcp(5432))).toBe(true);
  });

  it('isolates only in the directions named by policyTypes', () => {
    const m = model(np('a', { podSelector: {}, policyTypes: ['Ingress'] }));
    expect(canConnect(m, { pod: web }, { ip: '8.8.8.8' }, tcp(443))).toBe(true);
    expect(canConnect(m, { pod: other }, { pod: db }, tcp(5432))).toBe(false);
  });

  it('defaults policyTypes to Ingress, plus Egress when egress rules exist', () => {
    expect(canConnect(model(np('a', { podSelector: {} })), { pod: web }, { ip: '8.8.8.8' }, tcp(443))).toBe(true);
    const m = model(np('a', { podSelector: {}, egress: [{ to: [{ ipBlock: { cidr: '10.0.0.0/8' } }] }] }));
    expect(canConnect(m, { pod: web }, { ip: '8.8.8.8' }, tcp(443))).toBe(false);
    expect(canConnect(m, { pod: web }, { ip: '10.1.2.3' }, tcp(443))).toBe(true);
  });

  it('allows the union of the rules of every selecting policy', () => {
    const m = model(
      np('a', { podSelector: {}, policyTypes: ['Egress'] }),
      np('a', { podSelector: { matchLabels: { app: 'web' } }, policyTypes: ['Egress'], egress: [{ to: [{ ipBlock: { cidr: '10.9.0.0/16' } }], ports: [tcp(443)] }] }),
    );
    expect(canConnect(m, { pod: web }, { ip: '10.9.1.1' }, tcp(443))).toBe(true);
    expect(canConnect(m, { pod: web }, { ip: '10.9.1.1' }, tcp(80))).toBe(false);
    expect(canConnect(m, { pod: db }, { ip: '10.9.1.1' }, tcp(443))).toBe(false);
  });

  it('honours ipBlock except', () => {
    const m = model(np('a', { podSelector: {}, policyTypes: ['Egress'], egress: [{ to: [{ ipBlock: { cidr: '0.0.0.0/0', except: ['10.0.0.0/8'] } }] }] }));
    expect(canConnect(m, { pod: web }, { ip: '8.8.8.8' }, tcp(443))).toBe(true);
    expect(canConnect(m, { pod: web }, { ip: '10.1.1.1' }, tcp(443))).toBe(false);
  });

  it('ANDs namespaceSelector and podSelector within one peer, and ORs peers', () => {
    const and = model(np('b', { podSelector: {}, policyTypes: ['Ingress'], ingress: [{ from: [{ namespaceSelector: { matchLabels: { team: 'x' } }, podSelector: { matchLabels: { app: 'db' } } }] }] }));
    expect(canConnect(and, { pod: web }, { pod: other }, tcp(80))).toBe(false);
    expect(canConnect(and, { pod: db }, { pod: other }, tcp(80))).toBe(true);
    const or = model(np('b', { podSelector: {}, policyTypes: ['Ingress'], ingress: [{ from: [{ namespaceSelector: { matchLabels: { team: 'x' } } }, { podSelector: { matchLabels: { app: 'db' } } }] }] }));
    expect(canConnect(or, { pod: web }, { pod: other }, tcp(80))).toBe(true);
  });

  it('reads a podSelector-only peer in the policy\'s own namespace', () => {
    const m = model(np('b', { podSelector: {}, policyTypes: ['Ingress'], ingress: [{ from: [{ podSelector: { matchLabels: { app: 'web' } } }] }] }));
    expect(canConnect(m, { pod: web }, { pod: other }, tcp(80))).toBe(false);
  });

  it('matches port ranges and protocols', () => {
    const m = model(np('a', { podSelector: {}, policyTypes: ['Egress'], egress: [{ ports: [{ port: 8000, endPort: 8010, protocol: 'TCP' }, { port: 53, protocol: 'UDP' }] }] }));
    expect(canConnect(m, { pod: web }, { ip: '1.1.1.1' }, tcp(8005))).toBe(true);
    expect(canConnect(m, { pod: web }, { ip: '1.1.1.1' }, tcp(8011))).toBe(false);
    expect(canConnect(m, { pod: web }, { ip: '1.1.1.1' }, { port: 53, protocol: 'UDP' })).toBe(true);
    expect(canConnect(m, { pod: web }, { ip: '1.1.1.1' }, tcp(53))).toBe(false);
  });

  it('needs both egress at the source and ingress at the destination', () => {
    const m = model(
      np('a', { podSelector: {}, policyTypes: ['Egress'], egress: [{ to: [{ namespaceSelector: {} }] }] }),
      np('b', { podSelector: {}, policyTypes: ['Ingress'] }),
    );
    expect(canConnect(m, { pod: web }, { pod: other }, tcp(80))).toBe(false);
    expect(canConnect(m, { pod: web }, { pod: db }, tcp(80))).toBe(true);
  });
});
