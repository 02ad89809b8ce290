// Browser checks of the staff area with personal accounts and roles: an
// owner (added on the command line) adds an editor and a moderator from
// /admin/staff, each sets a password with their one-time link in their own
// browser and signs in; the roles open only their own pages; a used link is
// refused; sign-in works from the keyboard alone; the activity record names
// who did what; and axe-core finds nothing on any staff page at phone and
// desktop sizes. Screenshots of the staff and activity pages go to
// /tmp/e2e-shots/ for people to look at.
//
// One server and one browser for the whole file. The tests build on each
// other and node:test runs a file's tests in order: test 1 adds the people
// (and their links) that tests 2-8 use, test 2 sets their passwords.

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

/** Screenshots for people to look at; outside the repository, never committed. */
const SHOTS_DIR = '/tmp/e2e-shots';

// The owner is added on the server's command line; the others from the
// staff page. Each password passes the policy (12+ characters, not common).
const OWNER = { username: 'olive', name: 'Olive Hart', roles: ['owner'], password: 'harbour violet compass 82' };
const EDITOR = { username: 'eli.navarro', name: 'Eli Navarro', roles: ['editor'], password: 'lantern otter quietly 47' };
const MODERATOR = { username: 'maya', name: 'Maya Chen', roles: ['moderator'], password: 'meadow kettle drifting 19' };

/** How the activity record and the staff navigation name a person. */
const label = (person) => `${person.name} (${person.username})`;

// A reader's comment, waiting for review while the staff pages are checked.
const FORM_PATH = '/dry-needling/migraines/comment/';
const COMMENT = { name: 'Robin', text: 'The exercises from my last visit have really helped with my neck stiffness.' };
// The server drops, as a bot, a post sent less than 3 s after it served
// the form (quietly: the reader still sees the thank-you). Wait longer.
const FORM_MIN_AGE_MS = 3_500;

const FORBIDDEN_HEADING = 'Your role cannot do this';

let server;
let browser;
/** Set-password links shown to the owner in test 1, by username: full addresses. */
const links = {};

const url = (pathname) => new URL(pathname, server.url).href;
const bin = () => process.env.CLINIC_BIN || path.join(REPO_ROOT, 'target', 'debug', 'clinic-site');

before(async () => {
  server = await startServer();
  // Staff accounts live in the server's SQLite database, read on each
  // request, so adding the first owner now is the same as before the start.
  const args = ['staff', 'add', OWNER.username, '--name', OWNER.name, ...OWNER.roles.flatMap((r) => ['--role', r]), '--data', server.dataDir];
  const add = spawnSync(bin(), args, { input: `${OWNER.password}\n`, encoding: 'utf8', timeout: 30_000 });
  assert.equal(add.status, 0, `clinic-site staff add failed (${add.status}):\n${add.stdout}\n${add.stderr}`);
  browser = await launchBrowser();
  mkdirSync(SHOTS_DIR, { recursive: true });
  // A reader's comment waiting for review: the moderator should see it on
  // /admin and the editor should not.
  await withPage(browser, VIEWPORTS.desktop, async (page) => {
    await open(page, FORM_PATH);
    const servedAt = Date.now();
    await page.locator('#comment-name').fill(COMMENT.name);
    await page.locator('#comment-text').fill(COMMENT.text);
    await page.locator('#comment-consent').check();
    await sleep(Math.max(0, servedAt + FORM_MIN_AGE_MS - Date.now()));
    const post = await submit(page, page.getByRole('button', { name: 'Post comment', exact: true }));
    assert.equal(post.status, 303, `posting the reader's comment answered ${post.status}`);
  });
  const stored = spawnSync(bin(), ['comments', 'export', '--format', 'json', '--data', server.dataDir], { encoding: 'utf8', timeout: 30_000 });
  assert.equal(stored.status, 0, `clinic-site comments export failed (${stored.status}):\n${stored.stderr}`);
  const waiting = JSON.parse(stored.stdout).filter((c) => c.body === COMMENT.text && String(c.status).toLowerCase() === 'pending');
  assert.equal(waiting.length, 1, 'the reader\'s comment was not stored as waiting for review (posted too soon, taken for a bot?)');
});

