// Browser checks of readers' comments: posting from a phone with
// JavaScript and from a desktop without it, the "feeling unwell" note, the
// personal-details and health-details warnings, staff moderation (approve,
// reply, reject) and what readers then see, axe-core on every state of
// these pages, and no console errors or CSP violations anywhere on the way.
//
// One server and one browser for the whole file. The tests build on each
// other and node:test runs a file's tests in order: tests 1-3 post the
// comments that test 4 moderates (test 3b posts nothing), and test 5 checks
// the article page with the comment and reply test 4 left. Test 6 reads
// what every page visited by tests 1-5 logged.

import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { after, before, test } from 'node:test';

import {
  REPO_ROOT,
  SCREENSHOT_DIR,
  VIEWPORTS,
  ensureScreenshotDir,
  formatViolations,
  launchBrowser,
  pathOf,
  runAxe,
  startServer,
  watchForCspViolations,
  watchForProblems,
  withPage,
} from './helpers.mjs';

const SECTION_PATH = '/dry-needling/migraines/';
const FORM_PATH = `${SECTION_PATH}comment/`;
const CLINIC_NAME = 'Riverside Physical Therapy';
// The moderator who signs in for tests 4-5: a personal account, added
// with `clinic-site staff add` before the browser starts.
const STAFF = { username: 'casey', name: 'Casey Morgan', role: 'moderator', password: 'correct horse battery' };
const THANK_YOU = 'Thank you, your comment will appear after the clinic has reviewed it.';
const ERROR_TEXT_EMPTY = 'Enter your comment';
const ERROR_CONSENT = 'Tick the box to confirm you understand your comment will be public';
// The server drops, as a bot, a post sent less than 3 s after it served
// the form (quietly: the reader still sees the thank-you). Wait longer.
const FORM_MIN_AGE_MS = 3_500;
const MODERATION_TIMEOUT_MS = 30_000;

// The comments this file posts, one per test 1-3, in posting order.
const JORDAN = { name: 'Jordan', text: 'After four sessions of dry needling my neck feels looser and I have had fewer migraines this month.' };
const NO_JS = { name: 'Priya', text: 'I was nervous about the needles but it felt like a small pinch, and my headaches eased.' };
const PERSONAL = { name: 'Sam', text: 'You can call me on 555 010 0199' };
const REPLY = 'Thank you for sharing, Jordan.';
// Health details, with symptoms happening now: warned about, never posted here.
const HEALTH = { name: 'Dee', text: "I'm 20 weeks pregnant, on warfarin, and short of breath for hours" };
const UNWELL_NOTE = 'Do not post here: call the clinic on (555) 010-0142, or 911 in an emergency.';
const CALL_NOW = 'Call the clinic now on (555) 010-0142. In an emergency, call 911.';

// Every test posts from 127.0.0.1, and the server allows one client 5
// stored comments per 10 minutes (posts with mistakes or warnings do not
// count). This file stores three, but raise the limit for its own server
// so adding a test never trips it; node --test runs each file in its own
// process, so no other file sees this.
process.env.CLINIC_COMMENT_LIMIT = '100';

let server;
let browser;

const url = (pathname) => new URL(pathname, server.url).href;

/**
 * What went wrong on each page state visited, for test 6:
 * [{ kind, where, url, issues: string[] }].
 */
const pageLog = [];

/** The page kinds test 6 expects to have seen at both viewports. */
const KINDS = {
  article: 'article page',
  thanks: 'article page after posting (thank-you)',
  form: 'comment form',
  formErrors: 'comment form with errors',
  formPersonal: 'comment form with the personal-details warning',
  formHealth: 'comment form with the health-details warning and call-now advice',
  approved: 'article page with an approved comment and reply',
  login: 'staff sign-in',
  admin: 'staff moderation page with pending comments',
};

