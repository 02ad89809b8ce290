// Browser checks of the quality report (/admin/quality): an editor (added
// on the command line) signs in and opens it on a phone and a desktop, in
// light and dark colours; axe-core finds nothing, the page never scrolls
// sideways (the wide table scrolls inside its own focusable region), and
// the table lists every page of the seed article in reading order.

import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import path from 'node:path';
import { after, before, test } from 'node:test';

import {
  COLOR_SCHEMES,
  REPO_ROOT,
  VIEWPORTS,
  formatViolations,
  launchBrowser,
  pathOf,
  runAxe,
  startServer,
  watchForProblems,
  withPage,
} from './helpers.mjs';

const EDITOR = { username: 'eli.navarro', name: 'Eli Navarro', password: 'lantern otter quietly 47' };

// The seed article's pages in reading order (content/dry-needling/).
const SEED_PAGES = [
  '/dry-needling/',
  '/dry-needling/migraines/',
  '/dry-needling/chronic-pain/',
  '/dry-needling/what-to-expect/',
  '/dry-needling/who-can-benefit/',
  '/dry-needling/safety/',
  '/dry-needling/right-for-you/',
];

let server;
let browser;

const url = (pathname) => new URL(pathname, server.url).href;
const bin = () => process.env.CLINIC_BIN || path.join(REPO_ROOT, 'target', 'debug', 'clinic-site');

before(async () => {
  server = await startServer();
  const args = ['staff', 'add', EDITOR.username, '--name', EDITOR.name, '--role', 'editor', '--data', server.dataDir];
  const add = spawnSync(bin(), args, { input: `${EDITOR.password}\n`, encoding: 'utf8', timeout: 30_000 });
  assert.equal(add.status, 0, `clinic-site staff add failed (${add.status}):\n${add.stdout}\n${add.stderr}`);
  browser = await launchBrowser();
});

after(async () => {
  await browser?.close();
  await server?.stop();
});

/** Signs in at /admin/login with the form. */
async function signIn(page) {
  await page.goto(url('/admin/login'));
  await page.locator('#username').fill(EDITOR.username);
  await page.locator('#password').fill(EDITOR.password);
  await Promise.all([page.waitForEvent('load'), page.getByRole('button', { name: 'Sign in', exact: true }).click()]);
  assert.equal(pathOf(page), '/admin', `signing in as ${EDITOR.username} ended at ${page.url()}`);
}

for (const [size, viewport] of Object.entries(VIEWPORTS)) {
  for (const colorScheme of COLOR_SCHEMES) {
    test(`the quality report at ${size} size in ${colorScheme} colours is accessible, fits the screen and lists the seed pages`, () =>
      withPage(browser, { ...viewport, colorScheme }, async (page) => {
        const problems = watchForProblems(page);
        await signIn(page);
        await Promise.all([page.waitForEvent('load'), page.locator('nav.admin-nav').getByRole('link', { name: 'Quality', exact: true }).click()]);
        assert.equal(pathOf(page), '/admin/quality');
        assert.equal((await page.locator('h1').textContent()).trim(), 'Quality report');

        const { violations } = await runAxe(page);
        assert.equal(violations.length, 0, `axe found problems on /admin/quality (${size}, ${colorScheme}):\n${formatViolations(violations)}`);

        const { scrollWidth, clientWidth } = await page.evaluate(() => ({
          scrollWidth: document.documentElement.scrollWidth,
          clientWidth: document.documentElement.clientWidth,
        }));
        assert.ok(scrollWidth <= clientWidth, `/admin/quality is ${scrollWidth}px wide on a ${clientWidth}px screen: it scrolls sideways`);

        const region = page.getByRole('region', { name: 'Quality of each page, in reading order' });
        assert.equal(await region.getAttribute('tabindex'), '0', 'the table\'s scroll region cannot be reached from the keyboard');
        const addresses = await page.locator('#quality-table tbody th[scope="row"]').evaluateAll((cells) =>
          cells.map((cell) => cell.textContent.trim().split(/\s+/).pop()));
        assert.deepEqual(addresses, SEED_PAGES, 'the table\'s pages');
        const editLinks = await page.locator('#quality-table tbody th a').count();
        assert.equal(editLinks, SEED_PAGES.length, 'each page title links to its editor');
        assert.deepEqual(problems(), [], `problems on /admin/quality: ${problems().join('\n')}`);
      }));
  }
}
