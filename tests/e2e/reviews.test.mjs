// Browser checks of clinical review: a reviewer (added on the command line
// with their credentials) signs in, finds a never-reviewed page on
// /admin/reviews, reads it on its sign-off page and signs it off with a
// note, and readers then see "Reviewed by <name, credentials> on <date>.
// Next review due <date>."; an editor changes the page in the editor, and
// readers see "Updated ... Last clinical review ..." while the page is back
// in the queue with the words changed; a sign-off sent from a sign-off page
// opened before the page changed again is refused (409) with a clear
// message and the page shown as it is now. axe-core and the page width at
// phone and desktop size on /admin/reviews, the sign-off page (with the
// words changed, and with the refusal) and the public page with the
// reviewed line.
//
// One server (on a copy of the content, which sign-offs and edits write
// to) and one browser for the whole file. The tests build on each other
// and node:test runs a file's tests in order.

import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { cpSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
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

const REVIEWER = { username: 'priya', name: 'Priya Raman', credentials: 'DPT', password: 'copper willow nightly 58' };
const SIGNATURE = `${REVIEWER.name}, ${REVIEWER.credentials}`;
const EDITOR = { username: 'nina', name: 'Nina Park', password: 'saffron glacier tumble 63' };

const PAGE_FILE = 'dry-needling/safety.md';
const PUBLIC_PATH = '/dry-needling/safety/';
const EDITOR_PATH = '/admin/pages/dry-needling/safety';
const SIGN_OFF_PATH = `${EDITOR_PATH}/sign-off`;
const PAGE_TITLE = 'Is Dry Needling Safe?';
const NOTE = 'Checked the side effects against the cited survey.';

const SIGNED_OFF = 'Signed off. Readers now see your review on the page.';
const REFUSED = 'This page was changed after you opened it, so it was not signed off: you must review the text that will be live. It is shown below as it is now. Read it again, then sign off.';

// The editor's change, and the one made while a sign-off page is open.
const EDIT = { from: '- Mild bruising\n', to: '- Mild bruising that fades within a week\n', added: 'that fades within a week' };
const LATE_EDIT = { from: '- Fatigue or dizziness (rare)\n', to: '- Fatigue or dizziness (rare, and brief)\n', added: '(rare, and brief)' };

// How long the watcher may take to notice a changed file and rebuild.
const REBUILD_TIMEOUT_MS = 15_000;

let server;
let browser;
let content;

const url = (pathname) => new URL(pathname, server.url).href;
const bin = () => process.env.CLINIC_BIN || path.join(REPO_ROOT, 'target', 'debug', 'clinic-site');
const pageFile = () => path.join(content, PAGE_FILE);
const fileText = () => readFileSync(pageFile(), 'utf8');

function addStaff(person, role, extra = []) {
  const args = ['staff', 'add', person.username, '--name', person.name, '--role', role, ...extra, '--data', server.dataDir];
  const add = spawnSync(bin(), args, { input: `${person.password}\n`, encoding: 'utf8', timeout: 30_000 });
  assert.equal(add.status, 0, `clinic-site staff add ${person.username} failed (${add.status}):\n${add.stdout}\n${add.stderr}`);
}

before(async () => {
  content = mkdtempSync(path.join(os.tmpdir(), 'clinic-site-content-'));
  cpSync(path.join(REPO_ROOT, 'content'), content, { recursive: true });
  server = await startServer({ content });
  addStaff(REVIEWER, 'reviewer', ['--credentials', REVIEWER.credentials]);
  addStaff(EDITOR, 'editor');
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

/** Clicks a form's submit button and waits for the page that answers; returns the POST's own status and location. */
async function submit(page, button) {
  const posted = page.waitForRequest((req) => req.method() === 'POST' && req.isNavigationRequest() && req.frame() === page.mainFrame());
  await Promise.all([page.waitForEvent('load'), button.click()]);
  const response = await (await posted).response();
  assert.ok(response, 'the form post got no response');
  return { status: response.status(), location: response.headers().location ?? null };
}

/** Text with runs of white space made one space. */
async function textOf(locator) {
  return (await locator.innerText()).replace(/\s+/g, ' ').trim();
}

/** The words in an element, as written (before any style sheet changes their case). */
function wordsOf(locator) {
  return locator.evaluate((el) => el.textContent.replace(/\s+/g, ' ').trim());
}

async function signIn(page, person) {
  await open(page, '/admin/login');
  await page.getByLabel('Username').fill(person.username);
  await page.getByLabel('Password', { exact: true }).fill(person.password);
  const post = await submit(page, page.getByRole('button', { name: 'Sign in', exact: true }));
  assert.equal(post.status, 303, `signing in as ${person.username} answered ${post.status}`);
}

const MONTHS = ['January', 'February', 'March', 'April', 'May', 'June', 'July', 'August', 'September', 'October', 'November', 'December'];

/** A day as { iso: "2026-12-02", long: "2 December 2026" }, in UTC as the server counts days. */
function day(year, month, date) {
  const two = (n) => String(n).padStart(2, '0');
  return { iso: `${year}-${two(month)}-${two(date)}`, long: `${date} ${MONTHS[month - 1]} ${year}` };
}
function today() {
  const now = new Date();
  return day(now.getUTCFullYear(), now.getUTCMonth() + 1, now.getUTCDate());
}
/** The same day a year on, as a review falls due (29 February falls due on 28 February). */
function aYearOn({ iso }) {
  const [y, m, d] = iso.split('-').map(Number);
  return day(y + 1, m, m === 2 && d === 29 ? 28 : d);
}
/** The front matter's `updated` day of the page file. */
function updatedDay() {
  const match = fileText().match(/^updated = (\d{4})-(\d{2})-(\d{2})$/m);
  assert.ok(match, `${PAGE_FILE} has no updated = line`);
  return day(Number(match[1]), Number(match[2]), Number(match[3]));
}

/** The public page's review line, exactly as it reads, and its machine-readable days. */
async function reviewLine(page) {
  const line = page.locator('p.review');
  return { text: await textOf(line), days: await line.locator('time').evaluateAll((times) => times.map((t) => t.getAttribute('datetime'))) };
}

/**
 * Reloads the public page until its review line says `expected` (the site
 * rebuilds after a change). Article pages may be kept by the browser for 5
 * minutes, so each look is a reload, which asks the server whether the
 * page changed.
 */
async function waitForReviewLine(page, expected) {
  const deadline = Date.now() + REBUILD_TIMEOUT_MS;
  let seen;
  if (pathOf(page) !== PUBLIC_PATH) await open(page, PUBLIC_PATH);
  for (;;) {
    await page.reload();
    seen = await reviewLine(page);
    if (seen.text === expected.text || Date.now() > deadline) break;
    await sleep(250);
  }
  assert.deepEqual(seen, expected, `the review line of ${PUBLIC_PATH}`);
}

/** Changes the page file on disk, as a second editor or a text editor on the server would. */
function changeFile({ from, to }) {
  const text = fileText();
  assert.ok(text.includes(from), `${PAGE_FILE} does not contain ${JSON.stringify(from)}`);
  writeFileSync(pageFile(), text.replace(from, to));
}

/** The queue's list under the heading that starts with `heading` ("Never reviewed"), and the count the heading gives. */
async function queueList(page, heading) {
  const h2 = page.getByRole('heading', { level: 2, name: new RegExp(`^${heading} \\(\\d+\\)$`) });
  const count = Number((await h2.textContent()).match(/\((\d+)\)/)[1]);
  // The list (or "None.") is what follows the heading.
  const list = h2.locator('xpath=following-sibling::*[1]');
  return { count, list };
}

/** The "Review and sign off" link of a file in a queue list. */
const signOffLink = (list, file) => list.getByRole('link', { name: new RegExp(`^Review and sign off ?: ${file.replace(/[.]/g, '\\.')}$`) });

/** The words marked as added in a word diff. */
const added = (diff) => diff.locator('ins').evaluateAll((marks) => marks.map((m) => m.textContent.replace(/^\[added: |\]$/g, '').trim()));

/** Opens the editor without JavaScript, changes the page text and saves. */
async function editInEditor(change) {
  await withPage(browser, { ...VIEWPORTS.desktop, javaScriptEnabled: false }, async (page) => {
    await signIn(page, EDITOR);
    await open(page, EDITOR_PATH);
    const box = page.getByRole('textbox', { name: 'Page text' });
    const text = await box.inputValue();
    assert.ok(text.includes(change.from), `the editor's text does not contain ${JSON.stringify(change.from)}`);
    await box.fill(text.replace(change.from, change.to));
    await page.getByRole('textbox', { name: 'What did you change? (optional)' }).fill('Said how long bruising lasts.');
    const saved = await submit(page, page.getByRole('button', { name: 'Save and publish', exact: true }));
    assert.equal(saved.status, 303, `saving in the editor answered ${saved.status}`);
    assert.equal(await textOf(page.getByRole('status').first()), 'Saved. The change is on the live site now. See it on the site.');
  });
  assert.ok(fileText().includes(change.to), 'the editor wrote the change to the file');
}

/** axe-core and the width of the page as it is; returns what is wrong as lines. */
async function layoutAndAxe(page, where) {
  const found = [];
  // The sign-off page shows the page in a frame without scripts, which
  // axe-core cannot run in; the public page it shows is checked on its
  // own here, and the frame must still be named.
  const frames = page.locator('iframe');
  for (const frame of await frames.all()) {
    if (!(await frame.getAttribute('title'))?.trim()) found.push(`a frame on ${where} has no title`);
  }
  const { violations } = await runAxe(page, { exclude: ['iframe'] });
  if (violations.length) found.push(`axe-core violations on ${where}:\n${formatViolations(violations)}`);
  const { scrollWidth, clientWidth } = await page.evaluate(() => ({ scrollWidth: document.documentElement.scrollWidth, clientWidth: document.documentElement.clientWidth }));
  if (scrollWidth > clientWidth) found.push(`${where} is ${scrollWidth}px wide, wider than the ${clientWidth}px screen: it scrolls sideways`);
  return found;
}

/** The preview frame's problems are the public page's, which the pages tests check; a sandbox without scripts says so in the console. */
const ours = (problems) => problems.filter((p) => !p.includes('about:srcdoc'));

// ---------------------------------------------------------------------------
// Tests

const signedOn = today();
const reviewedLine = () => ({
  text: `Reviewed by ${SIGNATURE} on ${signedOn.long}. Next review due ${aYearOn(signedOn).long}.`,
  days: [signedOn.iso, aYearOn(signedOn).iso],
});

test('1. a reviewer finds a never-reviewed page on /admin/reviews, signs it off with a note, and readers see who reviewed it and when the next review is due', () =>
  withPage(browser, VIEWPORTS.desktop, async (page) => {
    const problems = watchForProblems(page);
    const csp = await watchForCspViolations(page);
    await open(page, PUBLIC_PATH);
    assert.ok(!(await textOf(page.locator('p.review'))).startsWith('Reviewed by'), 'the page does not claim a review before one is made');

    await signIn(page, REVIEWER);
    await open(page, '/admin/reviews');
    assert.equal(await textOf(page.getByRole('heading', { level: 1 })), 'Reviews');
    const pageFiles = readdirSync(path.join(content, 'dry-needling')).filter((f) => f.endsWith('.md'));
    const never = await queueList(page, 'Never reviewed');
    assert.equal(never.count, pageFiles.length, 'every page of the article is waiting for its first review');
    assert.equal(await never.list.locator('> li').count(), never.count, 'the heading counts the list');
    const item = never.list.locator('> li', { hasText: `(${PAGE_FILE})` });
    assert.equal(await wordsOf(item.locator('strong')), PAGE_TITLE);
    assert.equal(await textOf(page.getByRole('heading', { level: 2, name: /^Changed since review/ })), 'Changed since review (0)');

    await Promise.all([page.waitForEvent('load'), signOffLink(never.list, PAGE_FILE).click()]);
    assert.equal(pathOf(page), SIGN_OFF_PATH);
    assert.equal(await textOf(page.getByRole('heading', { level: 1 })), `Sign off ${PAGE_TITLE}`);
    assert.equal(await page.getByRole('heading', { name: 'Changed since the last sign-off' }).count(), 0, 'a first review has nothing to compare with');
    const frame = page.frameLocator('iframe[title="The page as readers will see it"]');
    await frame.getByRole('heading', { level: 1, name: PAGE_TITLE }).waitFor();
    await page.getByRole('textbox', { name: 'Note (optional)' }).fill(NOTE);
    const signed = await submit(page, page.getByRole('button', { name: `Sign off as ${SIGNATURE}`, exact: true }));
    assert.equal(signed.status, 303);
    assert.equal(pathOf(page), '/admin/reviews');
    assert.equal(await textOf(page.getByRole('status')), SIGNED_OFF);
    const after = await queueList(page, 'Never reviewed');
    assert.equal(after.count, pageFiles.length - 1);
    assert.equal(await after.list.locator('> li', { hasText: `(${PAGE_FILE})` }).count(), 0, 'the page has left the queue');

    // The sign-off is in the page's file, for anyone reading it there.
    const text = fileText();
    assert.match(text, new RegExp(`^reviewed_by = "${SIGNATURE}"$`, 'm'));
    assert.match(text, new RegExp(`^last_reviewed = ${signedOn.iso}$`, 'm'));
    assert.match(text, new RegExp(`^next_review = ${aYearOn(signedOn).iso}$`, 'm'));

    await waitForReviewLine(page, reviewedLine());
    assert.deepEqual([...ours(problems()), ...csp()], []);
  }));

test('2. after an editor changes the page, readers see "Updated ... Last clinical review ..." and the page is back in the queue with the words changed', async () => {
  await editInEditor(EDIT);
  await withPage(browser, VIEWPORTS.desktop, async (page) => {
    const problems = watchForProblems(page);
    const updated = updatedDay();
    assert.deepEqual(updated, today(), 'changing the words did not make the page "updated" today');
    await waitForReviewLine(page, {
      text: `Updated ${updated.long}. Last clinical review ${signedOn.long}.`,
      days: [updated.iso, signedOn.iso],
    });
    await page.getByText('Mild bruising that fades within a week').waitFor();

    await signIn(page, REVIEWER);
    await open(page, '/admin/reviews');
    const changed = await queueList(page, 'Changed since review');
    assert.equal(changed.count, 1);
    const item = changed.list.locator('> li');
    const itemText = await textOf(item);
    assert.ok(
      itemText.startsWith(`${PAGE_TITLE} (${PAGE_FILE}) Last clinical review: ${SIGNATURE}, ${signedOn.iso}; next due ${aYearOn(signedOn).iso}`),
      `the queue says "${itemText}"`,
    );
    const details = item.locator('details');
    assert.match(await wordsOf(details.locator('summary')), /^Words changed since the last sign-off of dry-needling\/safety\.md$/);
    await details.locator('summary').click();
    assert.deepEqual(await added(details.locator('.word-diff')), [EDIT.added]);
    assert.equal(await details.locator('.word-diff del').count(), 0, 'nothing was taken out');

    await Promise.all([page.waitForEvent('load'), signOffLink(changed.list, PAGE_FILE).click()]);
    assert.equal(pathOf(page), SIGN_OFF_PATH);
    assert.equal(await textOf(page.locator('main p', { hasText: 'Last signed off by' })), `Last signed off by ${SIGNATURE} on ${signedOn.long}.`);
    const changes = page.getByRole('region', { name: 'Changed since the last sign-off' });
    assert.deepEqual(await added(changes.locator('.word-diff')), [EDIT.added]);
    assert.deepEqual(ours(problems()), []);
  });
});

test('3. a sign-off sent after the page changed under the open sign-off page is refused with a clear message, and the page is shown as it is now', () =>
  withPage(browser, VIEWPORTS.desktop, async (page) => {
    const problems = watchForProblems(page);
    await signIn(page, REVIEWER);
    await open(page, SIGN_OFF_PATH);
    await page.getByRole('textbox', { name: 'Note (optional)' }).fill(NOTE);

    // While the reviewer reads, the page changes again.
    await editInEditor(LATE_EDIT);
    const signedRevision = () => fileText().match(/^reviewed_revision = .*$/m)?.[0];
    const before = signedRevision();
    assert.ok(before, `${PAGE_FILE} names the revision signed in test 1`);

    const refused = await submit(page, page.getByRole('button', { name: `Sign off as ${SIGNATURE}`, exact: true }));
    assert.equal(refused.status, 409);
    assert.equal(pathOf(page), SIGN_OFF_PATH);
    const alert = page.getByRole('alert');
    assert.equal(await textOf(alert), `There is a problem ${REFUSED}`);
    assert.equal(await page.getByRole('textbox', { name: 'Note (optional)' }).inputValue(), NOTE, 'the note is kept');
    const changes = page.getByRole('region', { name: 'Changed since the last sign-off' });
    assert.deepEqual(await added(changes.locator('.word-diff')), [EDIT.added, LATE_EDIT.added], 'the page is shown with both changes');
    await page.frameLocator('iframe').getByText('Fatigue or dizziness (rare, and brief)').waitFor();
    // Nothing was signed: readers still see the old review as out of date.
    assert.equal(signedRevision(), before, 'the sign-off in the file is still the one from test 1');
    await open(page, PUBLIC_PATH);
    await page.reload();
    assert.match((await reviewLine(page)).text, /^Updated .* Last clinical review /);

    // Read again: the sign-off from the page as it is now goes through.
    await open(page, SIGN_OFF_PATH);
    const signed = await submit(page, page.getByRole('button', { name: `Sign off as ${SIGNATURE}`, exact: true }));
    assert.equal(signed.status, 303);
    assert.equal(await textOf(page.getByRole('status')), SIGNED_OFF);
    await waitForReviewLine(page, reviewedLine());
    assert.deepEqual(ours(problems()), []);
  }));

test('4. axe-core finds nothing and nothing scrolls sideways, at phone and desktop size, on the public page with its review, /admin/reviews, and the sign-off page with the words changed and with the refusal', async () => {
  const found = [];
  const ROUND_LINES = ['- Mild bruising that fades within a week', '- Temporary soreness in the treated area'];
  let round = 0;
  for (const [size, viewport] of Object.entries(VIEWPORTS)) {
    round += 1;
    await withPage(browser, viewport, async (page) => {
      const problems = watchForProblems(page);
      const csp = await watchForCspViolations(page);
      const check = async (where) => {
        found.push(...(await layoutAndAxe(page, `${where} (${size})`)));
        await page.screenshot({ path: path.join(SHOTS_DIR, `reviews-${where.replace(/\W+/g, '-')}-${size}.png`), fullPage: true });
      };

      // Signed off at the end of test 3, or of the round before.
      await waitForReviewLine(page, reviewedLine());
      await check('the public page with its review');

      // A different line each round, so each round's words are its own.
      const line = ROUND_LINES[round - 1];
      changeFile({ from: `${line}\n`, to: `${line} (round ${round})\n` });
      await waitForReviewLine(page, { text: `Updated ${updatedDay().long}. Last clinical review ${signedOn.long}.`, days: [updatedDay().iso, signedOn.iso] });

      await signIn(page, REVIEWER);
      await open(page, '/admin/reviews');
      const changed = await queueList(page, 'Changed since review');
      assert.equal(changed.count, 1, 'the changed page is in the queue');
      assert.ok((await queueList(page, 'Never reviewed')).count > 0, 'pages never reviewed are in the queue');
      await changed.list.locator('details summary').click();
      await check('/admin/reviews with pages in the queue');

      await open(page, SIGN_OFF_PATH);
      assert.deepEqual(await added(page.getByRole('region', { name: 'Changed since the last sign-off' }).locator('.word-diff')), [`(round ${round})`]);
      await check('the sign-off page with the words changed');

      changeFile({ from: `(round ${round})`, to: `(round ${round}, changed)` });
      const refused = await submit(page, page.getByRole('button', { name: `Sign off as ${SIGNATURE}`, exact: true }));
      assert.equal(refused.status, 409);
      assert.equal(await textOf(page.getByRole('alert')), `There is a problem ${REFUSED}`);
      await check('the sign-off page with the refusal');

      // Signed off again for the next round.
      const signed = await submit(page, page.getByRole('button', { name: `Sign off as ${SIGNATURE}`, exact: true }));
      assert.equal(signed.status, 303);
      const issues = [...ours(problems()), ...csp()];
      assert.deepEqual(issues, [], `problems at ${size}:\n  ${issues.join('\n  ')}`);
    });
  }
  assert.equal(found.length, 0, found.join('\n'));
});