before(async () => {
  server = await startServer();
  // Staff accounts live in the server's SQLite database, read on each
  // sign-in, so adding one now, in the server's own fresh data folder, is
  // the same as before the start (startServer makes that folder and
  // removes it on stop). The password comes from stdin's first line.
  const bin = process.env.CLINIC_BIN || path.join(REPO_ROOT, 'target', 'debug', 'clinic-site');
  const add = spawnSync(bin, ['staff', 'add', STAFF.username, '--name', STAFF.name, '--role', STAFF.role, '--data', server.dataDir], {
    input: `${STAFF.password}\n`,
    encoding: 'utf8',
    timeout: 30_000,
  });
  assert.equal(add.status, 0, `clinic-site staff add failed (${add.status}):\n${add.stdout}\n${add.stderr}`);
  browser = await launchBrowser();
  ensureScreenshotDir();
});

after(async () => {
  await browser?.close();
  await server?.stop();
});

// ---------------------------------------------------------------------------
// Helpers

/**
 * Starts watching a page for console errors, page errors, failed requests
 * and CSP violations. Returns `note(kind)`, which files whatever was seen
 * since the last note under that page state, and `flush()`, which adds
 * anything that arrived late to the last state noted.
 */
async function track(page, where) {
  const problems = watchForProblems(page);
  const csp = await watchForCspViolations(page);
  let seenProblems = 0;
  let seenCsp = 0;
  const fresh = () => {
    const issues = [...problems().slice(seenProblems), ...csp().slice(seenCsp)];
    seenProblems = problems().length;
    seenCsp = csp().length;
    return issues;
  };
  let last;
  return {
    note(kind) {
      last = { kind, where, url: page.url(), issues: fresh() };
      pageLog.push(last);
    },
    flush() {
      const late = fresh();
      if (late.length) {
        if (last) last.issues.push(...late);
        else pageLog.push({ kind: '(before any page)', where, url: page.url(), issues: late });
      }
    },
  };
}

/** Loads the page at `pathname` and asserts the status. */
async function open(page, pathname, status = 200) {
  const response = await page.goto(url(pathname));
  assert.equal(response.status(), status, `${pathname} answered ${response.status()}`);
  return response;
}

/**
 * Clicks a form's submit button and waits for the page that answers to
 * load. Returns the POST's own response (before any redirect).
 */
async function submit(page, button, { timeout } = {}) {
  const posted = page.waitForRequest((req) => req.method() === 'POST' && req.isNavigationRequest() && req.frame() === page.mainFrame(), { timeout });
  await Promise.all([page.waitForEvent('load', { timeout }), button.click({ timeout })]);
  const response = await (await posted).response();
  assert.ok(response, 'the form post got no response');
  return { status: response.status(), location: response.headers().location ?? null, url: response.url() };
}

/** Waits until the form served at `servedAt` (ms) is old enough not to be taken for a bot. */
async function waitForFormAge(servedAt) {
  await sleep(Math.max(0, servedAt + FORM_MIN_AGE_MS - Date.now()));
}

/** Runs axe-core and returns its violations as text, or '' when there are none. */
async function axeReport(page, where) {
  const { violations } = await runAxe(page);
  return violations.length ? `axe-core violations on ${where}:\n${formatViolations(violations)}` : '';
}

async function assertNoAxeViolations(page, where) {
  const report = await axeReport(page, where);
  assert.equal(report, '', report);
}

async function screenshot(page, name) {
  await page.screenshot({ path: path.join(SCREENSHOT_DIR, `comments-${name}.png`), fullPage: true });
}

/** The comment form's controls. */
function form(page) {
  return {
    name: page.locator('#comment-name'),
    text: page.locator('#comment-text'),
    consent: page.locator('#comment-consent'),
    post: page.getByRole('button', { name: 'Post comment', exact: true }),
    checkAgain: page.getByRole('button', { name: 'I have changed it, check again', exact: true }),
    postAsItIs: page.locator('button[name=confirm_personal]'),
  };
}

