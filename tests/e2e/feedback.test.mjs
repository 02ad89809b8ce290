// Browser checks of readers' feedback on an article page: "Was this page
// helpful?" answered Yes and No in place with JavaScript (focus and the
// heading that is read out, the optional box, a mistake, the
// personal-details warning, the thanks) and through the plain form pages
// without it; "Report a problem with this page" for each kind of problem,
// with and without JavaScript; then a moderator reads the answers and the
// reports on /admin/feedback, marks a report done (with their name) and
// reopens it. axe-core and the page width at phone and desktop size on
// every state of these pages.
//
// One server and one browser for the whole file. The tests build on each
// other and node:test runs a file's tests in order: tests 1-5 send the
// answers and reports that test 6 finds on /admin/feedback.
//
// The server stores at most 20 answers and reports per reader (here:
// 127.0.0.1) in 10 minutes, and has no switch to raise that: this file
// stores 17 (counted in STORED_BUDGET below), so adding a test that sends
// more needs that budget looked at first.

import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdirSync } from 'node:fs';
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

const ARTICLE_PATH = '/dry-needling/safety/';
const PAGE_TITLE = 'Is Dry Needling Safe?';
const FEEDBACK_PATH = `${ARTICLE_PATH}feedback/`;
const REPORT_PATH = `${ARTICLE_PATH}report/`;

// A moderator, added with `clinic-site staff add` once the server is up.
const MODERATOR = { username: 'maya', name: 'Maya Chen', password: 'meadow kettle drifting 19' };

// What readers are told, word for word.
const ASK = 'Was this page helpful?';
const THANKS = 'Thank you for your feedback';
const THANKS_TEXT = `Your answer helps us make “${PAGE_TITLE}” clearer. We cannot reply to feedback.`;
const REPORT_HEADING = 'Report a problem with this page';
const REPORT_THANKS = 'Thank you for telling us';
const REPORT_THANKS_TEXT = `Clinic staff will check “${PAGE_TITLE}” and put it right. We cannot reply to reports.`;
const BACK = `Back to “${PAGE_TITLE}”`;
// The clinic's number from content/site.toml.
const CLINIC_PHONE = '(555) 010-0142';
const BOX_LABEL = 'What was missing or wrong? (optional)';
const PERSONAL_WARNING = 'Your message looks like it may include a phone number. We do not need these details to improve the page, and we cannot reply to you.';
const TOO_LONG = 'Please keep it to 1,000 characters or fewer. It is 1,001 characters now.';

// The Yes and No buttons say more to a screen reader than they show
// ("Yes, this page was helpful"); browsers put a space before the comma
// where the hidden words start, which a reader does not hear.
const YES_BUTTON = named('Yes', ', this page was helpful');
const NO_BUTTON = named('No', ', this page was not helpful');

const KINDS = ['Wrong information', 'A broken link', 'Hard to understand'];

// What this file sends, so test 6 can look for each of them.
const NOTE_NO = 'The part about bruising does not say how big a bruise is normal.';
const NOTE_PHONE = 'Please ring me on 07700 900123 about the side effects part.';
const NOTE_NO_JS = 'I could not find how long soreness lasts.';
const reportText = (kind, js) => `${kind} in the side effects list (sent ${js ? 'with' : 'without'} JavaScript).`;
const REPORT_PHONE = 'The safety page link is broken, call 07700 900456 if you need more.';
const REPORT_PHONE_CHANGED = 'The safety page link to before your appointment is broken.';

// Stored answers and reports per test, which must stay within the
// server's 20 per reader per 10 minutes: 1 + 1 + 2 + 6 + 1 here, and 3 at
// each of the two sizes in test 7.
const STORED_BUDGET = 1 + 1 + 2 + 6 + 1 + 2 * 3;
assert.ok(STORED_BUDGET <= 20, `this file stores ${STORED_BUDGET} answers and reports, more than the server allows one reader`);

// A report sent less than 3 s after its form was served is dropped as a
// bot's (quietly: the reader still sees the thanks). Wait longer.
const FORM_MIN_AGE_MS = 3_500;

