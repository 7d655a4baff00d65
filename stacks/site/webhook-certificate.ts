// The admission webhooks' certificate for a site stack: a CA of the stack's own, trusted by the
// webhook configurations and nothing else, and the serving certificate it signs for the webhook
// Service's name. The tls provider makes them and the stack's state keeps them (the key encrypted),
// so a `pulumi up` changes them only when one is due for renewal.
import * as pulumi from '@pulumi/pulumi';
import * as tls from '@pulumi/tls';
import { WEBHOOK_CA_NAME, WEBHOOK_CERTIFICATE_DAYS, WEBHOOK_RENEWAL_DAYS, webhookDnsName, type WebhookCertificate } from '../../constructs/install/admission.ts';

const hours = (days: number) => days * 24;

/** The certificate as the stack's outputs: all of it (secret, for it holds the serving key) and the CA alone (public). */
export interface DeclaredWebhookCertificate {
  certificate: pulumi.Output<WebhookCertificate>;
  caPem: pulumi.Output<string>;
}

/**
 * Declares a CA (RSA 2048, valid WEBHOOK_CERTIFICATE_DAYS.ca) and a serving certificate it signs
 * for exactly `sde-operator-webhook.<namespace>.svc` (valid WEBHOOK_CERTIFICATE_DAYS.serving).
 * A `pulumi up` within WEBHOOK_RENEWAL_DAYS of either's end replaces it; renewing the serving
 * certificate alone keeps the CA, so the webhook configurations' caBundle does not change.
 */
export function declareWebhookCertificate(namespace: string): DeclaredWebhookCertificate {
  const caKey = new tls.PrivateKey('sde-operator-webhook-ca', { algorithm: 'RSA', rsaBits: 2048 });
  const ca = new tls.SelfSignedCert('sde-operator-webhook-ca', {
    privateKeyPem: caKey.privateKeyPem,
    isCaCertificate: true,
    subject: { commonName: WEBHOOK_CA_NAME },
    validityPeriodHours: hours(WEBHOOK_CERTIFICATE_DAYS.ca),
    earlyRenewalHours: hours(WEBHOOK_RENEWAL_DAYS),
    allowedUses: ['cert_signing', 'crl_signing'],
  });
  const key = new tls.PrivateKey('sde-operator-webhook', { algorithm: 'RSA', rsaBits: 2048 });
  const name = webhookDnsName(namespace);
  const request = new tls.CertRequest('sde-operator-webhook', { privateKeyPem: key.privateKeyPem, subject: { commonName: name }, dnsNames: [name] });
  const serving = new tls.LocallySignedCert('sde-operator-webhook', {
    certRequestPem: request.certRequestPem,
    caPrivateKeyPem: caKey.privateKeyPem,
    caCertPem: ca.certPem,
    validityPeriodHours: hours(WEBHOOK_CERTIFICATE_DAYS.serving),
    earlyRenewalHours: hours(WEBHOOK_RENEWAL_DAYS),
    allowedUses: ['digital_signature', 'key_encipherment', 'server_auth'],
  });
  return {
    certificate: pulumi.secret(pulumi.all([ca.certPem, serving.certPem, key.privateKeyPem]).apply(([caPem, certPem, keyPem]): WebhookCertificate => ({ caPem, certPem, keyPem }))),
    caPem: ca.certPem,
  };
}