/** Asserts the "feeling unwell" note is near the top of the form and visible. */
async function assertUnwellNote(page) {
  const note = page.locator('#feeling-unwell');
  assert.ok(await note.isVisible(), 'the "Feeling unwell after a treatment?" note is not visible on the form');
  assert.equal((await note.locator('h2').textContent()).replace(/\s+/g, ' ').trim(), 'Urgent advice: Feeling unwell after a treatment?');
  assert.equal((await note.locator('p').innerText()).trim(), UNWELL_NOTE);
  assert.equal(await note.getByRole('link', { name: '(555) 010-0142' }).getAttribute('href'), 'tel:5550100142');
  const [noteTop, formTop] = await Promise.all([note.boundingBox(), page.locator('form.comment-form').boundingBox()]);
  assert.ok(noteTop.y < formTop.y, 'the unwell note is below the form, not near the top');
}

/** Asserts the health-details warning and the call-now advice show, with the text kept. */
async function assertHealthWarning(page, text) {
  const urgent = page.locator('#unwell-now.callout-urgent[role=alert]');
  assert.ok(await urgent.isVisible(), 'no visible call-now advice for symptoms happening now');
  const advice = (await urgent.innerText()).replace(/\s+/g, ' ');
  assert.ok(advice.includes('If you feel unwell now, do not wait for a reply'), advice);
  assert.ok(advice.includes(CALL_NOW), advice);
  const warning = page.locator('#personal-details[role=alert]');
  assert.ok(await warning.isVisible(), 'no visible personal-details warning');
  assert.match(await warning.innerText(), /the name of a medicine, a pregnancy or symptoms you have now/);
  assert.equal(await page.locator('#comment-text').inputValue(), text, 'the comment text was not kept with the warning');
}

/** The error summary's messages, and which field each one links to. */
async function errorSummary(page) {
  const summary = page.locator('.error-summary');
  assert.equal(await summary.count(), 1, `${pathOf(page)} should show one .error-summary`);
  assert.ok(await summary.isVisible(), 'the error summary is not visible');
  assert.equal((await summary.locator('h2').textContent()).trim(), 'There is a problem');
  return summary.locator('li a').evaluateAll((links) => links.map((a) => ({ text: a.textContent.trim(), href: a.getAttribute('href') })));
}

/** Asserts the reader is back on the article at the thank-you note, and it shows. */
async function assertThankYou(page, post, where) {
  assert.equal(post.status, 303, `${where}: the comment post answered ${post.status}, not 303 See Other`);
  assert.equal(post.location, `${SECTION_PATH}#comment-received`, `${where}: the comment post redirected to ${post.location}`);
  assert.equal(pathOf(page), SECTION_PATH, `${where}: after posting the reader is on ${page.url()}`);
  assert.equal(new URL(page.url()).hash, '#comment-received', `${where}: after posting the address is ${page.url()}`);
  const thanks = page.locator('#comment-received');
  assert.ok(await thanks.isVisible(), `${where}: #comment-received is not visible after posting`);
  assert.equal((await thanks.innerText()).trim(), THANK_YOU);
}

/** Every comment in the server's database, from the command line, oldest first. */
function storedComments() {
  const bin = process.env.CLINIC_BIN || path.join(REPO_ROOT, 'target', 'debug', 'clinic-site');
  const run = spawnSync(bin, ['comments', 'export', '--format', 'json', '--data', server.dataDir], { encoding: 'utf8', timeout: 30_000 });
  assert.equal(run.status, 0, `clinic-site comments export failed (${run.status}):\n${run.stderr}`);
  return JSON.parse(run.stdout);
}

/**
 * Asserts the database holds exactly one comment with this text, for this
 * page, under this name, waiting for review (the thank-you alone proves
 * nothing: a post taken for a bot gets it too).
 */
function assertStoredPending({ name, text }, where, { flagged = false } = {}) {
  const matches = storedComments().filter((c) => c.body === text);
  assert.equal(matches.length, 1, `${where}: expected the comment "${text}" stored once, found ${matches.length} (a post sent too soon is dropped as a bot)`);
  const { page, name: storedName, status, flagged: storedFlagged } = matches[0];
  assert.deepEqual({ page, name: storedName, status: String(status).toLowerCase(), flagged: storedFlagged }, { page: SECTION_PATH, name, status: 'pending', flagged }, `${where}: the stored comment`);
}