let server;
let browser;

const url = (pathname) => new URL(pathname, server.url).href;
const bin = () => process.env.CLINIC_BIN || path.join(REPO_ROOT, 'target', 'debug', 'clinic-site');

before(async () => {
  server = await startServer();
  // Staff accounts are read from the data folder's database on each
  // request, so adding one now is the same as before the start.
  const args = ['staff', 'add', MODERATOR.username, '--name', MODERATOR.name, '--role', 'moderator', '--data', server.dataDir];
  const add = spawnSync(bin(), args, { input: `${MODERATOR.password}\n`, encoding: 'utf8', timeout: 30_000 });
  assert.equal(add.status, 0, `clinic-site staff add failed (${add.status}):\n${add.stdout}\n${add.stderr}`);
  browser = await launchBrowser();
  mkdirSync(SHOTS_DIR, { recursive: true });
});

after(async () => {
  await browser?.close();
  await server?.stop();
});

// ---------------------------------------------------------------------------
// Helpers

async function open(page, pathname, status = 200) {
  const response = await page.goto(url(pathname));
  assert.equal(response.status(), status, `${pathname} answered ${response.status()}, not ${status}`);
  return response;
}

/** Clicks a form's submit button and waits for the page that answers; returns the POST's own status. */
async function submit(page, button) {
  const posted = page.waitForRequest((req) => req.method() === 'POST' && req.isNavigationRequest() && req.frame() === page.mainFrame());
  await Promise.all([page.waitForEvent('load'), button.click()]);
  const response = await (await posted).response();
  assert.ok(response, 'the form post got no response');
  return { status: response.status(), location: response.headers().location ?? null };
}

/** Follows a link (or a GET form's button) and waits for the new page to load. */
async function follow(page, locator) {
  await Promise.all([page.waitForEvent('load'), locator.click()]);
}

/** Text with runs of white space made one space, as a reader sees it. */
async function textOf(locator) {
  return (await locator.innerText()).replace(/\s+/g, ' ').trim();
}

/** What a sighted reader sees of an element: its text less the parts only screen readers get. */
async function visibleText(locator) {
  const text = await locator.evaluate((el) => {
    const copy = el.cloneNode(true);
    for (const hidden of copy.querySelectorAll('.visually-hidden')) hidden.remove();
    return copy.textContent;
  });
  return text.replace(/\s+/g, ' ').trim();
}

/** The focused element: its tag, id and text. */
function focused(page) {
  return page.evaluate(() => {
    const el = document.activeElement;
    return { tag: el.tagName.toLowerCase(), id: el.id, text: el.textContent.replace(/\s+/g, ' ').trim() };
  });
}

async function signIn(page, person) {
  await open(page, '/admin/login');
  await page.getByLabel('Username').fill(person.username);
  await page.getByLabel('Password', { exact: true }).fill(person.password);
  const post = await submit(page, page.getByRole('button', { name: 'Sign in', exact: true }));
  assert.equal(post.status, 303, `signing in as ${person.username} answered ${post.status}`);
}

/** The article's feedback part (its section, named by its heading whatever that says now). */
const feedbackPart = (page) => page.locator('section#feedback');

/**
 * Marks the document so a test can tell it is still the same one: a page
 * that navigated or reloaded has lost the mark.
 */
async function markDocument(page) {
  await page.evaluate(() => {
    window.__sameDocument = true;
  });
  return async (what) => {
    assert.equal(await page.evaluate(() => window.__sameDocument === true), true, `${what} loaded a new page instead of answering in place`);
    assert.equal(pathOf(page), ARTICLE_PATH, `${what} left the article page`);
  };
}

/**
 * A page's problems, less the ones a form with a mistake causes on
 * purpose: with JavaScript the form is sent with fetch, so its 400 answer
 * (the form again, with the mistake marked) is a sub-resource's status.
 */
function unexpected(problems) {
  const formUrl = url(FEEDBACK_PATH);
  return problems.filter((p) => !(p.includes(`HTTP 400 for fetch ${formUrl}`) || (p.includes('status of 400') && p.includes(formUrl))));
}