after(async () => {
  await browser?.close();
  await server?.stop();
});

// ---------------------------------------------------------------------------
// Helpers

/** Loads the page at `pathname` and asserts the status. */
async function open(page, pathname, status = 200) {
  const response = await page.goto(url(pathname));
  assert.equal(response.status(), status, `${pathname} answered ${response.status()}, not ${status}`);
  return response;
}

/**
 * Clicks a form's submit button and waits for the page that answers to
 * load. Returns the POST's own response (before any redirect).
 */
async function submit(page, button) {
  const posted = page.waitForRequest((req) => req.method() === 'POST' && req.isNavigationRequest() && req.frame() === page.mainFrame());
  await Promise.all([page.waitForEvent('load'), button.click()]);
  const response = await (await posted).response();
  assert.ok(response, 'the form post got no response');
  return { status: response.status(), location: response.headers().location ?? null, url: response.url() };
}

/** The page's text with runs of white space made one space. */
async function textOf(locator) {
  return (await locator.innerText()).replace(/\s+/g, ' ').trim();
}

/** Signs in at /admin/login with the form and lands on /admin, signed in as `person`. */
async function signIn(page, person) {
  await open(page, '/admin/login');
  await page.locator('#username').fill(person.username);
  await page.locator('#password').fill(person.password);
  const post = await submit(page, page.getByRole('button', { name: 'Sign in', exact: true }));
  assert.equal(post.status, 303, `signing in as ${person.username} answered ${post.status}`);
  await assertSignedInAs(page, person);
}

/** Asserts the page is /admin and the staff navigation names `person` and their roles. */
async function assertSignedInAs(page, person) {
  assert.equal(pathOf(page), '/admin', `after signing in as ${person.username} the page is ${page.url()}`);
  const who = await textOf(page.locator('nav.admin-nav .admin-who'));
  assert.ok(who.includes(`Signed in as ${person.name} (${person.roles.join(', ')})`), `the staff navigation says "${who}" for ${person.username}`);
}

/** The staff navigation's links, as [{ text, path }]. */
function navLinks(page) {
  return page.locator('nav.admin-nav ul a').evaluateAll((links) => links.map((a) => ({ text: a.textContent.trim(), path: new URL(a.href).pathname })));
}

/** Asserts the page is the 403 "your role cannot do this" page naming the role needed. */
async function assertForbidden(page, pathname, response, role = 'owner') {
  assert.equal(response.status(), 403, `${pathname} answered ${response.status()}, not 403`);
  assert.equal((await page.locator('h1').textContent()).trim(), FORBIDDEN_HEADING, `the heading of the 403 page at ${pathname}`);
  assert.ok((await textOf(page.locator('main'))).includes(`the ${role} role`), `the 403 page at ${pathname} does not say it needs the ${role} role`);
}

/** The set-password link shown on the staff page, with the name it is for. */
async function shownLink(page) {
  const link = page.locator('#set-password-link');
  assert.equal(await link.count(), 1, `no #set-password-link on ${page.url()}`);
  assert.ok(await link.isVisible(), 'the set-password link is not visible');
  return { address: (await link.textContent()).trim(), heading: await textOf(page.locator('#link-heading')) };
}

/** The path of a set-password link, to open on the test server. */
function linkPath(address) {
  const { pathname } = new URL(address);
  assert.match(pathname, /^\/admin\/set-password\/[^/]{16,}$/, `"${address}" does not look like a set-password link`);
  return pathname;
}