/**
 * Signs in at /admin/login as the moderator, lands on the dashboard at
 * /admin (handed to `dashboardNoted` when given) and follows the staff
 * navigation to the comments at /admin/comments.
 */
async function signIn(page, note, dashboardNoted) {
  await open(page, '/admin/login');
  await note?.(KINDS.login);
  await page.locator('#username').fill(STAFF.username);
  await page.locator('#password').fill(STAFF.password);
  const post = await submit(page, page.getByRole('button', { name: 'Sign in', exact: true }));
  assert.equal(post.status, 303, `signing in answered ${post.status}`);
  assert.equal(pathOf(page), '/admin', `after signing in the page is ${page.url()}`);
  const who = (await page.locator('nav.admin-nav .admin-who').innerText()).replace(/\s+/g, ' ');
  assert.ok(who.includes(`Signed in as ${STAFF.name} (${STAFF.role})`), `the staff navigation says "${who}", not who signed in`);
  // The dashboard counts the waiting comments and leads to them.
  assert.equal((await page.locator('h1').textContent()).trim(), 'Dashboard');
  await dashboardNoted?.(page);
  await Promise.all([page.waitForEvent('load'), page.locator('nav.admin-nav').getByRole('link', { name: 'Comments', exact: true }).click()]);
  assert.equal(pathOf(page), '/admin/comments', `the Comments link led to ${page.url()}`);
}

/** The moderation page's pending list, as [{ name, body, flagged }], top to bottom. */
function pendingRows(page) {
  return page.locator('#pending + ol li.moderation-item').evaluateAll((items) =>
    items.map((li) => ({
      name: li.querySelector('.comment-meta strong')?.textContent.trim(),
      body: li.querySelector('.comment-body')?.textContent.trim(),
      flagged: Boolean(li.querySelector('.flag')),
    })),
  );
}

/**
 * Runs a moderation form's button and checks the status message it leads
 * to. The server rebuilds the site's pages before it answers a moderation
 * post, which takes seconds in a debug build on a busy machine: allow more
 * than the usual 10 s.
 */
async function moderate(page, button, expectedStatus) {
  const post = await submit(page, button, { timeout: MODERATION_TIMEOUT_MS });
  assert.equal(post.status, 303, `moderation post answered ${post.status}`);
  assert.equal(pathOf(page), '/admin/comments', `after moderating the page is ${page.url()}`);
  const status = page.locator('p.notice[role=status]');
  assert.ok(await status.isVisible(), 'no status message after moderating');
  assert.equal((await status.textContent()).trim(), expectedStatus);
}

// ---------------------------------------------------------------------------
// Tests

