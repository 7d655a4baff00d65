// NetworkPolicy as it is written in JSON and YAML (networking.k8s.io/v1). The client library's
// generated types rename `from` to `_from`, so the analysis reads the wire shape through these.

/** A label selector: matchLabels and matchExpressions, ANDed; empty selects everything. */
export interface LabelSelector {
  matchLabels?: Record<string, string>;
  matchExpressions?: { key: string; operator: 'In' | 'NotIn' | 'Exists' | 'DoesNotExist'; values?: string[] }[];
}

/** One peer of a rule: an ipBlock, or pods chosen by namespace and/or pod selectors. */
export interface PolicyPeer {
  ipBlock?: { cidr: string; except?: string[] };
  namespaceSelector?: LabelSelector;
  podSelector?: LabelSelector;
}

/** A port of a rule; protocol TCP when omitted; a range when endPort is set. */
export interface PolicyPort {
  port?: number | string;
  endPort?: number;
  protocol?: 'TCP' | 'UDP' | 'SCTP';
}

/** A NetworkPolicy object as rendered or read from YAML. */
export interface NetworkPolicyObject {
  apiVersion: string;
  kind: string;
  metadata: { name: string; namespace?: string };
  spec: {
    podSelector: LabelSelector;
    policyTypes?: ('Ingress' | 'Egress')[];
    ingress?: { from?: PolicyPeer[]; ports?: PolicyPort[] }[];
    egress?: { to?: PolicyPeer[]; ports?: PolicyPort[] }[];
  };
}
