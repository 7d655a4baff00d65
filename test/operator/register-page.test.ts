// The public register page in a real headless Chromium (Debian's, driven by playwright-core), as a
// visitor meets it: served by the operator on the local Kubernetes, read by accessible role and
// name with JavaScript off, an expired and a deleted project still listed, no member named, and
// the same text with its style sheet removed. Skipped, saying so, where /usr/bin/chromium is absent.
import { existsSync } from 'node:fs';
import { chromium, type Browser } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { REGISTER_LISTENER } from '../../operator/data-use-register/index.ts';
import { startTestSite } from './harness.ts';
import type { TestSite } from './harness.ts';
import { daysFromNow, memberIdentities, publishedProjects, REGISTER_NAMESPACE, registerEnclave } from './register-fixtures.ts';

const CHROMIUM = '/usr/bin/chromium';
const hasChromium = existsSync(CHROMIUM);
if (!hasChromium) console.warn(`register page test skipped: no Chromium at ${CHROMIUM} (apt-get install -y chromium; .ci/run installs it)`);

const ARGS = ['--no-sandbox', '--headless', '--disable-gpu', '--disable-background-networking', '--disable-component-update', '--disable-sync', '--no-first-run'];

const enclaves = [
  registerEnclave('cardiac-mri', 'SDE-2026-0042', 'Deep learning for cardiac MRI outcome prediction', { validFrom: daysFromNow(-30), expiresAt: daysFromNow(365) }),
  registerEnclave('sepsis-2025', 'SDE-2025-0007', 'Early warning of sepsis from ward observations', {
    validFrom: daysFromNow(-400),
    expiresAt: daysFromNow(-40),
    extensions: [{ until: daysFromNow(-10), justification: 'Reviewers asked for a validation cohort', approvedBy: 'UCLH Data Access Committee' }],
  }),
  registerEnclave('retired-pilot', 'SDE-2026-0051', 'Pilot of imaging de-identification', { expiresAt: daysFromNow(200) }),
];

describe.skipIf(!hasChromium)('the register page in Chromium', () => {
  let site: TestSite;
  let browser: Browser;
  let url: string;

  beforeAll(async () => {
    site = await startTestSite();
    await site.apply([{ apiVersion: 'v1', kind: 'Namespace', metadata: { name: REGISTER_NAMESPACE } }]);
    const operator = await site.startOperator({ register: { namespace: REGISTER_NAMESPACE, port: 0, host: '127.0.0.1' } });
    url = `http://127.0.0.1:${operator.portOf(REGISTER_LISTENER)}/`;
    await site.apply(enclaves);
    await site.waitFor('three projects on record', async () => (await publishedProjects(url.slice(0, -1))).length === 3);
    await site.client.delete({ apiVersion: 'sde.london/v1alpha1', kind: 'Enclave', metadata: { name: 'retired-pilot' } });
    await site.waitFor('the deleted project closed', async () => (await publishedProjects(url.slice(0, -1))).some((p) => p.status === 'closed'));
    browser = await chromium.launch({ executablePath: CHROMIUM, args: ARGS });
  }, 60_000);
  afterAll(async () => {
    await browser?.close();
    await site?.close();
  });

  it('shows, with JavaScript off, a table named by its caption with every project as a row headed by its id', async () => {
    const context = await browser.newContext({ javaScriptEnabled: false });
    const page = await context.newPage();
    const problems: string[] = [];
    page.on('console', (message) => {
      if (message.type() === 'error') problems.push(message.text());
    });
    const response = await page.goto(url);
    expect(response?.status()).toBe(200);
    expect(await page.title()).toBe('Data use register: University College London Hospitals NHS Foundation Trust');
    expect(await page.locator('html').getAttribute('lang')).toBe('en-GB');
    await expect.poll(() => page.getByRole('heading', { level: 1 }).textContent()).toBe('Data use register: University College London Hospitals NHS Foundation Trust');

    const table = page.getByRole('table', { name: /^Projects approved at University College London Hospitals NHS Foundation Trust, as of .* \(3 projects\)$/ });
    expect(await table.count()).toBe(1);
    expect(await table.getByRole('columnheader').allTextContents()).toEqual(['Project', 'Title', 'Organisation', 'Purpose', 'Approved by', 'Datasets', 'Access period', 'Extensions', 'Status']);
    expect(await table.getByRole('rowheader').allTextContents()).toEqual(['SDE-2025-0007', 'SDE-2026-0042', 'SDE-2026-0051']);

    const expired = table.getByRole('row', { name: /SDE-2025-0007/ });
    expect(await expired.getByRole('cell').last().textContent()).toBe('Ended');
    expect(await expired.getByRole('cell').nth(6).textContent()).toContain('Reviewers asked for a validation cohort');
    expect(await table.getByRole('row', { name: /SDE-2026-0042/ }).getByRole('cell').last().textContent()).toBe('Active');
    expect(await table.getByRole('row', { name: /SDE-2026-0051/ }).getByRole('cell').last().textContent()).toMatch(/^Closed before its end; environment removed on \d{1,2} [A-Z][a-z]+ \d{4}$/);

    expect(await page.getByRole('link', { name: 'CSV' }).getAttribute('href')).toBe('register.csv');
    expect(await page.getByRole('link', { name: 'JSON' }).getAttribute('href')).toBe('register.json');
    expect(await page.locator('script').count()).toBe(0);
    // The Content-Security-Policy admits the page's own style sheet (a wrong hash would be a console error).
    expect(problems).toEqual([]);
    await context.close();
  });

  it('gives assistive technology the table\'s structure', async () => {
    const page = await browser.newPage();
    await page.goto(url);
    const tree = await page.getByRole('table').ariaSnapshot();
    expect(tree).toMatch(/^- table "Projects approved at University College London Hospitals NHS Foundation Trust, as of/);
    expect(tree).toContain('- columnheader "Access period"');
    expect(tree).toContain('- rowheader "SDE-2025-0007"');
    await page.close();
  });

  it('reads the same without its style sheet, and names no member anywhere', async () => {
    const page = await browser.newPage();
    await page.goto(url);
    const styled = await page.locator('main').innerText();
    // Browser-side code as text: the project's type check knows Node, not the DOM.
    const border = (): Promise<unknown> => page.evaluate("getComputedStyle(document.querySelector('th')).borderTopStyle");
    expect(await border()).toBe('solid');
    await page.evaluate("document.querySelectorAll('style').forEach((style) => style.remove())");
    expect(await border()).toBe('none');
    expect(await page.locator('main').innerText()).toBe(styled);
    const everything = `${await page.content()}\n${styled}`;
    for (const identity of memberIdentities(enclaves)) expect(everything).not.toContain(identity);
    await page.close();
  });
});