test('1. a reader on a phone with JavaScript: empty form shows both errors, then a comment posts and the thank-you shows', () =>
  withPage(browser, VIEWPORTS.phone, async (page) => {
    const { note, flush } = await track(page, 'phone');
    try {
      await open(page, SECTION_PATH);
      note(KINDS.article);
      const comments = page.locator('section#comments');
      assert.ok(await comments.isVisible(), `${SECTION_PATH} has no visible section#comments`);
      assert.equal(await page.locator('#comment-received').isVisible(), false, 'the thank-you note shows before anyone posted');

      const share = comments.getByRole('link', { name: 'Share your experience' });
      assert.equal(new URL(await share.evaluate((a) => a.href)).pathname, FORM_PATH);
      await Promise.all([page.waitForEvent('load'), share.click()]);
      const servedAt = Date.now();
      assert.equal(pathOf(page), FORM_PATH, `"Share your experience" opened ${page.url()}`);
      assert.equal((await page.locator('h1').textContent()).trim(), 'Share your experience');
      note(KINDS.form);
      await assertUnwellNote(page);

      const f = form(page);
      assert.equal(await page.locator('.error-summary').count(), 0, 'the fresh form already shows an error summary');
      const empty = await submit(page, f.post);
      assert.equal(empty.status, 400, `the empty form answered ${empty.status}`);
      assert.equal(pathOf(page), FORM_PATH);
      note(KINDS.formErrors);
      assert.deepEqual(
        await errorSummary(page),
        [
          { text: ERROR_TEXT_EMPTY, href: '#comment-text' },
          { text: ERROR_CONSENT, href: '#comment-consent' },
        ],
        'the error summary after sending the empty form',
      );
      assert.equal(await f.text.getAttribute('aria-invalid'), 'true', '#comment-text is not marked aria-invalid');
      assert.equal(await f.consent.getAttribute('aria-invalid'), 'true', '#comment-consent is not marked aria-invalid');
      assert.match(await page.locator('#comment-text-error').innerText(), new RegExp(ERROR_TEXT_EMPTY));
      assert.match(await page.locator('#comment-consent-error').innerText(), new RegExp(ERROR_CONSENT));
      await screenshot(page, 'form-errors-phone');
      await assertNoAxeViolations(page, `${FORM_PATH} with errors (phone)`);

      await f.name.fill(JORDAN.name);
      await f.text.fill(JORDAN.text);
      await f.consent.check();
      await waitForFormAge(servedAt);
      const post = await submit(page, f.post);
      note(KINDS.thanks);
      await assertThankYou(page, post, 'phone, JavaScript on');
      await screenshot(page, 'thanks-phone');
      assertStoredPending(JORDAN, 'test 1');
    } finally {
      flush();
    }
  }));

test('2. a reader on a desktop without JavaScript: a missing consent keeps the text, then the comment posts and the thank-you shows', () =>
  withPage(browser, { ...VIEWPORTS.desktop, javaScriptEnabled: false }, async (page) => {
    const { note, flush } = await track(page, 'desktop, no JS');
    try {
      await open(page, SECTION_PATH);
      note(KINDS.article);
      await Promise.all([page.waitForEvent('load'), page.locator('section#comments').getByRole('link', { name: 'Share your experience' }).click()]);
      const servedAt = Date.now();
      assert.equal(pathOf(page), FORM_PATH);
      note(KINDS.form);

      const f = form(page);
      await f.name.fill(NO_JS.name);
      await f.text.fill(NO_JS.text);
      const unticked = await submit(page, f.post);
      assert.equal(unticked.status, 400, `the form without consent answered ${unticked.status}`);
      note(KINDS.formErrors);
      assert.deepEqual(await errorSummary(page), [{ text: ERROR_CONSENT, href: '#comment-consent' }], 'the error summary when only the consent is missing');
      assert.equal(await f.text.inputValue(), NO_JS.text, 'the comment text was not kept after the error');
      assert.equal(await f.name.inputValue(), NO_JS.name, 'the name was not kept after the error');
      assert.equal(await f.consent.isChecked(), false);

      await f.consent.check();
      await waitForFormAge(servedAt);
      const post = await submit(page, f.post);
      note(KINDS.thanks);
      await assertThankYou(page, post, 'desktop, JavaScript off');
      await screenshot(page, 'thanks-desktop-nojs');
      assertStoredPending(NO_JS, 'test 2');
    } finally {
      flush();
    }
  }));