/**
 * Runs axe-core on the page as it is and measures its width; returns what
 * is wrong as lines (none when all is well).
 */
async function layoutAndAxe(page, where) {
  const found = [];
  const { violations } = await runAxe(page);
  if (violations.length) found.push(`axe-core violations on ${where}:\n${formatViolations(violations)}`);
  // clientWidth, not innerWidth: a phone zooms out to show a page that is
  // too wide, and innerWidth grows with it.
  const { scrollWidth, clientWidth } = await page.evaluate(() => ({ scrollWidth: document.documentElement.scrollWidth, clientWidth: document.documentElement.clientWidth }));
  if (scrollWidth > clientWidth) found.push(`${where} is ${scrollWidth}px wide, wider than the ${clientWidth}px screen: it scrolls sideways`);
  return found;
}

/** Waits until a form page served at `servedAt` is old enough not to be taken for a bot. */
const oldEnough = (servedAt) => sleep(Math.max(0, servedAt + FORM_MIN_AGE_MS - Date.now()));

/** Fills in and sends the report form on the page, which must be showing it; returns the POST's status. */
async function sendReport(page, kind, text, servedAt) {
  assert.equal(await textOf(page.getByRole('heading', { level: 1 })), REPORT_HEADING);
  await page.getByRole('group', { name: 'What is the problem?' }).getByRole('radio', { name: kind, exact: true }).check();
  await page.getByRole('textbox', { name: 'What is wrong?' }).fill(text);
  await oldEnough(servedAt);
  return submit(page, page.getByRole('button', { name: 'Send', exact: true }));
}

// ---------------------------------------------------------------------------
// Tests

test('1. with JavaScript, Yes opens the form in place with Yes ticked and focus on its heading, and Send thanks the reader there', () =>
  withPage(browser, VIEWPORTS.desktop, async (page) => {
    const problems = watchForProblems(page);
    const csp = await watchForCspViolations(page);
    await open(page, ARTICLE_PATH);
    const part = feedbackPart(page);
    assert.equal(await visibleText(page.getByRole('region', { name: ASK })), `${ASK} Yes No ${REPORT_HEADING}`);
    const sameDocument = await markDocument(page);

    await part.getByRole('button', { name: YES_BUTTON }).click();
    const yes = part.getByRole('radio', { name: 'Yes', exact: true });
    await yes.waitFor();
    await sameDocument('answering Yes');
    assert.equal(await yes.isChecked(), true, 'Yes is ticked');
    assert.equal(await part.getByRole('radio', { name: 'No', exact: true }).isChecked(), false, 'No is not ticked');
    // Focus moves from the button that went away to the heading of what
    // replaced it, which a screen reader reads out; the part is still named by it.
    assert.deepEqual(await focused(page), { tag: 'h2', id: 'feedback-heading', text: ASK });
    assert.equal(await page.getByRole('region', { name: ASK }).count(), 1, 'the feedback part is still a region named by its heading');
    const box = part.getByRole('textbox', { name: BOX_LABEL });
    assert.equal(await box.isVisible(), true, 'the optional box is shown');
    assert.equal(await box.inputValue(), '');
    // On the article page the form's title is a part heading under the
    // article's own h1, not a second h1.
    assert.equal(await page.getByRole('heading', { level: 1 }).count(), 1, 'one h1 on the article page');

    await part.getByRole('button', { name: 'Send', exact: true }).click();
    const thanks = part.getByRole('heading', { level: 2, name: THANKS, exact: true });
    await thanks.waitFor();
    await sameDocument('sending the answer');
    assert.deepEqual(await focused(page), { tag: 'h2', id: 'feedback-heading', text: THANKS }, 'focus is on the thank-you, so it is read out');
    assert.equal(await page.getByRole('region', { name: THANKS }).count(), 1, 'the part is named by the thank-you');
    assert.equal(await textOf(part), `${THANKS} ${THANKS_TEXT} If you have a question about your care, call ${CLINIC_PHONE}. ${BACK}`);
    assert.equal(await part.getByRole('button').count(), 0, 'nothing more to send');
    assert.deepEqual([...unexpected(problems()), ...csp()], []);
  }));

