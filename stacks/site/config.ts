// The site stack's configuration (`sde:*` keys of Pulumi.<trust>.yaml), typed and validated with
// zod before any resource is declared, so a mistake fails the run naming the key at fault.
import { z } from 'zod';
import { enclave } from '../../api/enclave.ts';
import { API_VERSION } from '../../api/meta.ts';
import { checkCatalogueServices } from '../../api/dataset-catalogue.ts';
import { siteConfig, siteConfigFields, type SiteConfig } from '../../api/siteconfig.ts';
import { operatorInstallOptions } from '../../constructs/install/options.ts';

/** The Pulumi config namespace of every key this program reads. */
export const CONFIG_NAMESPACE = 'sde';

/** Pinned GPU Operator chart version; it ships device plugin v0.17.0, the one the plain DaemonSet uses. */
export const GPU_OPERATOR_VERSION = 'v24.9.2';

/**
 * The stack configuration: the site configuration's own keys at top level (site, gpuPool,
 * datasets, dataServices…, checked as the SiteConfig checks them), plus how to reach the cluster,
 * how to install the operator, which GPU stack to run and the enclaves to declare as code.
 */
export const stackConfig = siteConfigFields
  .omit({ apiVersion: true, kind: true })
  .extend({
    kubeconfig: z.string().min(1).optional().describe('Path to, or contents of, the kubeconfig of the trust\'s cluster; default: the ambient KUBECONFIG.'),
    context: z.string().min(1).optional().describe('kubeconfig context to use; default: its current context.'),
    kubernetesVersion: z
      .string()
      .regex(/^v?\d+\.\d+(\.\d+)?$/, { message: 'expected a release like 1.23' })
      .optional()
      .describe('The cluster\'s Kubernetes release when older than 1.28: the CRDs then carry only what it accepts (sde-operator crds --kubernetes-version).'),
    operator: operatorInstallOptions.prefault({}).describe('How the operator is installed (the Helm chart\'s values, minus siteConfig).'),
    gpuSupport: z
      .enum(['device-plugin', 'gpu-operator', 'none'])
      .default('device-plugin')
      .describe('device-plugin: the pinned NVIDIA device plugin DaemonSet; gpu-operator: the NVIDIA GPU Operator Helm release; none: the site provides its own.'),
    gpuOperator: z
      .object({
        version: z.string().min(1).default(GPU_OPERATOR_VERSION),
        namespace: z.string().min(1).default('gpu-operator'),
        repository: z.url().default('https://helm.ngc.nvidia.com/nvidia'),
      })
      .strict()
      .prefault({}),
    enclaves: z.array(enclave).default([]).describe('Enclaves declared as code; each must be for this site.'),
  })
  .strict()
  .superRefine((config, ctx) => {
    checkCatalogueServices(config, ctx);
    config.enclaves.forEach((e, i) => {
      if (e.spec.site !== config.site) {
        ctx.addIssue({ code: 'custom', path: ['enclaves', i, 'spec', 'site'], message: `expected "${config.site}" (this stack's site), found "${e.spec.site}": the operator here would ignore it` });
      }
    });
  });

/** The validated stack configuration. */
export type StackConfig = z.output<typeof stackConfig>;

/** Stack configuration that does not validate; one line per problem, each naming its `sde:` key. */
export class StackConfigError extends Error {
  override readonly name = 'StackConfigError';
  readonly problems: string[];

  constructor(problems: string[]) {
    super(`invalid stack configuration:\n  ${problems.join('\n  ')}`);
    this.problems = problems;
  }
}

/**
 * Validates the stack's raw config (as `pulumi.runtime.allConfig()` returns it: `sde:key` to a
 * string, structured values as JSON). Keys of other namespaces are ignored; unknown `sde:` keys
 * are errors, so a typo cannot silently fall back to a default. Throws {@link StackConfigError}.
 */
export function readStackConfig(raw: Readonly<Record<string, string>>): StackConfig {
  const prefix = `${CONFIG_NAMESPACE}:`;
  const values: Record<string, unknown> = {};
  for (const [key, value] of Object.entries(raw)) {
    if (!key.startsWith(prefix)) continue;
    const name = key.slice(prefix.length);
    values[name] = KEPT_AS_TEXT.has(name) ? value : decode(value);
  }
  const result = stackConfig.safeParse(values, { reportInput: true });
  if (result.success) return result.data;
  throw new StackConfigError(
    result.error.issues.flatMap((issue) =>
      issue.code === 'unrecognized_keys'
        ? issue.keys.map((k) => `${prefix}${formatPath([...issue.path, k])}: unknown key (a typo?)`)
        : [`${prefix}${formatPath(issue.path)}: ${describeIssue(issue)}`],
    ),
  );
}

/** The SiteConfig document the operator reads, built from the stack's site keys. */
export function siteConfigOf(config: StackConfig): SiteConfig {
  const { kubeconfig: _k, context: _c, operator: _o, gpuSupport: _g, gpuOperator: _go, enclaves: _e, ...site } = config;
  return siteConfig.parse({ apiVersion: API_VERSION, kind: 'SiteConfig', ...site });
}

// Pulumi hands every value over as a string; objects, lists, numbers and booleans arrive as JSON.
// Keys whose value is text even when it reads as a number: release 1.20 is not the number 1.2.
const KEPT_AS_TEXT = new Set(['kubernetesVersion']);

function decode(value: string): unknown {
  if (!/^\s*[[{]|^-?[0-9.]+$|^(true|false)$/.test(value)) return value;
  try {
    return JSON.parse(value) as unknown;
  } catch {
    return value;
  }
}

function formatPath(path: readonly PropertyKey[]): string {
  return path.map((p) => String(p)).join('.') || '(root)';
}

function describeIssue(issue: z.core.$ZodIssue): string {
  if (issue.code === 'invalid_type') {
    const article = /^[aeiou]/.test(issue.expected) ? 'an' : 'a';
    return `expected ${article} ${issue.expected}, found ${issue.input === undefined ? 'nothing' : JSON.stringify(issue.input)}`;
  }
  return issue.message;
}