test('3. a comment that looks like it has a phone number shows the warning with the text kept, and "Post it as it is" posts it', () =>
  withPage(browser, VIEWPORTS.phone, async (page) => {
    const { note, flush } = await track(page, 'phone');
    try {
      await open(page, FORM_PATH);
      const servedAt = Date.now();
      note(KINDS.form);
      const f = form(page);
      await f.name.fill(PERSONAL.name);
      await f.text.fill(PERSONAL.text);
      await f.consent.check();
      // The warning is only given to a post that is not dropped as a bot.
      await waitForFormAge(servedAt);
      const first = await submit(page, f.post);
      assert.equal(first.status, 200, `posting text with a phone number answered ${first.status}`);
      assert.equal(pathOf(page), FORM_PATH, `posting text with a phone number went to ${page.url()}, not back to the form`);
      note(KINDS.formPersonal);

      const warning = page.locator('.callout[role=alert]').filter({ hasText: 'It may include personal details' });
      assert.ok(await warning.isVisible(), 'no visible personal-details warning');
      assert.match(await warning.innerText(), /phone number/, 'the warning does not say it looks like a phone number');
      assert.equal(await page.locator('.error-summary').count(), 0, 'the warning came with an error summary');
      assert.equal(await f.text.inputValue(), PERSONAL.text, 'the comment text was not kept with the warning');
      assert.equal(await f.name.inputValue(), PERSONAL.name, 'the name was not kept with the warning');
      assert.ok(await f.consent.isChecked(), 'the consent box was unticked with the warning');
      assert.ok(await f.checkAgain.isVisible(), 'no "I have changed it, check again" button');
      assert.equal((await f.postAsItIs.innerText()).trim(), 'Post it as it is');
      assert.equal(await f.post.count(), 0, 'the plain "Post comment" button is still there next to the warning choices');
      assert.deepEqual(storedComments().filter((c) => c.body === PERSONAL.text), [], 'the comment was stored before the writer chose to post it');
      await screenshot(page, 'form-personal-phone');

      const post = await submit(page, f.postAsItIs);
      note(KINDS.thanks);
      await assertThankYou(page, post, 'after "Post it as it is"');
      assertStoredPending(PERSONAL, 'test 3', { flagged: true });
    } finally {
      flush();
    }
  }));

test('3b. a comment with health details and symptoms now gets the warning with call-now advice, and is not posted until confirmed', () =>
  withPage(browser, VIEWPORTS.phone, async (page) => {
    const { note, flush } = await track(page, 'phone');
    try {
      await open(page, FORM_PATH);
      const servedAt = Date.now();
      note(KINDS.form);
      await assertUnwellNote(page);
      const f = form(page);
      await f.name.fill(HEALTH.name);
      await f.text.fill(HEALTH.text);
      await f.consent.check();
      await waitForFormAge(servedAt);
      const first = await submit(page, f.post);
      assert.equal(first.status, 200, `posting text with health details answered ${first.status}`);
      assert.equal(pathOf(page), FORM_PATH);
      note(KINDS.formHealth);
      await assertHealthWarning(page, HEALTH.text);
      assert.ok(await f.postAsItIs.isVisible(), 'no "Post it as it is" button');
      assert.deepEqual(storedComments().filter((c) => c.body === HEALTH.text), [], 'the comment was stored before the writer chose to post it');
      await screenshot(page, 'form-health-phone');
      await assertNoAxeViolations(page, `${FORM_PATH} with the health-details warning (phone)`);
    } finally {
      flush();
    }
  }));