/** Adds a person with the staff page's form (roles as checkboxes) and returns the link shown. */
async function addPerson(page, person) {
  const form = page.locator('form[action="/admin/staff"]');
  await form.locator('#username').fill(person.username);
  await form.locator('#name').fill(person.name);
  for (const role of person.roles) await form.getByRole('checkbox', { name: new RegExp(`^${role}:`) }).check();
  const post = await submit(page, form.getByRole('button', { name: 'Add person', exact: true }));
  assert.equal(post.status, 200, `adding ${person.username} answered ${post.status}`);
  const done = page.locator('p.notice[role=status]');
  assert.equal((await done.textContent()).trim(), `${person.name} is added as ${person.roles.join(', ')}.`);
  const { address, heading } = await shownLink(page);
  assert.equal(heading, `Set-password link for ${person.name}`);
  const row = await textOf(page.locator(`#person-${person.username.replace('.', '\\.')}`));
  assert.ok(row.includes(person.name) && row.includes(person.roles.join(', ')) && row.includes('Waiting to set a password'), `the staff table's row for ${person.username}: "${row}"`);
  return address;
}

/** The activity table's rows, as [{ who, what, about, details }], newest first. */
function activityRows(page) {
  return page.locator('table.admin-table tbody tr').evaluateAll((rows) =>
    rows.map((tr) => {
      const [, who, what, about, details] = [...tr.cells].map((td) => td.textContent.replace(/\s+/g, ' ').trim());
      return { who, what, about, details };
    }),
  );
}

/** Runs axe-core and returns its violations as text, or '' when there are none. */
async function axeReport(page, where) {
  const { violations } = await runAxe(page);
  return violations.length ? `axe-core violations on ${where}:\n${formatViolations(violations)}` : '';
}

async function shot(page, name) {
  await page.screenshot({ path: path.join(SHOTS_DIR, `staff-${name}.png`), fullPage: true });
}

/**
 * Opens a fresh context at `viewport`, watches it for console errors,
 * failed requests and CSP violations, runs `fn(page, check)`, where
 * `check(where)` runs axe-core on the page as it is now and measures its
 * width, then asserts axe-core, the widths and the watchers found nothing.
 */
function checkedPages(viewport, fn) {
  return withPage(browser, viewport, async (page) => {
    const problems = watchForProblems(page);
    const csp = await watchForCspViolations(page);
    const reports = [];
    const checked = [];
    await fn(page, async (where) => {
      checked.push(where);
      reports.push(await axeReport(page, where));
      // Nothing may make the page wider than the screen (a wide table
      // scrolls in its own box).
      // (clientWidth, not innerWidth: a phone zooms out to show a page
      // that is too wide, and innerWidth grows with it.)
      const { scrollWidth, clientWidth } = await page.evaluate(() => ({ scrollWidth: document.documentElement.scrollWidth, clientWidth: document.documentElement.clientWidth }));
      if (scrollWidth > clientWidth) reports.push(`${where} is ${scrollWidth}px wide, wider than the ${clientWidth}px screen: it scrolls sideways`);
    });
    assert.ok(checked.length > 0, 'no page was checked');
    const found = reports.filter(Boolean);
    assert.equal(found.length, 0, found.join('\n'));
    const issues = [...problems(), ...csp()];
    assert.deepEqual(issues, [], `problems on ${checked.join(', ')}:\n  ${issues.join('\n  ')}`);
  });
}

// ---------------------------------------------------------------------------
// Tests