test('2. with JavaScript, No with a note: a note too long is marked, a phone number is warned about, and "Send it as it is" sends it', () =>
  withPage(browser, VIEWPORTS.phone, async (page) => {
    const problems = watchForProblems(page);
    const csp = await watchForCspViolations(page);
    await open(page, ARTICLE_PATH);
    const part = feedbackPart(page);
    const sameDocument = await markDocument(page);
    await part.getByRole('button', { name: NO_BUTTON }).click();
    const box = part.getByRole('textbox', { name: BOX_LABEL });
    await box.waitFor();
    assert.equal(await part.getByRole('radio', { name: 'No', exact: true }).isChecked(), true, 'No is ticked');

    // Too long: the form comes back in place with the mistake listed first.
    await box.fill('a'.repeat(1001));
    await part.getByRole('button', { name: 'Send', exact: true }).click();
    const summary = part.getByRole('alert').filter({ hasText: 'There is a problem' });
    await summary.waitFor();
    await sameDocument('sending a note that is too long');
    assert.equal(await textOf(summary), `There is a problem ${TOO_LONG}`);
    assert.equal(await summary.evaluate((el) => el === document.activeElement), true, 'focus is on the list of problems');
    const link = summary.getByRole('link', { name: TOO_LONG });
    assert.equal(await link.getAttribute('href'), '#feedback-text');
    assert.equal(await box.getAttribute('aria-invalid'), 'true');
    assert.equal(await textOf(part.locator('#feedback-text-error')), `Error: ${TOO_LONG}`);
    assert.match(await box.getAttribute('aria-describedby'), /\bfeedback-text-error\b/, 'the box is described by its error');
    assert.equal((await box.inputValue()).length, 1001, 'what was typed is kept');
    assert.equal(await part.getByRole('radio', { name: 'No', exact: true }).isChecked(), true, 'the answer is kept');

    // A phone number: a warning, not a mistake; nothing is stored until the reader chooses.
    await box.fill(NOTE_PHONE);
    await part.getByRole('button', { name: 'Send', exact: true }).click();
    const warning = part.locator('#personal-details');
    await warning.waitFor();
    await sameDocument('sending a note with a phone number');
    assert.equal(await warning.getAttribute('role'), 'alert');
    // (Its label is shown in capitals by the style sheet; the words are these.)
    assert.equal(await warning.getByRole('heading', { level: 2 }).evaluate((h) => h.textContent.replace(/\s+/g, ' ').trim()), 'Check your message: It may include personal details');
    assert.ok((await textOf(warning)).includes(PERSONAL_WARNING), `the warning says "${await textOf(warning)}"`);
    assert.equal(await box.inputValue(), NOTE_PHONE, 'the note is kept to change or send');
    assert.equal(await part.getByRole('button', { name: 'I have changed it, check again', exact: true }).count(), 1);

    await part.getByRole('button', { name: 'Send it as it is', exact: true }).click();
    await part.getByRole('heading', { level: 2, name: THANKS, exact: true }).waitFor();
    await sameDocument('sending it as it is');
    assert.deepEqual(await focused(page), { tag: 'h2', id: 'feedback-heading', text: THANKS });
    assert.deepEqual([...unexpected(problems()), ...csp()], []);
  }));