test('4. staff approve and reply to Jordan\'s comment and reject another; readers see the approved one with the reply only', async () => {
  await withPage(browser, VIEWPORTS.desktop, async (page) => {
    const { note, flush } = await track(page, 'desktop, staff');
    try {
      await page.goto(url('/admin'));
      assert.equal(pathOf(page), '/admin/login', `/admin before signing in ended at ${page.url()}, not the sign-in page`);
      await signIn(page, note);
      note(KINDS.admin);

      assert.deepEqual(
        await pendingRows(page),
        [
          { name: PERSONAL.name, body: PERSONAL.text, flagged: true },
          { name: NO_JS.name, body: NO_JS.text, flagged: false },
          { name: JORDAN.name, body: JORDAN.text, flagged: false },
        ],
        'the pending comments from tests 1-3, newest first (only the one posted despite the warning flagged)',
      );
      await screenshot(page, 'admin-pending-desktop');

      const pendingItem = (text) => page.locator('#pending + ol li.moderation-item').filter({ hasText: text });
      const approvedItem = (text) => page.locator('#approved + ol li.moderation-item').filter({ hasText: text });

      await moderate(page, pendingItem(JORDAN.text).getByRole('button', { name: /^Approve\b/ }), 'Comment approved: it is now on the page.');
      assert.equal(await pendingItem(JORDAN.text).count(), 0, 'Jordan\'s comment is still waiting for review after approving it');
      assert.equal(await approvedItem(JORDAN.text).count(), 1, 'Jordan\'s comment is not under "Recently approved"');
      // The activity record names the person who approved it.
      const approvedBy = (await approvedItem(JORDAN.text).locator('.comment-meta').nth(1).textContent()).trim();
      assert.match(approvedBy, new RegExp(`^Approved by ${STAFF.name} \\(${STAFF.username}\\) on \\d{1,2} \\w+ \\d{4}$`), 'who approved Jordan\'s comment');

      const jordan = approvedItem(JORDAN.text);
      await jordan.locator('textarea[name=reply]').fill(REPLY);
      await moderate(page, jordan.getByRole('button', { name: /^Save reply\b/ }), 'Reply saved: it shows under the comment once the comment is approved.');
      assert.equal(await approvedItem(JORDAN.text).locator('textarea[name=reply]').inputValue(), REPLY, 'the saved reply is not shown in its box');

      await moderate(page, pendingItem(PERSONAL.text).getByRole('button', { name: /^Reject\b/ }), 'Comment rejected: it will not appear.');
      assert.deepEqual(await pendingRows(page), [{ name: NO_JS.name, body: NO_JS.text, flagged: false }], 'pending after approving one and rejecting one');
      const counts = await page.locator('ul.counts li').allInnerTexts();
      assert.deepEqual(counts.map((c) => c.trim()), ['1 waiting for review', '1 approved', '1 rejected']);
      note(KINDS.admin);
    } finally {
      flush();
    }
  });

  await withPage(browser, VIEWPORTS.phone, async (page) => {
    const { note, flush } = await track(page, 'phone, reader');
    try {
      await open(page, SECTION_PATH);
      note(KINDS.approved);
      const section = page.locator('section#comments');
      assert.equal((await section.locator('h2').first().textContent()).trim(), 'Comments (1)');
      const items = section.locator('li.comment');
      assert.equal(await items.count(), 1, `expected only Jordan's comment on ${SECTION_PATH}, found ${await items.count()}: ${JSON.stringify(await items.allInnerTexts())}`);
      const item = items.first();
      assert.equal((await item.locator(':scope > .comment-meta strong').textContent()).trim(), JORDAN.name);
      assert.equal((await item.locator(':scope > .comment-body').textContent()).trim(), JORDAN.text);
      const reply = item.locator('.comment-reply');
      assert.ok(await reply.isVisible(), 'no visible .comment-reply under Jordan\'s comment');
      assert.equal((await reply.locator('.comment-meta').innerText()).trim(), `Reply from ${CLINIC_NAME}`);
      assert.equal((await reply.locator('.comment-body').textContent()).trim(), REPLY);

      const text = await page.locator('body').innerText();
      assert.ok(!text.includes('555 010 0199'), 'the rejected comment shows on the article page');
      assert.ok(!text.includes(NO_JS.text), 'a comment still waiting for review shows on the article page');
      await screenshot(page, 'approved-phone');
    } finally {
      flush();
    }
  });
});

