// A site's package-mirror index URLs: accepted only where the enclave's network policy lets a
// tool reach them (https on the mirror's host and port), refused otherwise naming the field.
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { checkDocument } from '../../api/problems.ts';

const uclh = parse(readFileSync(new URL('../../examples/site-uclh.yaml', import.meta.url), 'utf8')) as Record<string, unknown>;
const nexus = { name: 'nexus', host: 'nexus.sde.uclh.nhs.uk', cidr: '10.40.1.10/32', ports: [{ port: 443 }] };

function check(packageMirrors: unknown[]) {
  return checkDocument({ source: 'site.yaml', index: 1, content: { ...uclh, packageMirrors } });
}

describe('SiteConfig packageMirrors[].indexes', () => {
  it.each([
    ['the UCLH example', (uclh.packageMirrors as unknown[])],
    ['a mirror without indexes', [nexus]],
    ['an index on another port the mirror opens', [{ ...nexus, ports: [{ port: 443 }, { port: 8443 }], indexes: { pypi: 'https://nexus.sde.uclh.nhs.uk:8443/repository/pypi/simple' } }]],
    ['two mirrors serving different ecosystems', [{ ...nexus, indexes: { pypi: 'https://nexus.sde.uclh.nhs.uk/repository/pypi/simple' } }, { ...nexus, name: 'cran', host: 'cran.sde.uclh.nhs.uk', indexes: { cran: 'https://cran.sde.uclh.nhs.uk/' } }]],
  ])('accepts %s', (_what, mirrors) => {
    expect(check(mirrors)).toMatchObject({ ok: true });
  });

  it.each([
    ['plain http', { pypi: 'http://nexus.sde.uclh.nhs.uk/repository/pypi/simple' }, 'indexes.pypi', 'must use https, found "http"'],
    ['the public index', { pypi: 'https://pypi.org/simple' }, 'indexes.pypi', 'must be on the mirror\'s host "nexus.sde.uclh.nhs.uk", found "pypi.org"'],
    ['a port the mirror does not open', { npm: 'https://nexus.sde.uclh.nhs.uk:8081/repository/npm/' }, 'indexes.npm', 'uses port 8081, which the mirror does not open (TCP 443)'],
    ['credentials', { cran: 'https://reader:secret@nexus.sde.uclh.nhs.uk/repository/cran' }, 'indexes.cran', 'must not carry credentials'],
    ['a query', { pypi: 'https://nexus.sde.uclh.nhs.uk/repository/pypi/simple?x=1' }, 'indexes.pypi', 'must not have a query or a fragment'],
    ['a form the tools may read differently', { cran: 'https://NEXUS.sde.uclh.nhs.uk/repository/cran' }, 'indexes.cran', 'must be written as "https://nexus.sde.uclh.nhs.uk/repository/cran"'],
    ['a relative path', { pypi: '/repository/pypi/simple' }, 'indexes.pypi', 'must be an absolute URL on the mirror'],
    ['a conda index naming no channel', { conda: 'https://nexus.sde.uclh.nhs.uk/' }, 'indexes.conda', 'must name a channel'],
    ['an unknown ecosystem', { pip: 'https://nexus.sde.uclh.nhs.uk/repository/pypi/simple' }, 'indexes', 'unknown field(s) "pip"'],
  ])('refuses %s, naming the field', (_what, indexes, field, message) => {
    const result = check([{ ...nexus, indexes }]);
    expect(result).toMatchObject({ ok: false, problems: [{ path: `packageMirrors[0].${field}`, message: expect.stringContaining(message) }] });
  });

  it('refuses index URLs on a mirror that names no host, naming the host', () => {
    const { host: _host, ...hostless } = nexus;
    expect(check([{ ...hostless, indexes: { pypi: 'https://nexus.sde.uclh.nhs.uk/repository/pypi/simple' } }])).toMatchObject({
      ok: false,
      problems: [{ path: 'packageMirrors[0].host', message: 'required when the mirror has index URLs (pypi): they must be on its host' }],
    });
  });

  it('refuses a second mirror for an ecosystem another already serves', () => {
    const other = { ...nexus, name: 'backup', host: 'nexus2.sde.uclh.nhs.uk', cidr: '10.40.1.11/32', indexes: { pypi: 'https://nexus2.sde.uclh.nhs.uk/repository/pypi/simple' } };
    expect(check([{ ...nexus, indexes: { pypi: 'https://nexus.sde.uclh.nhs.uk/repository/pypi/simple' } }, other])).toMatchObject({
      ok: false,
      problems: [{ path: 'packageMirrors[1].indexes.pypi', message: 'pypi is already served by mirror "nexus": a tool is pointed at one index' }],
    });
  });
});
