// Where a real API server does not store a zero value. Built-in kinds round-trip through Go
// structs, and a field tagged `omitempty` that is not a pointer (a bool, number, string, list or
// map) vanishes at its zero value: `hostNetwork: false`, `externalIPs: []`, a PersistentVolume's
// `storageClassName: ""`, an env var's `value: ""`. Pointer fields keep theirs:
// `allowPrivilegeEscalation: false`, `readOnlyRootFilesystem: false`, `replicas: 0`,
// `automountServiceAccountToken: false`, a claim's `storageClassName: ""`. A field left out here
// is stored as sent. Every field listed was sent at its zero value to a 1.23 server and came back
// without it (test/devcluster/fidelity: objects.yaml holds the probes, recorded.json the answers).

/** One Go struct: the fields it drops at their zero value, and the fields that hold structs (or lists of them). */
export interface StructShape {
  readonly omitEmpty: readonly string[];
  readonly nested?: Readonly<Record<string, StructShape>>;
}

const OBJECT_META: StructShape = { omitEmpty: ['generateName', 'labels', 'annotations', 'finalizers', 'ownerReferences'] };

// core/v1 ObjectReference; name and namespace are always given where the probes use it.
const OBJECT_REFERENCE: StructShape = { omitEmpty: ['apiVersion', 'kind', 'uid', 'resourceVersion', 'fieldPath'] };

const LABEL_SELECTOR: StructShape = { omitEmpty: ['matchLabels', 'matchExpressions'] };

const PROBE: StructShape = {
  omitEmpty: ['initialDelaySeconds', 'timeoutSeconds', 'periodSeconds', 'successThreshold', 'failureThreshold'],
  nested: { tcpSocket: { omitEmpty: ['host'] } },
};

const CONTAINER: StructShape = {
  omitEmpty: ['command', 'args', 'workingDir', 'ports', 'envFrom', 'env', 'volumeMounts', 'volumeDevices', 'terminationMessagePath', 'terminationMessagePolicy', 'imagePullPolicy', 'stdin', 'stdinOnce', 'tty'],
  nested: {
    ports: { omitEmpty: ['name', 'hostPort', 'hostIP'] },
    env: { omitEmpty: ['value'] },
    volumeMounts: { omitEmpty: ['readOnly', 'subPath', 'subPathExpr'] },
    readinessProbe: PROBE,
    securityContext: { omitEmpty: [], nested: { capabilities: { omitEmpty: ['add', 'drop'] } } },
  },
};

const NFS: StructShape = { omitEmpty: ['readOnly'] };

const POD_SPEC: StructShape = {
  omitEmpty: [
    'volumes', 'initContainers', 'restartPolicy', 'dnsPolicy', 'nodeSelector', 'serviceAccountName', 'serviceAccount', 'nodeName',
    'hostNetwork', 'hostPID', 'hostIPC', 'imagePullSecrets', 'hostname', 'subdomain', 'schedulerName', 'tolerations', 'hostAliases',
    'priorityClassName', 'readinessGates', 'topologySpreadConstraints',
  ],
  nested: {
    containers: CONTAINER,
    initContainers: CONTAINER,
    volumes: {
      omitEmpty: [],
      nested: { secret: { omitEmpty: ['items'] }, persistentVolumeClaim: { omitEmpty: ['readOnly'] }, nfs: NFS },
    },
    tolerations: { omitEmpty: ['key', 'operator', 'value', 'effect'] },
    securityContext: { omitEmpty: ['supplementalGroups', 'sysctls'] },
  },
};

const POD_TEMPLATE: StructShape = { omitEmpty: [], nested: { metadata: OBJECT_META, spec: POD_SPEC } };

const CLAIM_SPEC: StructShape = { omitEmpty: ['volumeName'] };

/** Each built-in kind the operator writes, by kind: its top-level fields as one struct. */
export const OMIT_EMPTY: Readonly<Record<string, StructShape>> = {
  Namespace: { omitEmpty: [], nested: { metadata: OBJECT_META, spec: { omitEmpty: ['finalizers'] } } },
  ResourceQuota: { omitEmpty: [], nested: { metadata: OBJECT_META, spec: { omitEmpty: ['hard', 'scopes'] } } },
  LimitRange: {
    omitEmpty: [],
    nested: { metadata: OBJECT_META, spec: { omitEmpty: [], nested: { limits: { omitEmpty: ['max', 'min', 'default', 'defaultRequest', 'maxLimitRequestRatio'] } } } },
  },
  NetworkPolicy: {
    omitEmpty: [],
    nested: {
      metadata: OBJECT_META,
      spec: {
        omitEmpty: ['policyTypes'],
        nested: {
          podSelector: LABEL_SELECTOR,
          ingress: { omitEmpty: ['from', 'ports'] },
          egress: { omitEmpty: [], nested: { to: { omitEmpty: [], nested: { ipBlock: { omitEmpty: ['except'] } } } } },
        },
      },
    },
  },
  ServiceAccount: { omitEmpty: ['secrets', 'imagePullSecrets'], nested: { metadata: OBJECT_META } },
  Role: { omitEmpty: [], nested: { metadata: OBJECT_META, rules: { omitEmpty: ['resourceNames', 'nonResourceURLs'] } } },
  RoleBinding: { omitEmpty: ['subjects'], nested: { metadata: OBJECT_META, subjects: { omitEmpty: ['apiGroup', 'namespace'] } } },
  PersistentVolume: {
    omitEmpty: [],
    nested: { metadata: OBJECT_META, spec: { omitEmpty: ['storageClassName', 'mountOptions'], nested: { claimRef: OBJECT_REFERENCE, nfs: NFS } } },
  },
  PersistentVolumeClaim: { omitEmpty: [], nested: { metadata: OBJECT_META, spec: CLAIM_SPEC } },
  Service: {
    omitEmpty: [],
    nested: {
      metadata: OBJECT_META,
      spec: {
        omitEmpty: [
          'clusterIP', 'clusterIPs', 'ipFamilies', 'externalIPs', 'selector', 'sessionAffinity', 'loadBalancerIP', 'loadBalancerSourceRanges',
          'externalName', 'externalTrafficPolicy', 'healthCheckNodePort', 'publishNotReadyAddresses',
        ],
        nested: { ports: { omitEmpty: ['name', 'protocol', 'nodePort'] } },
      },
    },
  },
  StatefulSet: {
    omitEmpty: [],
    nested: {
      metadata: OBJECT_META,
      spec: {
        omitEmpty: ['minReadySeconds', 'podManagementPolicy', 'volumeClaimTemplates'],
        nested: { template: POD_TEMPLATE, volumeClaimTemplates: { omitEmpty: [], nested: { metadata: OBJECT_META, spec: CLAIM_SPEC } } },
      },
    },
  },
  Deployment: {
    omitEmpty: [],
    nested: { metadata: OBJECT_META, spec: { omitEmpty: ['minReadySeconds', 'paused'], nested: { selector: LABEL_SELECTOR, template: POD_TEMPLATE } } },
  },
  Job: { omitEmpty: [], nested: { metadata: OBJECT_META, spec: { omitEmpty: [], nested: { template: POD_TEMPLATE } } } },
  Pod: { omitEmpty: [], nested: { metadata: OBJECT_META, spec: POD_SPEC } },
  ConfigMap: { omitEmpty: ['data', 'binaryData'], nested: { metadata: OBJECT_META } },
  Secret: { omitEmpty: ['data', 'type'], nested: { metadata: OBJECT_META } },
};
