// Browser checks of the page editor, as a member of staff uses it: an
// editor opens a page from the pages list, types, sees the preview change,
// makes a mistake and finds it by its line, fixes it, saves, and the
// public page shows the change; a save from a tab opened before someone
// else's save gets the side-by-side view; history compares and puts a
// version back; the whole flow from the keyboard alone; the editor with
// JavaScript off; axe-core on every editor view at phone and desktop size.
//
// One server (on a copy of the content, which the tests change) and one
// browser for the whole file. The tests build on each other and node:test
// runs them in order.

import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { cpSync, mkdirSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, before, test } from 'node:test';

import {
  REPO_ROOT,
  VIEWPORTS,
  formatViolations,
  launchBrowser,
  pathOf,
  runAxe,
  startServer,
  watchForCspViolations,
  watchForProblems,
  withPage,
} from './helpers.mjs';

const SHOTS_DIR = '/tmp/e2e-shots';
const EDITOR = { username: 'nina', name: 'Nina Park', password: 'saffron glacier tumble 63' };
const PAGE_FILE = 'dry-needling/safety.md';
const EDITOR_PATH = '/admin/pages/dry-needling/safety';
const PUBLIC_PATH = '/dry-needling/safety/';
const PAGE_TITLE = 'Is Dry Needling Safe?';

let server;
let browser;
let content;

const url = (pathname) => new URL(pathname, server.url).href;
const bin = () => process.env.CLINIC_BIN || path.join(REPO_ROOT, 'target', 'debug', 'clinic-site');
const fileText = () => readFileSync(path.join(content, PAGE_FILE), 'utf8');

before(async () => {
  content = mkdtempSync(path.join(os.tmpdir(), 'clinic-site-content-'));
  cpSync(path.join(REPO_ROOT, 'content'), content, { recursive: true });
  server = await startServer({ content });
  const args = ['staff', 'add', EDITOR.username, '--name', EDITOR.name, '--role', 'editor', '--data', server.dataDir];
  const add = spawnSync(bin(), args, { input: `${EDITOR.password}\n`, encoding: 'utf8', timeout: 30_000 });
  assert.equal(add.status, 0, `clinic-site staff add failed (${add.status}):\n${add.stdout}\n${add.stderr}`);
  browser = await launchBrowser();
  mkdirSync(SHOTS_DIR, { recursive: true });
});

after(async () => {
  await browser?.close();
  await server?.stop();
  if (content) rmSync(content, { recursive: true, force: true });
});

// ---------------------------------------------------------------------------
// Helpers

async function open(page, pathname, status = 200) {
  const response = await page.goto(url(pathname));
  assert.equal(response.status(), status, `${pathname} answered ${response.status()}, not ${status}`);
  return response;
}

/** Clicks a submit button (or presses Enter on it, with `key`) and returns the POST's own status and location. */
async function submit(page, button, { key = false } = {}) {
  const posted = page.waitForRequest((req) => req.method() === 'POST' && req.isNavigationRequest() && req.frame() === page.mainFrame());
  await Promise.all([page.waitForEvent('load'), key ? button.press('Enter') : button.click()]);
  const response = await (await posted).response();
  return { status: response.status(), location: response.headers().location ?? null };
}

async function signIn(page) {
  await open(page, '/admin/login');
  await page.locator('#username').fill(EDITOR.username);
  await page.locator('#password').fill(EDITOR.password);
  const post = await submit(page, page.getByRole('button', { name: 'Sign in', exact: true }));
  assert.equal(post.status, 303, `signing in answered ${post.status}`);
}

/** The preview's sandbox stops the page's own scripts; Chromium says so in the console, which is not a problem of ours. */
function problemsOf(watch) {
  return watch().filter((p) => !p.includes("about:srcdoc"));
}

/** The text box's cursor as the file's line number. */
async function cursorLine(page) {
  return page.locator('#page-text').evaluate((box) => Number(box.dataset.firstLine) + box.value.slice(0, box.selectionStart).split('\n').length - 1);
}

/** Puts the cursor at the end of the first line of the text box that contains `text`. */
async function cursorAfter(page, text) {
  await page.locator('#page-text').evaluate((box, wanted) => {
    const at = box.value.indexOf(wanted);
    if (at < 0) throw new Error(`"${wanted}" is not in the text`);
    const end = box.value.indexOf('\n', at);
    box.focus();
    box.setSelectionRange(end, end);
  }, text);
}