test('3. without JavaScript, Yes and No each open the reader\'s own form page, and Send shows a thank-you page with a way back', () =>
  withPage(browser, { ...VIEWPORTS.phone, javaScriptEnabled: false }, async (page) => {
    const problems = watchForProblems(page);
    // Yes, sent as it is.
    await open(page, ARTICLE_PATH);
    await follow(page, feedbackPart(page).getByRole('button', { name: YES_BUTTON }));
    assert.equal(pathOf(page), FEEDBACK_PATH, 'Yes opens the feedback form page');
    assert.equal(new URL(page.url()).search, '?helpful=yes');
    assert.equal(await textOf(page.getByRole('heading', { level: 1 })), ASK);
    assert.equal(await page.getByRole('radio', { name: 'Yes', exact: true }).isChecked(), true, 'Yes is ticked');
    let sent = await submit(page, page.getByRole('button', { name: 'Send', exact: true }));
    assert.equal(sent.status, 200);
    assert.equal(pathOf(page), FEEDBACK_PATH);
    assert.equal(await textOf(page.getByRole('heading', { level: 1 })), THANKS);
    assert.ok((await textOf(page.locator('main'))).includes(THANKS_TEXT));
    await follow(page, page.getByRole('link', { name: BACK, exact: true }));
    assert.equal(pathOf(page), ARTICLE_PATH, 'the way back leads to the article page');

    // No, with a note.
    await follow(page, feedbackPart(page).getByRole('button', { name: NO_BUTTON }));
    assert.equal(new URL(page.url()).search, '?helpful=no');
    assert.equal(await page.getByRole('radio', { name: 'No', exact: true }).isChecked(), true, 'No is ticked');
    await page.getByRole('textbox', { name: BOX_LABEL }).fill(NOTE_NO_JS);
    sent = await submit(page, page.getByRole('button', { name: 'Send', exact: true }));
    assert.equal(sent.status, 200);
    assert.equal(await textOf(page.getByRole('heading', { level: 1 })), THANKS);

    // The form page opened without an answer: sending it asks for one.
    await open(page, FEEDBACK_PATH);
    const refused = await submit(page, page.getByRole('button', { name: 'Send', exact: true }));
    assert.equal(refused.status, 400);
    assert.equal(await textOf(page.getByRole('alert')), 'There is a problem Choose Yes or No');
    assert.equal(await page.getByRole('link', { name: 'Choose Yes or No' }).getAttribute('href'), '#feedback-helpful');
    assert.equal(await textOf(page.locator('#feedback-helpful-error')), 'Error: Choose Yes or No');
    assert.deepEqual(problems(), []);
  }));

test('4. "Report a problem with this page": each kind is sent with JavaScript and without, and a mistake is listed first', async () => {
  for (const js of [true, false]) {
    await withPage(browser, { ...VIEWPORTS.desktop, javaScriptEnabled: js }, async (page) => {
      const problems = watchForProblems(page);
      await open(page, ARTICLE_PATH);
      await follow(page, feedbackPart(page).getByRole('link', { name: REPORT_HEADING, exact: true }));
      assert.equal(pathOf(page), REPORT_PATH, 'the link opens the report form page');

      // Nothing chosen or typed: both mistakes are listed; with
      // JavaScript, focus starts at the list.
      let servedAt = Date.now();
      const refused = await submit(page, page.getByRole('button', { name: 'Send', exact: true }));
      assert.equal(refused.status, 400);
      const summary = page.getByRole('alert');
      assert.equal(await textOf(summary), 'There is a problem Choose what kind of problem it is Tell us what the problem is');
      if (js) assert.equal(await summary.evaluate((el) => el === document.activeElement), true, 'focus is on the list of problems');
      assert.equal(await page.getByRole('link', { name: 'Choose what kind of problem it is' }).getAttribute('href'), '#report-kind');
      assert.equal(await page.getByRole('link', { name: 'Tell us what the problem is' }).getAttribute('href'), '#report-text');
      assert.equal(await page.getByRole('textbox', { name: 'What is wrong?' }).getAttribute('aria-invalid'), 'true');

      for (const kind of KINDS) {
        if (kind !== KINDS[0]) {
          await open(page, REPORT_PATH);
          servedAt = Date.now();
        }
        const sent = await sendReport(page, kind, reportText(kind, js), servedAt);
        assert.equal(sent.status, 200, `sending "${kind}" answered ${sent.status}`);
        assert.equal(await textOf(page.getByRole('heading', { level: 1 })), REPORT_THANKS);
        assert.ok((await textOf(page.locator('main'))).includes(REPORT_THANKS_TEXT), `the thanks for "${kind}"`);
        assert.equal(await page.getByRole('link', { name: BACK, exact: true }).getAttribute('href'), ARTICLE_PATH);
      }
      assert.deepEqual(problems(), []);
    });
  }
});

