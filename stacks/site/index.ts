// The `sde-site` Pulumi program: `pulumi up -s <trust>` stands up that trust's SDE site.
// Config is validated before any resource is declared; a bad key fails the run by name.
import * as pulumi from '@pulumi/pulumi';
import { WEBHOOK_SERVICE_PORT, webhookDnsName } from '../../constructs/install/admission.ts';
import { REGISTER_NAME, REGISTER_SERVICE_PORT, registerUrl as publicRegisterUrl } from '../../constructs/install/register.ts';
import { readStackConfig, siteConfigOf } from './config.ts';
import { declareSite } from './site.ts';

const config = readStackConfig(pulumi.runtime.allConfig());
const declared = declareSite(config);

/** The trust this stack is for. */
export const site = config.site;
/** Namespace the operator runs in. */
export const operatorNamespace = config.operator.namespace;
/** DGX nodes this stack labels and taints. */
export const gpuNodes = declared.nodes.map((n) => n.metadata.name);
/** GPU products the pool offers, as workspaces may request them. */
export const gpuProducts = siteConfigOf(config).gpuPool.products;
/** The public data use register inside the cluster, for the site's ingress controller. */
export const registerService = `${REGISTER_NAME}.${config.operator.namespace}.svc:${REGISTER_SERVICE_PORT}`;
/** The register's public URL, when the stack publishes it through an Ingress (sde:operator.register.ingress.host). */
export const registerUrl = publicRegisterUrl(config.operator);
/** The admission webhooks' Service, as the API server calls it; undefined when they are off (sde:operator.webhook.enabled). */
export const webhookService = config.operator.webhook.enabled ? `${webhookDnsName(config.operator.namespace)}:${WEBHOOK_SERVICE_PORT}` : undefined;