async function expectAxeClean(page, what) {
  // The preview frame's page is the public page, which pages.test.mjs
  // checks; the frame itself must still be named.
  const frames = page.locator('#preview-frame');
  for (let i = 0; i < (await frames.count()); i++) {
    assert.ok((await frames.nth(i).getAttribute('title'))?.trim(), `the preview frame on ${what} has a title`);
  }
  const results = await runAxe(page, { exclude: ['#preview-frame'] });
  assert.deepEqual(results.violations.map((v) => v.id), [], `axe violations on ${what}:\n${formatViolations(results.violations)}`);
}

async function noWiderThanTheScreen(page, what) {
  const { scroll, client } = await page.evaluate(() => ({ scroll: document.documentElement.scrollWidth, client: document.documentElement.clientWidth }));
  assert.ok(scroll <= client, `${what} is ${scroll}px wide on a ${client}px screen`);
}

// ---------------------------------------------------------------------------

test('an editor changes a sentence, finds a mistake by its line, fixes it, saves, and readers see it', async () => {
  await withPage(browser, VIEWPORTS.desktop, async (page) => {
    const problems = watchForProblems(page);
    const csp = await watchForCspViolations(page);
    await signIn(page);
    await open(page, '/admin/pages');
    await Promise.all([page.waitForEvent('load'), page.getByRole('link', { name: `${PAGE_TITLE} (edit)` }).click()]);
    assert.equal(pathOf(page), EDITOR_PATH);
    const preview = page.frameLocator('#preview-frame');
    await preview.getByRole('heading', { level: 1, name: PAGE_TITLE }).waitFor();

    // Typing: the preview follows, within a second or so of stopping.
    await cursorAfter(page, '- Mild bruising');
    await page.keyboard.type(' that fades within a week');
    await preview.getByText('Mild bruising that fades within a week').waitFor({ timeout: 5_000 });

    // A mistake: a link to a page that does not exist.
    await cursorAfter(page, '## Possible Side Effects');
    await page.keyboard.press('Enter');
    await page.keyboard.press('Enter');
    await page.keyboard.type('Read [our leaflet](/no-such-leaflet/) first.');
    const problem = page.locator('.problems li', { hasText: '/no-such-leaflet/' });
    await problem.waitFor({ timeout: 5_000 });
    const text = (await problem.innerText()).replace(/\s+/g, ' ');
    const line = fileText().split('\n').indexOf('## Possible Side Effects') + 3;
    assert.ok(text.startsWith(`Error Line ${line}`), `the problem says "${text}", expected line ${line}`);
    await page.screenshot({ path: path.join(SHOTS_DIR, 'editor-problem-desktop.png'), fullPage: false });

    // Clicking the problem puts the cursor on its line.
    await page.locator('#page-text').evaluate((box) => box.setSelectionRange(0, 0));
    await problem.getByRole('link').click();
    assert.equal(await page.evaluate(() => document.activeElement.id), 'page-text');
    assert.equal(await cursorLine(page), line);

    // Fixed: the sentence goes, and so does the problem.
    await page.locator('#page-text').evaluate((box) => {
      box.value = box.value.replace('\nRead [our leaflet](/no-such-leaflet/) first.\n', '');
      box.dispatchEvent(new Event('input', { bubbles: true }));
    });
    await problem.waitFor({ state: 'detached', timeout: 5_000 });
    assert.equal(await page.locator('.problems li.problem-error').count(), 0);

    const saved = await submit(page, page.getByRole('button', { name: 'Save and publish' }));
    assert.equal(saved.status, 303);
    assert.match(await page.getByRole('status').first().innerText(), /on the live site now/);
    assert.match(fileText(), /- Mild bruising that fades within a week\n/);
    await open(page, PUBLIC_PATH);
    await page.getByText('Mild bruising that fades within a week').waitFor();
    assert.deepEqual(problemsOf(problems), []);
    assert.deepEqual(csp(), []);
  });
});