test('5. a report with a phone number is warned about, and once changed it is sent', () =>
  withPage(browser, { ...VIEWPORTS.phone, javaScriptEnabled: false }, async (page) => {
    await open(page, REPORT_PATH);
    const servedAt = Date.now();
    const warned = await sendReport(page, 'A broken link', REPORT_PHONE, servedAt);
    assert.equal(warned.status, 200);
    const warning = page.locator('#personal-details');
    assert.equal(await warning.getAttribute('role'), 'alert');
    assert.ok((await textOf(warning)).includes(PERSONAL_WARNING), `the warning says "${await textOf(warning)}"`);
    const box = page.getByRole('textbox', { name: 'What is wrong?' });
    assert.equal(await box.inputValue(), REPORT_PHONE, 'the text is kept');
    assert.equal(await page.getByRole('radio', { name: 'A broken link', exact: true }).isChecked(), true, 'the kind is kept');
    await box.fill(REPORT_PHONE_CHANGED);
    const sent = await submit(page, page.getByRole('button', { name: 'I have changed it, check again', exact: true }));
    assert.equal(sent.status, 200);
    assert.equal(await textOf(page.getByRole('heading', { level: 1 })), REPORT_THANKS);
  }));

test('6. a moderator sees the answers and the reports on /admin/feedback, marks a report done with their name, and reopens it', () =>
  withPage(browser, VIEWPORTS.desktop, async (page) => {
    const problems = watchForProblems(page);
    await signIn(page, MODERATOR);
    await open(page, '/admin/feedback');
    assert.equal(await textOf(page.getByRole('heading', { level: 1 })), "Readers' feedback");

    // Yes from tests 1 and 3; No from tests 2 and 3.
    const table = page.getByRole('table', { name: 'Answers per page, most “No” answers first' });
    const row = table.getByRole('row').filter({ has: page.getByRole('link', { name: PAGE_TITLE, exact: true }) });
    assert.deepEqual(await row.getByRole('cell').allInnerTexts(), [PAGE_TITLE, '2', '2']);
    const notes = page.locator('ul.feedback-notes li');
    const noteTexts = (await notes.allInnerTexts()).map((t) => t.replace(/\s+/g, ' ').trim());
    // Staff see the day each was sent as "2 December 2026" (UTC, as the server counts days).
    const now = new Date();
    const MONTH_NAMES = ['January', 'February', 'March', 'April', 'May', 'June', 'July', 'August', 'September', 'October', 'November', 'December'];
    const today = `${now.getUTCDate()} ${MONTH_NAMES[now.getUTCMonth()]} ${now.getUTCFullYear()}`;
    assert.deepEqual(noteTexts.sort(), [
      `No · ${today} ${NOTE_NO_JS}`,
      `No · ${today} The reader was warned this may include personal details and sent it anyway. ${NOTE_PHONE}`,
    ].sort());

    // Seven open reports, each with its kind, page, day and text.
    assert.equal(await page.getByRole('heading', { level: 2, name: 'Problem reports', exact: true }).count(), 1);
    const reports = page.locator('ul.feedback-reports').first().locator('> li');
    const reportTexts = [];
    for (const report of await reports.all()) reportTexts.push(await visibleText(report));
    const expected = [
      ...[true, false].flatMap((js) => KINDS.map((kind) => `${kind} on ${PAGE_TITLE} · ${today} · Open ${reportText(kind, js)} Mark as done`)),
      `A broken link on ${PAGE_TITLE} · ${today} · Open ${REPORT_PHONE_CHANGED} Mark as done`,
    ];
    assert.deepEqual(reportTexts.sort(), expected.sort());
    assert.equal(await page.getByText('No open problem reports.').count(), 0);
    assert.equal(await page.locator('details.feedback-done').count(), 0, 'nothing is done yet');

    // Mark the "Hard to understand" report sent with JavaScript as done.
    const text = reportText('Hard to understand', true);
    const item = page.locator('li.feedback-report-item', { hasText: text });
    const before = Math.floor(Date.now() / 60_000);
    const done = await submit(page, item.getByRole('button', { name: named('Mark as done', `: Hard to understand on ${PAGE_TITLE}`) }));
    const afterMinute = Math.floor(Date.now() / 60_000);
    assert.equal(done.status, 303);
    assert.equal(pathOf(page), '/admin/feedback');
    assert.equal(await textOf(page.getByRole('status')), 'Marked as done, with your name.');
    assert.equal(await page.locator('ul.feedback-reports').first().locator('> li').count(), 6, 'six reports are still open');
    const doneBox = page.locator('details.feedback-done');
    assert.equal(await textOf(doneBox.locator('summary')), 'Done (1)');
    await doneBox.locator('summary').click();
    const closed = doneBox.locator('li.feedback-report-item');
    assert.equal(await closed.count(), 1);
    assert.equal(await textOf(closed.locator('.comment-meta')), `Hard to understand on ${PAGE_TITLE} · ${today} · Done`);
    assert.equal(await textOf(closed.locator('.comment-body')), text);
    const by = await textOf(closed.locator('.closed-by'));
    const moments = [...new Set([before, afterMinute])].map((m) => `Marked as done by ${MODERATOR.name} (${MODERATOR.username}), ${moment(m)}`);
    assert.ok(moments.includes(by), `the report says "${by}", expected one of ${moments.join(' | ')}`);
    assert.equal(await page.locator('ul.feedback-reports').first().locator('li', { hasText: text }).count(), 0, 'it is no longer listed as open');

    // Reopen it.
    const reopened = await submit(page, closed.getByRole('button', { name: named('Reopen', `: Hard to understand on ${PAGE_TITLE}`) }));
    assert.equal(reopened.status, 303);
    assert.equal(await textOf(page.getByRole('status')), 'The report is open again.');
    assert.equal(await page.locator('details.feedback-done').count(), 0, 'nothing is done any more');
    const again = page.locator('ul.feedback-reports').first().locator('li', { hasText: text });
    assert.equal(await textOf(again.locator('.comment-meta')), `Hard to understand on ${PAGE_TITLE} · ${today} · Open`);
    assert.deepEqual(problems(), []);
  }));