test('1. an owner signs in and adds an editor and a moderator on /admin/staff; each set-password link is shown once', () =>
  withPage(browser, VIEWPORTS.desktop, async (page) => {
    await page.goto(url('/admin/staff'));
    assert.equal(pathOf(page), '/admin/login', `/admin/staff before signing in ended at ${page.url()}, not the sign-in page`);
    await signIn(page, OWNER);
    assert.deepEqual(
      await navLinks(page),
      [
        { text: 'Dashboard', path: '/admin' },
        { text: 'Comments', path: '/admin/comments' },
        { text: 'Feedback', path: '/admin/feedback' },
        { text: 'Pages', path: '/admin/pages' },
        { text: 'Pictures', path: '/admin/images' },
        { text: 'Reviews', path: '/admin/reviews' },
        { text: 'Quality', path: '/admin/quality' },
        { text: 'Staff', path: '/admin/staff' },
        { text: 'Activity', path: '/admin/activity' },
        { text: 'Your account', path: '/admin/account' },
      ],
      'the owner\'s staff navigation',
    );
    await Promise.all([page.waitForEvent('load'), page.locator('nav.admin-nav').getByRole('link', { name: 'Staff', exact: true }).click()]);
    assert.equal(pathOf(page), '/admin/staff');
    assert.equal((await page.locator('h1').textContent()).trim(), 'Staff');
    assert.equal(await page.locator('#set-password-link').count(), 0, 'a set-password link shows before anyone was added');

    links[EDITOR.username] = await addPerson(page, EDITOR);
    links[MODERATOR.username] = await addPerson(page, MODERATOR);
    assert.notEqual(links[EDITOR.username], links[MODERATOR.username], 'the editor and the moderator got the same link');
    // The link is for passing on, so it must be a whole address on this site.
    for (const address of Object.values(links)) assert.match(address, /^https?:\/\/[^/]+\/admin\/set-password\//, `the link shown is "${address}"`);

    // Shown only once: the page loaded again has no link.
    await open(page, '/admin/staff');
    assert.equal(await page.locator('#set-password-link').count(), 0, 'the set-password link is shown again after a reload');
    const people = await page.locator('table.admin-table tbody tr[id^="person-"]').evaluateAll((rows) => rows.map((tr) => tr.id));
    assert.deepEqual(people.sort(), [`person-${EDITOR.username}`, `person-${MODERATOR.username}`, `person-${OWNER.username}`].sort());
  }));

test('2. the editor and the moderator each set a password with their link in a fresh browser and sign in', async () => {
  for (const person of [EDITOR, MODERATOR]) {
    await withPage(browser, VIEWPORTS.phone, async (page) => {
      const linkAt = linkPath(links[person.username]);
      await open(page, linkAt);
      assert.equal((await page.locator('h1').textContent()).trim(), 'Set your password');
      const intro = await textOf(page.locator('main'));
      assert.ok(intro.includes(`Hello ${person.name}.`) && intro.includes(`sign in with as ${person.username}.`), `the set-password page does not greet ${person.username}: ${intro}`);

      // A password the policy refuses keeps the person on the page with the reason.
      await page.locator('#password').fill('short one');
      await page.locator('#again').fill('short one');
      // The browser itself would stop a too-short password (minlength); send it anyway to see the server's answer.
      await page.locator('#password').evaluate((input) => input.removeAttribute('minlength'));
      const refused = await submit(page, page.getByRole('button', { name: 'Set password', exact: true }));
      assert.equal(refused.status, 422, `a too-short password answered ${refused.status}`);
      assert.match(await textOf(page.locator('.error-summary')), /at least 12 characters/);
      assert.equal(await page.locator('#password').getAttribute('aria-invalid'), 'true');

      await page.locator('#password').fill(person.password);
      await page.locator('#again').fill(person.password);
      const set = await submit(page, page.getByRole('button', { name: 'Set password', exact: true }));
      assert.equal(set.status, 303, `setting ${person.username}'s password answered ${set.status}`);
      assert.equal(pathOf(page), '/admin/login', `after setting a password the page is ${page.url()}`);
      assert.equal((await page.locator('p.notice[role=status]').textContent()).trim(), 'Your password is set. Sign in with your username and the new password.');

      await page.locator('#username').fill(person.username);
      await page.locator('#password').fill(person.password);
      const signedIn = await submit(page, page.getByRole('button', { name: 'Sign in', exact: true }));
      assert.equal(signedIn.status, 303, `signing in as ${person.username} answered ${signedIn.status}`);
      await assertSignedInAs(page, person);
    });
  }
});

test('3. a set-password link used a second time says it has already been used (410) and offers no form', () =>
  withPage(browser, VIEWPORTS.desktop, async (page) => {
    const linkAt = linkPath(links[EDITOR.username]);
    await open(page, linkAt, 410);
    assert.match(await textOf(page.locator('.error-summary')), /already been used/);
    assert.equal(await page.locator('#password').count(), 0, 'a used link still shows the password form');
    // Nor can the form be sent to it.
    const status = await page.evaluate(
      (action) => fetch(action, { method: 'POST', body: new URLSearchParams({ password: 'another long password 9', again: 'another long password 9' }) }).then((r) => r.status),
      linkAt,
    );
    assert.equal(status, 410, `sending a new password to a used link answered ${status}`);
  }));

test('4. the moderator sees the waiting comment but cannot open /admin/staff or /admin/activity, nor sees links to them', () =>
  withPage(browser, VIEWPORTS.phone, async (page) => {
    await signIn(page, MODERATOR);
    assert.deepEqual(await navLinks(page), [
      { text: 'Dashboard', path: '/admin' },
      { text: 'Comments', path: '/admin/comments' },
      { text: 'Feedback', path: '/admin/feedback' },
      { text: 'Your account', path: '/admin/account' },
    ]);
    const waiting = await page.locator('#table-comments tbody tr').count();
    assert.equal(waiting, 1, 'the moderator\'s dashboard does not list the one comment waiting');
    await Promise.all([page.waitForEvent('load'), page.getByRole('link', { name: 'Moderate comments', exact: true }).click()]);
    assert.equal(pathOf(page), '/admin/comments');
    const pending = await page.locator('#pending + ol li.moderation-item .comment-body').allTextContents();
    assert.deepEqual(pending.map((t) => t.trim()), [COMMENT.text], 'the moderator\'s list of comments waiting');

    for (const pathname of ['/admin/staff', '/admin/activity']) {
      const response = await page.goto(url(pathname));
      await assertForbidden(page, pathname, response);
    }
    // Sending the add form with the session's own CSRF token is refused too.
    await open(page, '/admin/account');
    const csrf = await page.locator('input[name=csrf]').first().inputValue();
    const status = await page.evaluate(
      (csrf) => fetch('/admin/staff', { method: 'POST', body: new URLSearchParams({ csrf, username: 'sneaky', name: 'Sneaky Person', role: 'owner' }) }).then((r) => r.status),
      csrf,
    );
    assert.equal(status, 403, `the moderator adding an owner answered ${status}`);
    const list = spawnSync(bin(), ['staff', 'list', '--data', server.dataDir], { encoding: 'utf8', timeout: 30_000 });
    assert.equal(list.status, 0, list.stderr);
    assert.ok(!list.stdout.includes('sneaky'), `the refused add still added someone:\n${list.stdout}`);
  }));

test('5. the editor\'s dashboard shows the reading figures and no comments to moderate; the owner pages are closed to them', () =>
  withPage(browser, VIEWPORTS.desktop, async (page) => {
    await signIn(page, EDITOR);
    assert.deepEqual(await navLinks(page), [
      { text: 'Dashboard', path: '/admin' },
      { text: 'Feedback', path: '/admin/feedback' },
      { text: 'Pages', path: '/admin/pages' },
      { text: 'Pictures', path: '/admin/images' },
      { text: 'Quality', path: '/admin/quality' },
      { text: 'Your account', path: '/admin/account' },
    ]);
    const headings = (await page.locator('main section.figures h2').allTextContents()).map((h) => h.trim());
    assert.deepEqual(
      headings,
      ['Views per day, last 30 days', 'Views per page', 'Sites that sent readers', 'Sharing', 'Was this page helpful?', 'Problem reports', 'Comments waiting for review', 'Clinical review'],
      'the editor\'s dashboard panels',
    );
    const main = await textOf(page.locator('main'));
    assert.ok(!main.includes(COMMENT.text), 'the editor\'s dashboard shows a reader\'s comment');
    for (const selector of ['#pending', '#approved', 'ul.counts', '.moderation-item', 'form[action*="/admin/comments/"]', 'a[href="/admin/comments"]']) {
      assert.equal(await page.locator(selector).count(), 0, `the editor's dashboard has ${selector}`);
    }
    const comments = await page.goto(url('/admin/comments'));
    await assertForbidden(page, '/admin/comments', comments, 'moderator');
    const response = await page.goto(url('/admin/staff'));
    await assertForbidden(page, '/admin/staff', response);
  }));

test('6. keyboard only: Tab to the username, type, Tab to the password, type, Enter, and arrive on /admin signed in; focus is visible', () =>
  withPage(browser, VIEWPORTS.desktop, async (page) => {
    await open(page, '/admin/login');
    const focused = () =>
      page.evaluate(() => {
        const el = document.activeElement;
        const style = getComputedStyle(el);
        return { id: el.id, tag: el.tagName.toLowerCase(), outlineStyle: style.outlineStyle, outlineWidth: style.outlineWidth, outlineColor: style.outlineColor };
      });
    // The skip link and the site header come first; the username is the
    // first form field, reached within a few presses.
    const order = [];
    for (let i = 0; i < 20 && (await focused()).id !== 'username'; i++) {
      await page.keyboard.press('Tab');
      const now = await focused();
      order.push(now.id ? `#${now.id}` : now.tag);
    }
    const onUsername = await focused();
    assert.equal(onUsername.id, 'username', `Tab never reached the username field; focus went ${order.join(' -> ')}`);
    for (const [what, f] of [['username', onUsername]]) {
      assert.notEqual(f.outlineStyle, 'none', `the focused ${what} field has no outline`);
      assert.notEqual(f.outlineWidth, '0px', `the focused ${what} field has a 0px outline`);
    }
    await page.keyboard.type(MODERATOR.username);
    await page.keyboard.press('Tab');
    const onPassword = await focused();
    assert.equal(onPassword.id, 'password', `Tab from the username went to ${onPassword.id || onPassword.tag}, not the password`);
    assert.notEqual(onPassword.outlineStyle, 'none', 'the focused password field has no outline');
    assert.notEqual(onPassword.outlineWidth, '0px', 'the focused password field has a 0px outline');
    await page.keyboard.type(MODERATOR.password);
    await Promise.all([page.waitForURL(url('/admin')), page.keyboard.press('Enter')]);
    await page.waitForLoadState('load');
    await assertSignedInAs(page, MODERATOR);
  }));

test('7. the owner\'s /admin/activity lists the additions and sign-ins with the right names', () =>
  withPage(browser, VIEWPORTS.desktop, async (page) => {
    await signIn(page, OWNER);
    await open(page, '/admin/activity');
    const rows = await activityRows(page);
    const has = (who, what, about) => rows.some((r) => r.who === who && r.what === what && r.about === about);
    const expected = [
      ['the command line on the server', 'Added a person', OWNER.username],
      [label(OWNER), 'Added a person', EDITOR.username],
      [label(OWNER), 'Added a person', MODERATOR.username],
      [label(OWNER), 'Signed in', OWNER.username],
      [label(EDITOR), 'Set a password with a link', EDITOR.username],
      [label(MODERATOR), 'Set a password with a link', MODERATOR.username],
      [label(EDITOR), 'Signed in', EDITOR.username],
      [label(MODERATOR), 'Signed in', MODERATOR.username],
    ];
    const missing = expected.filter(([who, what, about]) => !has(who, what, about));
    assert.deepEqual(missing, [], `entries missing from /admin/activity; it lists:\n${rows.map((r) => `  ${r.who} | ${r.what} | ${r.about} | ${r.details}`).join('\n')}`);
    const addedEditor = rows.find((r) => r.what === 'Added a person' && r.about === EDITOR.username);
    assert.match(addedEditor.details, /editor/, 'the entry for adding the editor does not name the role');

    // The filters: only additions, newest first.
    await page.locator('#kind').selectOption('account-added');
    await Promise.all([page.waitForEvent('load'), page.getByRole('button', { name: 'Show', exact: true }).click()]);
    assert.equal(new URL(page.url()).searchParams.get('kind'), 'account-added');
    assert.deepEqual(
      (await activityRows(page)).map((r) => [r.who, r.about]),
      [
        [label(OWNER), MODERATOR.username],
        [label(OWNER), EDITOR.username],
        ['the command line on the server', OWNER.username],
      ],
      'the additions, newest first',
    );
    // Only what the editor did.
    await page.locator('#kind').selectOption('');
    await page.locator('#person').selectOption(EDITOR.username);
    await Promise.all([page.waitForEvent('load'), page.getByRole('button', { name: 'Show', exact: true }).click()]);
    const editorRows = await activityRows(page);
    assert.ok(editorRows.length >= 2, `the editor's entries: ${JSON.stringify(editorRows)}`);
    assert.deepEqual([...new Set(editorRows.map((r) => r.who))], [label(EDITOR)], 'filtering by the editor shows other people\'s entries');
  }));

test('8. axe-core finds no WCAG 2.2 A/AA violations (target-size on) on any staff page, at phone and desktop sizes', async (t) => {
  for (const [viewportName, viewport] of Object.entries(VIEWPORTS)) {
    await t.test(`sign-in page, clean and with an error (${viewportName})`, () =>
      checkedPages(viewport, async (page, check) => {
        await open(page, '/admin/login');
        await check(`/admin/login (${viewportName})`);
        await page.locator('#username').fill(EDITOR.username);
        await page.locator('#password').fill('not the right password');
        const wrong = await submit(page, page.getByRole('button', { name: 'Sign in', exact: true }));
        assert.equal(wrong.status, 401, `a wrong password answered ${wrong.status}`);
        assert.ok(await page.locator('.error-summary').isVisible(), 'no error shown after a wrong password');
        await check(`/admin/login with an error (${viewportName})`);
        await shot(page, `login-error-${viewportName}`);
      }));

    let freshLink;
    await t.test(`owner: /admin/staff with a link shown and with every person's details open; /admin/activity; /admin; /admin/account (${viewportName})`, () =>
      checkedPages(viewport, async (page, check) => {
        await signIn(page, OWNER);
        await check(`/admin, the owner's dashboard (${viewportName})`);
        await open(page, '/admin/comments');
        await check(`/admin/comments with a comment waiting (${viewportName})`);
        await open(page, '/admin/staff');
        // A new link for the editor: their password keeps working until it is used.
        const details = page.locator(`#person-${EDITOR.username.replace('.', '\\.')} + tr details`);
        await details.locator('summary').click();
        const made = await submit(page, details.getByRole('button', { name: /^Make a set-password link\b/ }));
        assert.equal(made.status, 200, `making a set-password link answered ${made.status}`);
        freshLink = linkPath((await shownLink(page)).address);
        await check(`/admin/staff with a set-password link shown (${viewportName})`);
        await shot(page, `staff-link-${viewportName}`);

        const summaries = page.locator('table.admin-table summary');
        assert.equal(await summaries.count(), 3, 'expected a "Change ..." summary for each of the three people');
        for (const summary of await summaries.all()) await summary.click();
        assert.equal(await page.locator('table.admin-table details[open]').count(), 3, 'not every person\'s details opened');
        await check(`/admin/staff with every person's details open (${viewportName})`);
        await shot(page, `staff-open-${viewportName}`);

        await open(page, '/admin/activity');
        assert.ok((await activityRows(page)).length >= 8, 'too few entries on /admin/activity to check');
        await check(`/admin/activity with entries (${viewportName})`);
        await shot(page, `activity-${viewportName}`);

        // The reading figures: charts are images named by a title and
        // described by their summary sentence, each with a table.
        await open(page, '/admin');
        for (const chart of await page.locator('svg.chart').all()) {
          assert.equal(await chart.getAttribute('role'), 'img', 'a chart is not one image to screen readers');
          const described = await chart.getAttribute('aria-describedby');
          assert.ok((await page.locator(`#${described}`).textContent()).trim(), `chart ${described} has no summary`);
        }
        await check(`/admin, the dashboard's charts (${viewportName})`);
        await shot(page, `dashboard-${viewportName}`);

        await open(page, '/admin/account');
        await check(`/admin/account (${viewportName})`);
        await shot(page, `account-${viewportName}`);
      }));

    await t.test(`set-password page from a fresh link, and the page for a used link (${viewportName})`, () =>
      checkedPages(viewport, async (page, check) => {
        assert.ok(freshLink, 'the owner test made no fresh link');
        await open(page, freshLink);
        assert.ok(await page.locator('#password').isVisible(), 'the fresh link shows no password form');
        await check(`/admin/set-password/<token> (${viewportName})`);
        await open(page, linkPath(links[EDITOR.username]), 410);
        await check(`/admin/set-password/<used token> (${viewportName})`);
      }));

    await t.test(`moderator: the dashboard and /admin/comments with a comment waiting, /admin/account and the 403 page (${viewportName})`, () =>
      checkedPages(viewport, async (page, check) => {
        await signIn(page, MODERATOR);
        assert.equal(await page.locator('#table-comments tbody tr').count(), 1, 'no comment waiting on the moderator\'s dashboard');
        await check(`/admin, the moderator's dashboard (${viewportName})`);
        await shot(page, `dashboard-moderator-${viewportName}`);
        await open(page, '/admin/comments');
        assert.equal(await page.locator('#pending + ol li.moderation-item').count(), 1, 'no comment waiting on /admin/comments');
        await check(`/admin/comments as a moderator with a comment waiting (${viewportName})`);
        await shot(page, `admin-moderator-${viewportName}`);
        await open(page, '/admin/account');
        await check(`/admin/account as a moderator (${viewportName})`);
        await assertForbidden(page, '/admin/staff', await page.goto(url('/admin/staff')));
        await check(`the 403 page at /admin/staff (${viewportName})`);
        await shot(page, `forbidden-${viewportName}`);
      }));

    await t.test(`editor: the dashboard without comments to moderate (${viewportName})`, () =>
      checkedPages(viewport, async (page, check) => {
        await signIn(page, EDITOR);
        assert.equal(await page.locator('.moderation-item').count(), 0);
        assert.ok((await page.locator('#table-reviews tbody tr').count()) >= 7, 'the editor\'s dashboard shows no review queue');
        await check(`/admin, the editor's dashboard (${viewportName})`);
        await shot(page, `admin-editor-${viewportName}`);
        await open(page, '/admin/pages');
        assert.ok((await page.locator('table.admin-table tbody tr').count()) >= 7, 'too few pages listed on /admin/pages');
        await check(`/admin/pages (${viewportName})`);
        await shot(page, `pages-${viewportName}`);
        await Promise.all([page.waitForEvent('load'), page.locator('table.admin-table tbody a', { hasText: 'History' }).first().click()]);
        assert.match(pathOf(page), /^\/admin\/pages\/[^/]+\/[^/]+\/history$/, `the History link led to ${page.url()}`);
        await check(`a page's history (${viewportName})`);
        await Promise.all([page.waitForEvent('load'), page.getByRole('button', { name: 'Compare' }).click()]);
        assert.equal(await page.locator('#compare-heading').count(), 1, 'comparing showed no comparison');
        await check(`a page's history comparing two versions (${viewportName})`);
      }));

    await t.test(`/admin/account/two-step (${viewportName})`, () =>
      checkedPages(viewport, async (page, check) => {
        await signIn(page, OWNER);
        const response = await page.goto(url('/admin/account/two-step'));
        assert.equal(response.status(), 200, `/admin/account/two-step answered ${response.status()}`);
        await check(`/admin/account/two-step (${viewportName})`);
      }));
  }
});
