// How the public data use register reaches the public: its own Service, a NetworkPolicy that
// admits only the site's ingress controller to its port, and, when a host is named, an Ingress.
// The operator's metrics port stays reachable from the monitoring namespace only.
import type { KubeObject } from '../objects.ts';
import type { OperatorInstallOptions } from './options.ts';

/** Name of the register's Service, NetworkPolicy and Ingress. */
export const REGISTER_NAME = 'sde-operator-register';
/** Name of the container port serving the register. */
export const REGISTER_PORT_NAME = 'register';
/** The Service's port: plain HTTP inside the cluster; TLS ends at the ingress controller. */
export const REGISTER_SERVICE_PORT = 80;

/**
 * The register's Service, its NetworkPolicy and (when `register.ingress.host` is set) its Ingress,
 * in the operator's namespace, each labelled `labels` and selecting the operator's pods by `selector`.
 */
export function renderRegisterExposure(options: OperatorInstallOptions, labels: Readonly<Record<string, string>>, selector: Readonly<Record<string, string>>): KubeObject[] {
  const { register } = options;
  const metadata = { name: REGISTER_NAME, namespace: options.namespace, labels: { ...labels } };
  const objects: KubeObject[] = [
    {
      apiVersion: 'v1',
      kind: 'Service',
      metadata,
      spec: { type: 'ClusterIP', selector: { ...selector }, ports: [{ name: 'http', port: REGISTER_SERVICE_PORT, targetPort: REGISTER_PORT_NAME, protocol: 'TCP' }] },
    },
    {
      apiVersion: 'networking.k8s.io/v1',
      kind: 'NetworkPolicy',
      metadata: structuredClone(metadata),
      spec: {
        podSelector: { matchLabels: { ...selector } },
        policyTypes: ['Ingress'],
        ingress: [
          {
            from: [
              {
                namespaceSelector: { matchLabels: { 'kubernetes.io/metadata.name': register.ingressController.namespace } },
                podSelector: { matchLabels: { ...register.ingressController.podLabels } },
              },
            ],
            ports: [{ protocol: 'TCP', port: register.port }],
          },
        ],
      },
    },
  ];
  if (register.ingress.host !== '') objects.push(ingress(options, metadata));
  return objects;
}

function ingress(options: OperatorInstallOptions, metadata: KubeObject['metadata']): KubeObject {
  const { host, className, tlsSecretName } = options.register.ingress;
  return {
    apiVersion: 'networking.k8s.io/v1',
    kind: 'Ingress',
    metadata: structuredClone(metadata),
    spec: {
      ...(className !== '' ? { ingressClassName: className } : {}),
      ...(tlsSecretName !== '' ? { tls: [{ hosts: [host], secretName: tlsSecretName }] } : {}),
      rules: [
        {
          host,
          http: { paths: [{ path: '/', pathType: 'Prefix', backend: { service: { name: REGISTER_NAME, port: { name: 'http' } } } }] },
        },
      ],
    },
  };
}

/** Where the public reaches the register once installed: its Ingress URL, or undefined when no host is set. */
export function registerUrl(options: OperatorInstallOptions): string | undefined {
  const { host, tlsSecretName } = options.register.ingress;
  return host === '' ? undefined : `${tlsSecretName === '' ? 'http' : 'https'}://${host}/`;
}