test('7. axe-core finds nothing and nothing scrolls sideways, at phone and desktop size, on every state of the feedback part, the form pages and /admin/feedback', async () => {
  const found = [];
  for (const [size, viewport] of Object.entries(VIEWPORTS)) {
    // The feedback part of the article page, answered in place.
    await withPage(browser, viewport, async (page) => {
      const problems = watchForProblems(page);
      const csp = await watchForCspViolations(page);
      const check = async (state) => {
        found.push(...(await layoutAndAxe(page, `the article's feedback part, ${state} (${size})`)));
        await feedbackPart(page).screenshot({ path: path.join(SHOTS_DIR, `feedback-${state.replace(/\W+/g, '-')}-${size}.png`) });
      };
      await open(page, ARTICLE_PATH);
      const part = feedbackPart(page);
      await check('first shown');
      await part.getByRole('button', { name: YES_BUTTON }).click();
      const box = part.getByRole('textbox', { name: BOX_LABEL });
      await box.waitFor();
      await check('after Yes');
      await box.fill(NOTE_NO);
      await part.getByRole('radio', { name: 'No', exact: true }).check();
      await check('with a note typed');
      await box.fill('b'.repeat(1001));
      await part.getByRole('button', { name: 'Send', exact: true }).click();
      await part.getByRole('alert').filter({ hasText: 'There is a problem' }).waitFor();
      await check('with a mistake');
      await box.fill(NOTE_PHONE);
      await part.getByRole('button', { name: 'Send', exact: true }).click();
      await part.locator('#personal-details').waitFor();
      await check('with the personal-details warning');
      await box.fill(NOTE_NO);
      await part.getByRole('button', { name: 'I have changed it, check again', exact: true }).click();
      await part.getByRole('heading', { level: 2, name: THANKS, exact: true }).waitFor();
      await check('thanks');
      const issues = [...unexpected(problems()), ...csp()];
      assert.deepEqual(issues, [], `problems on the article page (${size}):\n  ${issues.join('\n  ')}`);
    });

    // The form pages a reader without JavaScript gets. axe-core is a
    // script, so it runs in a page with JavaScript on: these pages are
    // the same HTML either way (the script only moves focus).
    await withPage(browser, viewport, async (page) => {
      const check = async (where) => {
        found.push(...(await layoutAndAxe(page, `${where} (${size})`)));
        await page.screenshot({ path: path.join(SHOTS_DIR, `feedback-${where.replace(/\W+/g, '-')}-${size}.png`), fullPage: true });
      };
      await open(page, `${FEEDBACK_PATH}?helpful=no`);
      await check('the feedback form page');
      await submit(page, page.getByRole('button', { name: 'Send', exact: true }));
      assert.equal(await textOf(page.getByRole('heading', { level: 1 })), THANKS);
      await check('the feedback thank-you page');
      await open(page, FEEDBACK_PATH);
      assert.equal((await submit(page, page.getByRole('button', { name: 'Send', exact: true }))).status, 400);
      await check('the feedback form page with a mistake');

      await open(page, REPORT_PATH);
      const servedAt = Date.now();
      await check('the report form page');
      assert.equal((await submit(page, page.getByRole('button', { name: 'Send', exact: true }))).status, 400);
      await check('the report form page with mistakes');
      await sendReport(page, 'Wrong information', REPORT_PHONE, servedAt);
      await page.locator('#personal-details').waitFor();
      await check('the report form page with the personal-details warning');
      await page.getByRole('textbox', { name: 'What is wrong?' }).fill(`${REPORT_PHONE_CHANGED} (${size})`);
      await submit(page, page.getByRole('button', { name: 'I have changed it, check again', exact: true }));
      assert.equal(await textOf(page.getByRole('heading', { level: 1 })), REPORT_THANKS);
      await check('the report thank-you page');
    });

    // The staff page with an open and a done report.
    await withPage(browser, viewport, async (page) => {
      await signIn(page, MODERATOR);
      await open(page, '/admin/feedback');
      const first = page.locator('ul.feedback-reports').first().locator('> li').first();
      await submit(page, first.getByRole('button', { name: /^Mark as done ?:/ }));
      assert.equal(await page.locator('ul.feedback-reports').first().locator('> li').count() > 0, true, 'an open report is left');
      await page.locator('details.feedback-done summary').click();
      assert.equal(await page.locator('details.feedback-done li').count(), 1, 'one report is done');
      found.push(...(await layoutAndAxe(page, `/admin/feedback with an open and a done report (${size})`)));
      await page.screenshot({ path: path.join(SHOTS_DIR, `feedback-admin-${size}.png`), fullPage: true });
      await submit(page, page.locator('details.feedback-done').getByRole('button', { name: /^Reopen ?:/ }));
      assert.equal(await page.locator('details.feedback-done').count(), 0, 'the report is open again for the next size');
    });
  }
  assert.equal(found.length, 0, found.join('\n'));
});

// ---------------------------------------------------------------------------
// Small helpers

const MONTHS = ['January', 'February', 'March', 'April', 'May', 'June', 'July', 'August', 'September', 'October', 'November', 'December'];

/** "2 December 2026", as the site writes a day (in UTC, as the server counts days). */
function longDate(date) {
  return `${date.getUTCDate()} ${MONTHS[date.getUTCMonth()]} ${date.getUTCFullYear()}`;
}

/** "2 December 2026, 07:05 UTC" for a minute since 1970. */
function moment(minute) {
  const d = new Date(minute * 60_000);
  const two = (n) => String(n).padStart(2, '0');
  return `${longDate(d)}, ${two(d.getUTCHours())}:${two(d.getUTCMinutes())} UTC`;
}

/** Text for a regular expression that matches it exactly. */
function escapeRegExp(text) {
  return text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}

/**
 * A control's name made of its visible words and a part only screen
 * readers get: browsers may put a space where the hidden part starts.
 */
function named(visible, hidden) {
  return new RegExp(`^${escapeRegExp(visible)} ?${escapeRegExp(hidden)}$`);
}