test('a save from a tab opened before another save shows both texts side by side, and the merged text saves', async () => {
  await withPage(browser, VIEWPORTS.desktop, async (page, context) => {
    await signIn(page);
    await open(page, EDITOR_PATH);
    const other = await context.newPage();
    await other.goto(url(EDITOR_PATH));
    // The other tab saves first: a new title.
    await other.locator('#field-title').fill('Is Dry Needling Safe for Me?');
    assert.equal((await submit(other, other.getByRole('button', { name: 'Save and publish' }))).status, 303);
    // This tab, opened before, changes the text.
    await cursorAfter(page, '- Temporary soreness in the treated area');
    await page.keyboard.type(' for a day or two');
    const refused = await submit(page, page.getByRole('button', { name: 'Save and publish' }));
    assert.equal(refused.status, 409);
    await expectAxeClean(page, 'the conflict view');
    await page.screenshot({ path: path.join(SHOTS_DIR, 'editor-conflict-desktop.png'), fullPage: true });
    const mine = page.locator('.conflict-columns > div').first();
    const theirs = page.locator('.conflict-columns > div').last();
    assert.match(await mine.locator('ins').allInnerTexts().then((t) => t.join(' ')), /for a day or two/);
    assert.match(await theirs.locator('del').allInnerTexts().then((t) => t.join(' ')), /for Me/);
    assert.ok(!fileText().includes('for a day or two'), 'nothing was overwritten');
    // Copy the page's text in, then add the sentence again, and save.
    await theirs.getByRole('button', { name: "Put the page's text in the box below" }).click();
    const box = page.locator('#whole-text');
    assert.ok((await box.inputValue()).includes('Safe for Me?'));
    await box.evaluate((b) => {
      b.value = b.value.replace('- Temporary soreness in the treated area', '- Temporary soreness in the treated area for a day or two');
      b.dispatchEvent(new Event('input', { bubbles: true }));
    });
    assert.equal((await submit(page, page.getByRole('button', { name: 'Save and publish' }))).status, 303);
    const now = fileText();
    assert.ok(now.includes('Safe for Me?') && now.includes('for a day or two'), 'both changes are in the file');
  });
});

test('history compares two versions word by word and puts an earlier one back', async () => {
  await withPage(browser, VIEWPORTS.desktop, async (page) => {
    await signIn(page);
    await open(page, `${EDITOR_PATH}/history`);
    const rows = page.locator('.admin-table tbody tr');
    assert.ok((await rows.count()) >= 3, 'the start, two saves and a draft');
    // Compare the oldest version with the newest.
    const versions = await page.locator('select[name="from"] option').evaluateAll((options) => options.map((o) => o.value));
    await page.locator('select[name="from"]').selectOption(versions[versions.length - 1]);
    await page.locator('select[name="to"]').selectOption(versions[0]);
    await Promise.all([page.waitForEvent('load'), page.getByRole('button', { name: 'Compare' }).click()]);
    assert.match(await page.locator('.word-diff ins').allInnerTexts().then((t) => t.join(' ')), /fades within a week/);
    // Put the first version back.
    const oldest = page.locator('.admin-table tbody tr').last();
    const restored = await submit(page, oldest.getByRole('button', { name: /Put this version back/ }));
    assert.equal(restored.status, 303);
    assert.ok(!fileText().includes('fades within a week'), 'the first version is back');
    await open(page, PUBLIC_PATH);
    assert.equal(await page.getByText('Mild bruising that fades within a week').count(), 0);
  });
});