test('5. axe-core finds no WCAG 2.2 A/AA violations (target-size on) on the comment and staff pages', async (t) => {
  for (const [viewportName, viewport] of Object.entries(VIEWPORTS)) {
    await t.test(`comment form: clean, with errors, with the personal-details and health-details warnings (${viewportName})`, () =>
      withPage(browser, viewport, async (page) => {
        const { note, flush } = await track(page, viewportName);
        const reports = [];
        try {
          await open(page, FORM_PATH);
          const servedAt = Date.now();
          note(KINDS.form);
          reports.push(await axeReport(page, `${FORM_PATH} (${viewportName})`));
          await screenshot(page, `form-${viewportName}`);

          const f = form(page);
          assert.equal((await submit(page, f.post)).status, 400);
          note(KINDS.formErrors);
          assert.equal((await errorSummary(page)).length, 2);
          reports.push(await axeReport(page, `${FORM_PATH} with errors (${viewportName})`));

          await f.text.fill(`Call me on 555 010 0199 (${viewportName})`);
          await f.consent.check();
          await waitForFormAge(servedAt);
          assert.equal((await submit(page, f.post)).status, 200);
          note(KINDS.formPersonal);
          assert.ok(await f.postAsItIs.isVisible(), 'no personal-details warning to check');
          reports.push(await axeReport(page, `${FORM_PATH} with the personal-details warning (${viewportName})`));
          await screenshot(page, `form-personal-${viewportName}`);

          await f.text.fill(HEALTH.text);
          assert.equal((await submit(page, f.checkAgain)).status, 200);
          note(KINDS.formHealth);
          await assertHealthWarning(page, HEALTH.text);
          reports.push(await axeReport(page, `${FORM_PATH} with the health-details warning (${viewportName})`));
          await screenshot(page, `form-health-${viewportName}`);
        } finally {
          flush();
        }
        const found = reports.filter(Boolean);
        assert.equal(found.length, 0, found.join('\n'));
      }));

    await t.test(`article page with an approved comment and reply (${viewportName})`, () =>
      withPage(browser, viewport, async (page) => {
        const { note, flush } = await track(page, viewportName);
        try {
          await open(page, SECTION_PATH);
          note(KINDS.approved);
          assert.equal(await page.locator('section#comments li.comment .comment-reply').count(), 1, 'no approved comment with a reply to check (test 4 did not run?)');
          await assertNoAxeViolations(page, `${SECTION_PATH} with a comment and reply (${viewportName})`);
        } finally {
          flush();
        }
      }));

    await t.test(`staff sign-in and moderation pages (${viewportName})`, () =>
      withPage(browser, viewport, async (page) => {
        const { note, flush } = await track(page, `${viewportName}, staff`);
        const reports = [];
        try {
          await signIn(page, async () => {
            note(KINDS.login);
            reports.push(await axeReport(page, `/admin/login (${viewportName})`));
            await screenshot(page, `admin-login-${viewportName}`);
          }, async () => {
            const waiting = await page.locator('#table-comments tbody tr').count();
            assert.ok(waiting >= 1, 'the moderator\'s dashboard lists no waiting comments');
            reports.push(await axeReport(page, `/admin, the moderator's dashboard (${viewportName})`));
            await screenshot(page, `admin-dashboard-moderator-${viewportName}`);
          });
          note(KINDS.admin);
          assert.ok((await pendingRows(page)).length >= 1, 'no pending comments listed on /admin/comments to check');
          reports.push(await axeReport(page, `/admin/comments with pending comments (${viewportName})`));
          await screenshot(page, `admin-${viewportName}`);
        } finally {
          flush();
        }
        const found = reports.filter(Boolean);
        assert.equal(found.length, 0, found.join('\n'));
      }));
  }
});

test('6. no console errors, page errors, failed requests or CSP violations on any comment or staff page', () => {
  const missing = [];
  for (const kind of Object.values(KINDS)) {
    for (const viewportName of Object.keys(VIEWPORTS)) {
      if (!pageLog.some((entry) => entry.kind === kind && entry.where.startsWith(viewportName))) missing.push(`${kind} (${viewportName})`);
    }
  }
  assert.deepEqual(missing, [], `tests 1-5 did not reach these page states, so they were not watched:\n  ${missing.join('\n  ')}`);
  const bad = pageLog.filter((entry) => entry.issues.length);
  assert.equal(
    bad.length,
    0,
    `problems on ${bad.length} of ${pageLog.length} page states:\n${bad.map((e) => `  ${e.kind} (${e.where}) ${e.url}:\n    ${e.issues.join('\n    ')}`).join('\n')}`,
  );
});
