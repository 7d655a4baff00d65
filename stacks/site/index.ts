// The `sde-site` Pulumi program: `pulumi up -s <trust>` stands up that trust's SDE site.
// Config is validated before any resource is declared; a bad key fails the run by name.
import * as pulumi from '@pulumi/pulumi';
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