test('the whole edit works from the keyboard alone', async () => {
  await withPage(browser, VIEWPORTS.desktop, async (page) => {
    await open(page, '/admin/login');
    await page.keyboard.press('Tab'); // skip link
    await page.locator('#username').focus();
    await page.keyboard.type(EDITOR.username);
    await page.keyboard.press('Tab');
    await page.keyboard.type(EDITOR.password);
    await Promise.all([page.waitForEvent('load'), page.keyboard.press('Enter')]);
    await open(page, '/admin/pages');
    // Tab to the page's edit link and follow it.
    const link = page.getByRole('link', { name: `${PAGE_TITLE} (edit)` });
    let steps = 0;
    while (!(await link.evaluate((a) => a === document.activeElement)) && steps++ < 60) await page.keyboard.press('Tab');
    assert.ok(steps < 60, 'the edit link is reachable with Tab');
    await Promise.all([page.waitForEvent('load'), page.keyboard.press('Enter')]);
    assert.equal(pathOf(page), EDITOR_PATH);
    // Tab to the text box, through the settings and the toolbar (one stop).
    steps = 0;
    while ((await page.evaluate(() => document.activeElement.id)) !== 'page-text' && steps++ < 40) await page.keyboard.press('Tab');
    assert.ok(steps < 40, 'the text box is reachable with Tab');
    const outline = await page.locator('#page-text').evaluate((box) => getComputedStyle(box).outlineStyle);
    assert.notEqual(outline, 'none', 'the focused text box shows where focus is');
    await page.keyboard.press('Control+End');
    await page.keyboard.type('\nAsk us anything at your next visit.\n');
    // On to the save button, and save.
    steps = 0;
    while ((await page.evaluate(() => document.activeElement.textContent)) !== 'Save and publish' && steps++ < 20) await page.keyboard.press('Tab');
    assert.ok(steps < 20, 'the save button is reachable with Tab');
    const saved = await submit(page, page.getByRole('button', { name: 'Save and publish' }), { key: true });
    assert.equal(saved.status, 303);
    assert.match(fileText(), /Ask us anything at your next visit\.\n$/);
  });
});

test('with JavaScript off, the Preview button shows the page and saving works', async () => {
  await withPage(browser, { ...VIEWPORTS.phone, javaScriptEnabled: false }, async (page) => {
    await signIn(page);
    await open(page, EDITOR_PATH);
    assert.equal(await page.locator('.toolbar').isVisible(), false, 'the toolbar needs JavaScript, so it stays hidden');
    const box = page.locator('#page-text');
    await box.fill((await box.inputValue()).replace('- Mild bruising', '- Mild bruising (no script)'));
    const previewed = await submit(page, page.getByRole('button', { name: 'Preview', exact: true }));
    assert.equal(previewed.status, 200);
    const srcdoc = await page.locator('#preview-frame').getAttribute('srcdoc');
    assert.ok(srcdoc.includes('Mild bruising (no script)'), 'the preview shows the typed text');
    assert.ok(!fileText().includes('(no script)'), 'a preview saves nothing');
    assert.ok((await box.inputValue()).includes('(no script)'), 'the text is still in the box');
    await noWiderThanTheScreen(page, 'the editor without JavaScript');
    assert.equal((await submit(page, page.getByRole('button', { name: 'Save and publish' }))).status, 303);
    assert.ok(fileText().includes('- Mild bruising (no script)'));
  });
});

test('every editor view has no axe violations at phone and desktop size', async () => {
  for (const [size, options] of Object.entries(VIEWPORTS)) {
    await withPage(browser, options, async (page) => {
      const problems = watchForProblems(page);
      await signIn(page);
      await open(page, EDITOR_PATH);
      await page.frameLocator('#preview-frame').getByRole('heading', { level: 1 }).waitFor();
      await expectAxeClean(page, `the editor (${size})`);
      await noWiderThanTheScreen(page, `the editor (${size})`);
      await page.screenshot({ path: path.join(SHOTS_DIR, `editor-${size}.png`), fullPage: false });
      // The same with problems listed and plain-English help marked.
      await cursorAfter(page, '## Possible Side Effects');
      await page.keyboard.type('\n\nWe utilise [this](/nowhere/) prior to your visit.');
      await page.locator('.problems li', { hasText: '/nowhere/' }).waitFor({ timeout: 5_000 });
      await page.frameLocator('#preview-frame').locator('mark.plain-word').first().waitFor();
      await expectAxeClean(page, `the editor with problems (${size})`);
      // Saved with the mistake: kept as a draft, the page says why.
      const refused = await submit(page, page.getByRole('button', { name: 'Save and publish' }));
      assert.equal(refused.status, 422);
      await expectAxeClean(page, `the editor after a refused save (${size})`);
      await open(page, `${EDITOR_PATH}?whole=1`);
      await expectAxeClean(page, `the whole-file view (${size})`);
      await noWiderThanTheScreen(page, `the whole-file view (${size})`);
      assert.deepEqual(problemsOf(problems), []);
    });
  }
});
