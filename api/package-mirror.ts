// What a site's package mirror serves: one index URL per package ecosystem. Each must be on the
// mirror itself (https, its host, a port it opens), so a tool pointed at it can reach nothing
// the enclave's network policy does not already allow.
import { z } from 'zod';

/** The package ecosystems a mirror can serve, in the order their tools are configured. */
export const ECOSYSTEMS = ['pypi', 'conda', 'cran', 'npm'] as const;

/** One package ecosystem: PyPI (pip), conda, CRAN (R) or npm. */
export type Ecosystem = (typeof ECOSYSTEMS)[number];

/** A mirror's index URL per ecosystem; each is optional (a mirror need not serve them all). */
export const mirrorIndexes = z
  .object({
    pypi: z.string().optional().describe('PyPI "simple" index for pip (PIP_INDEX_URL), e.g. https://nexus.example.nhs.uk/repository/pypi/simple.'),
    conda: z.string().optional().describe('conda channel, e.g. https://nexus.example.nhs.uk/repository/conda-forge; channels named by their last path segment (an image\'s own conda-forge, -c bioconda) resolve beside it.'),
    cran: z.string().optional().describe('CRAN repository for R (options(repos)), e.g. https://nexus.example.nhs.uk/repository/cran.'),
    npm: z.string().optional().describe('npm registry (NPM_CONFIG_REGISTRY), e.g. https://nexus.example.nhs.uk/repository/npm/.'),
  })
  .strict();

/** The fields of a package mirror the index URLs are checked against. */
interface MirrorShape {
  name: string;
  host?: string | undefined;
  ports: readonly { port: number; protocol: string }[];
  indexes?: Partial<Record<Ecosystem, string | undefined>> | undefined;
}

/** Why `value` cannot be the mirror's `ecosystem` index, or undefined when it can. */
function indexProblem(value: string, ecosystem: Ecosystem, host: string, ports: readonly number[]): string | undefined {
  let url: URL;
  try {
    url = new URL(value);
  } catch {
    return `must be an absolute URL on the mirror, such as "https://${host}/repository/${ecosystem}", found "${value}"`;
  }
  if (url.protocol !== 'https:') return `must use https, found "${url.protocol.slice(0, -1)}"`;
  // Every pod of the enclave reads the rendered configuration: it is no place for a password.
  if (url.username !== '' || url.password !== '') return 'must not carry credentials (user:password@)';
  if (url.hostname !== host.toLowerCase()) return `must be on the mirror's host "${host}", found "${url.hostname}": the enclave's network policy allows only the mirror`;
  const port = url.port === '' ? 443 : Number(url.port);
  if (!ports.includes(port)) return `uses port ${port}, which the mirror does not open (TCP ${ports.join(', ') || 'none'}): the enclave's network policy would block it`;
  if (url.search !== '' || url.hash !== '') return 'must not have a query or a fragment: it is the base URL of an index';
  // Written as a URL parser writes it back, the value is safe to place in YAML, R and env as is.
  if (url.href !== value && url.href !== `${value}/`) return `must be written as "${url.href}"`;
  if (ecosystem === 'conda' && url.pathname.replace(/\/+$/, '') === '') return 'must name a channel: https://<host>/<path>/<channel>, such as .../repository/conda-forge';
  return undefined;
}

/**
 * Refines one package mirror: every index URL is https on the mirror's host and one of its TCP
 * ports, without credentials, query or fragment, in its normal written form; a mirror with index
 * URLs names its host. Each problem names its field.
 */
export function checkMirrorIndexes(mirror: MirrorShape, ctx: z.RefinementCtx): void {
  const named = ECOSYSTEMS.filter((e) => mirror.indexes?.[e] !== undefined);
  if (named.length === 0) return;
  if (mirror.host === undefined) {
    ctx.addIssue({ code: 'custom', path: ['host'], message: `required when the mirror has index URLs (${named.join(', ')}): they must be on its host` });
    return;
  }
  const ports = mirror.ports.filter((p) => p.protocol === 'TCP').map((p) => p.port);
  for (const ecosystem of named) {
    const message = indexProblem(mirror.indexes?.[ecosystem] ?? '', ecosystem, mirror.host, ports);
    if (message !== undefined) ctx.addIssue({ code: 'custom', path: ['indexes', ecosystem], message });
  }
}

/** Refines the list of package mirrors: at most one serves each ecosystem, since a tool is pointed at one index. */
export function oneMirrorPerEcosystem(mirrors: readonly MirrorShape[], ctx: z.RefinementCtx): void {
  for (const ecosystem of ECOSYSTEMS) {
    const serving = mirrors.map((m, i) => ({ m, i })).filter(({ m }) => m.indexes?.[ecosystem] !== undefined);
    const first = serving[0];
    for (const { i } of serving.slice(1)) {
      ctx.addIssue({ code: 'custom', path: [i, 'indexes', ecosystem], message: `${ecosystem} is already served by mirror "${first?.m.name ?? ''}": a tool is pointed at one index` });
    }
  }
}
