// Browser checks of changing the article's structure and adding pictures,
// as an editor does it from the staff pages: adding a page (a draft readers
// cannot see), changing a page's address (the old one keeps working, a
// taken one is refused), putting the pages in order (the public contents
// follow), moving a page to the trash and bringing it back, and uploading
// a picture (the markdown line to copy, the files on disk, refusals); then
// axe-core and the screen width on every one of those forms at phone and
// desktop size.
//
// One server for the whole file, on temp copies of content/ and static/
// (the tests change the pages and upload pictures; the repository's own
// folders are never written to), and one browser. The tests build on each
// other and node:test runs them in order.

import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { cpSync, existsSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync } from 'node:fs';
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
const EDITOR = { username: 'omar', name: 'Omar Haddad', password: 'lantern orchard pebble 48' };
const ARTICLE = 'dry-needling';
const FRONT_PATH = '/dry-needling/';
const PHOTO = path.join(REPO_ROOT, 'tests', 'fixtures', 'images', 'gps-photo.jpg');
const ALT = 'A therapist placing a thin needle in a patient\'s upper back';

let server;
let browser;
let content;
let staticDir;
/** The stem of the picture uploaded in the pictures test, for the axe test. */
let uploadedStem;
/** What the thumbnail on the "ready" notice answered the first time it was asked for. */
let thumbnailAtFirst;

const url = (pathname) => new URL(pathname, server.url).href;
const bin = () => process.env.CLINIC_BIN || path.join(REPO_ROOT, 'target', 'debug', 'clinic-site');
const pageFile = (name) => path.join(content, ARTICLE, `${name}.md`);
const fileText = (name) => readFileSync(pageFile(name), 'utf8');
const imagesDir = () => path.join(staticDir, 'images');

before(async () => {
  content = mkdtempSync(path.join(os.tmpdir(), 'clinic-site-content-'));
  cpSync(path.join(REPO_ROOT, 'content'), content, { recursive: true });
  staticDir = mkdtempSync(path.join(os.tmpdir(), 'clinic-site-static-'));
  cpSync(path.join(REPO_ROOT, 'static'), staticDir, { recursive: true });
  server = await startServer({ content, staticDir });
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
  if (staticDir) rmSync(staticDir, { recursive: true, force: true });
});

// ---------------------------------------------------------------------------
// Helpers

async function open(page, pathname, status = 200) {
  const response = await page.goto(url(pathname));
  assert.equal(response.status(), status, `${pathname} answered ${response.status()}, not ${status}`);
  return response;
}

/** Clicks a submit button and returns the POST's own status and location. */
async function submit(page, button) {
  const posted = page.waitForRequest((req) => req.method() === 'POST' && req.isNavigationRequest() && req.frame() === page.mainFrame());
  await Promise.all([page.waitForEvent('load'), button.click()]);
  const response = await (await posted).response();
  return { status: response.status(), location: response.headers().location ?? null };
}

/** Follows a link by its accessible name and waits for the new page. */
async function follow(page, name) {
  await Promise.all([page.waitForEvent('load'), page.getByRole('link', { name, exact: true }).click()]);
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
  return watch().filter((p) => !p.includes('about:srcdoc'));
}

/** What the public site answers for a path, without following redirects. */
async function publicStatus(pathname) {
  const response = await fetch(url(pathname), { redirect: 'manual' });
  const location = response.headers.get('location');
  await response.arrayBuffer();
  return { status: response.status, location: location && new URL(location, url(pathname)).pathname };
}

/**
 * Asks `probe` until it answers `{ ok: true }`, for up to `timeoutMs`: the
 * server picks up changed files a moment after they are written. On
 * timeout, fails with what the last answer's `seen` was.
 */
async function until(probe, what, timeoutMs = 5_000) {
  const deadline = Date.now() + timeoutMs;
  let last;
  for (;;) {
    last = await probe();
    if (last.ok) return last;
    if (Date.now() > deadline) assert.fail(`${what}: still ${JSON.stringify(last.seen)} after ${timeoutMs / 1000} s`);
    await sleep(150);
  }
}

async function untilStatus(pathname, status, location = undefined) {
  return until(async () => {
    const seen = await publicStatus(pathname);
    const ok = seen.status === status && (location === undefined || seen.location === location);
    return { ok, seen };
  }, `${pathname} should answer ${status}${location ? ` to ${location}` : ''}`);
}

async function untilRedirect(pathname, location) {
  return until(async () => {
    const seen = await publicStatus(pathname);
    return { ok: [301, 302, 303, 307, 308].includes(seen.status) && seen.location === location, seen };
  }, `${pathname} should redirect to ${location}`);
}

/** The addresses in the public article's contents list, in order. */
async function contentsOf(pathname) {
  const response = await fetch(url(pathname));
  const html = await response.text();
  const nav = html.match(/<nav class="contents"[\s\S]*?<\/nav>/);
  assert.ok(nav, `${pathname} has no contents list`);
  return [...nav[0].matchAll(/<a href="([^"]+)"/g)].map((m) => m[1]);
}

async function expectAxeClean(page, what) {
  const results = await runAxe(page);
  assert.deepEqual(results.violations.map((v) => v.id), [], `axe violations on ${what}:\n${formatViolations(results.violations)}`);
}

async function noWiderThanTheScreen(page, what) {
  const { scroll, client } = await page.evaluate(() => ({ scroll: document.documentElement.scrollWidth, client: document.documentElement.clientWidth }));
  assert.ok(scroll <= client, `${what} is ${scroll}px wide on a ${client}px screen`);
}

async function checkView(page, what, shot) {
  await expectAxeClean(page, what);
  await noWiderThanTheScreen(page, what);
  if (shot) await page.screenshot({ path: path.join(SHOTS_DIR, `${shot}.png`), fullPage: true });
}

/** The text of the error summary, on one line. */
async function errorSummary(page) {
  const summary = page.locator('.error-summary');
  assert.equal(await summary.count(), 1, 'the page shows what the problem is');
  return (await summary.innerText()).replace(/\s+/g, ' ');
}

/** Submits the pictures form with `file` (a path or a Playwright file payload) and `alt`, past the browser's own checks. */
async function uploadPicture(page, file, alt) {
  await page.locator('#image').setInputFiles(file);
  await page.locator('#alt').fill(alt);
  // The fields are `required`: take that off so the server's own checks answer.
  await page.locator('form[enctype="multipart/form-data"]').evaluate((form) => form.setAttribute('novalidate', ''));
  return submit(page, page.getByRole('button', { name: 'Upload picture' }));
}

const NOT_A_PICTURE = { name: 'notes.jpg', mimeType: 'image/jpeg', buffer: Buffer.from('Bring loose clothing to your first session.\n') };

// ---------------------------------------------------------------------------

test('an editor adds a page: it opens in the editor as a draft, and readers cannot see it yet', async () => {
  await withPage(browser, VIEWPORTS.desktop, async (page) => {
    const problems = watchForProblems(page);
    await signIn(page);
    await open(page, '/admin/pages');
    await follow(page, /^Add a page to How Dry Needling/);
    assert.equal(pathOf(page), `/admin/articles/${ARTICLE}/new`);

    // A title with no letters to make an address from is refused, and kept.
    await page.locator('#title').fill('???');
    const refused = await submit(page, page.getByRole('button', { name: 'Add the page' }));
    assert.equal(refused.status, 422);
    assert.match(await errorSummary(page), /There is a problem/);
    assert.equal(await page.locator('#title').inputValue(), '???');

    await page.locator('#title').fill('After Your Session');
    const added = await submit(page, page.getByRole('button', { name: 'Add the page' }));
    assert.equal(added.status, 303);
    assert.equal(added.location, `/admin/pages/${ARTICLE}/after-your-session?done=created`);
    assert.equal(pathOf(page), `/admin/pages/${ARTICLE}/after-your-session`);
    assert.match(await page.getByRole('status').first().innerText(), /The page is made, as a draft/);
    assert.equal(await page.locator('#field-title').inputValue(), 'After Your Session');

    assert.ok(existsSync(pageFile('after-your-session')), 'the page file is made');
    const text = fileText('after-your-session');
    assert.match(text, /^title = "After Your Session"$/m);
    assert.match(text, /^draft = true$/m);
    assert.equal((await publicStatus('/dry-needling/after-your-session/')).status, 404, 'a draft is not on the public site');
    assert.ok(!(await contentsOf(FRONT_PATH)).includes('/dry-needling/after-your-session/'), 'nor in the contents');
    assert.deepEqual(problemsOf(problems), []);
  });
});

test('an editor changes a page address: the new one works, the old one leads to it, a taken one is refused', async () => {
  await withPage(browser, VIEWPORTS.desktop, async (page) => {
    const problems = watchForProblems(page);
    await signIn(page);
    await open(page, '/admin/pages');
    await follow(page, 'Change the address of dry-needling/who-can-benefit.md');
    assert.equal(pathOf(page), `/admin/pages/${ARTICLE}/who-can-benefit/rename`);
    assert.equal(await page.locator('#slug').inputValue(), 'who-can-benefit');

    // Another page's address: refused with the reason, what was typed kept, nothing changed.
    const before = fileText('who-can-benefit');
    await page.locator('#slug').fill('safety');
    const clash = await submit(page, page.getByRole('button', { name: 'Change the address' }));
    assert.equal(clash.status, 409);
    const why = await errorSummary(page);
    assert.match(why, /\/dry-needling\/safety\/ is already the address of/, `the reason is shown: ${why}`);
    assert.equal(await page.locator('#slug').inputValue(), 'safety', 'the typed address stays in the field');
    assert.ok(await page.locator('#slug').evaluate((input) => input.closest('.field').classList.contains('field-error')), 'the field is marked');
    await page.locator('.error-summary a[href="#slug"]').click();
    assert.equal(await page.evaluate(() => document.activeElement.id), 'slug', 'the error links to the field');
    assert.equal(fileText('who-can-benefit'), before, 'the refused address changed nothing');
    assert.equal((await publicStatus('/dry-needling/safety/')).status, 200);

    await page.locator('#slug').fill('who-benefits');
    const renamed = await submit(page, page.getByRole('button', { name: 'Change the address' }));
    assert.equal(renamed.status, 303);
    assert.equal(renamed.location, `/admin/pages/${ARTICLE}/who-can-benefit/rename?done=renamed`);
    assert.match(await page.getByRole('status').first().innerText(), /The page has its new address/);
    assert.equal(await page.locator('.facts a').first().innerText(), '/dry-needling/who-benefits/');

    const text = fileText('who-can-benefit');
    assert.match(text, /^slug = "who-benefits"$/m);
    assert.match(text, /^aliases = \[[^\]]*"\/dry-needling\/who-can-benefit\/"[^\]]*\]$/m, `the old address is in aliases:\n${text}`);
    await untilStatus('/dry-needling/who-benefits/', 200);
    await untilRedirect('/dry-needling/who-can-benefit/', '/dry-needling/who-benefits/');
    await open(page, '/dry-needling/who-can-benefit/');
    assert.equal(pathOf(page), '/dry-needling/who-benefits/', 'a shared old link lands on the page');
    assert.deepEqual(problemsOf(problems), []);
  });
});

test('an editor changes the order of the pages, and the public contents follow', async () => {
  const before = await contentsOf(FRONT_PATH);
  assert.deepEqual(before.slice(0, 2), [FRONT_PATH, '/dry-needling/migraines/']);
  assert.equal(before.indexOf('/dry-needling/safety/'), 5);
  await withPage(browser, VIEWPORTS.desktop, async (page) => {
    const problems = watchForProblems(page);
    await signIn(page);
    await open(page, '/admin/pages');
    await follow(page, /^Change the order of the pages in How Dry Needling/);
    assert.equal(pathOf(page), `/admin/articles/${ARTICLE}/order`);
    assert.equal(await page.getByLabel('Place of Is Dry Needling Safe?').inputValue(), '5');

    // No place: refused with the reason (past the browser's own check of
    // the required number field), the other places kept as typed.
    await page.locator('form').last().evaluate((form) => form.setAttribute('novalidate', ''));
    await page.getByLabel('Place of Is Dry Needling Safe?').fill('');
    await page.locator('#place-right-for-you').fill('7');
    const refused = await submit(page, page.getByRole('button', { name: 'Save the order' }));
    assert.equal(refused.status, 422);
    assert.match(await errorSummary(page), /The place of "Is Dry Needling Safe\?" must be a whole number/);
    assert.equal(await page.locator('#place-right-for-you').inputValue(), '7', 'what was typed stays');
    assert.match(fileText('right-for-you'), /^weight = 6$/m, 'the refused order changed nothing');
    await page.locator('#place-right-for-you').fill('6');

    // Safety first, migraines where safety was.
    await page.getByLabel('Place of Is Dry Needling Safe?').fill('1');
    await page.locator('#place-migraines').fill('5');
    const saved = await submit(page, page.getByRole('button', { name: 'Save the order' }));
    assert.equal(saved.status, 303);
    assert.equal(saved.location, `/admin/articles/${ARTICLE}/order?done=ordered`);
    assert.match(await page.getByRole('status').first().innerText(), /The new order is saved/);
    assert.equal(await page.locator('#place-safety').inputValue(), '1');
    assert.match(fileText('safety'), /^weight = 1$/m);
    assert.match(fileText('migraines'), /^weight = 5$/m);
    assert.deepEqual(problemsOf(problems), []);
  });
  const expected = [...before];
  expected[1] = '/dry-needling/safety/';
  expected[5] = '/dry-needling/migraines/';
  await until(async () => {
    const seen = await contentsOf(FRONT_PATH);
    return { ok: JSON.stringify(seen) === JSON.stringify(expected), seen };
  }, `the contents of ${FRONT_PATH} should be ${JSON.stringify(expected)}`);
});

test('an editor moves a page to the trash and brings it back', async () => {
  const title = fileText('chronic-pain').match(/^title = "(.*)"$/m)[1];
  assert.equal((await publicStatus('/dry-needling/chronic-pain/')).status, 200);
  await withPage(browser, VIEWPORTS.desktop, async (page) => {
    const problems = watchForProblems(page);
    await signIn(page);
    await open(page, '/admin/pages');
    await follow(page, /^Move to the trash \(dry-needling\/chronic-pain\.md\)$/);
    assert.equal(pathOf(page), `/admin/pages/${ARTICLE}/chronic-pain/trash`);
    assert.equal(await page.getByRole('heading', { level: 1 }).innerText(), `Move ${title} to the trash?`);
    assert.ok(existsSync(pageFile('chronic-pain')), 'the confirm step alone changes nothing');

    const trashed = await submit(page, page.getByRole('button', { name: 'Move to the trash' }));
    assert.equal(trashed.status, 303);
    assert.equal(trashed.location, '/admin/trash?done=trashed');
    assert.match(await page.getByRole('status').first().innerText(), /The page is in the trash/);
    assert.ok(!existsSync(pageFile('chronic-pain')), 'the file is off the content folder');
    assert.match(fileText('index'), /"\/dry-needling\/chronic-pain\/"/, 'the front page has the old address in its aliases');
    const row = page.locator('.admin-table tbody tr', { hasText: 'dry-needling/chronic-pain.md' });
    assert.equal(await row.count(), 1, 'the trash lists the page');
    assert.match(await row.innerText(), new RegExp(`${title}[\\s\\S]*${EDITOR.name}`));
    await untilRedirect('/dry-needling/chronic-pain/', FRONT_PATH);
    assert.ok(!(await contentsOf(FRONT_PATH)).includes('/dry-needling/chronic-pain/'), 'the page is out of the contents');

    const restored = await submit(page, row.getByRole('button', { name: `Bring back ${title}` }));
    assert.equal(restored.status, 303);
    assert.equal(restored.location, '/admin/trash?done=restored');
    assert.match(await page.getByRole('status').first().innerText(), /The page is back/);
    assert.equal(await page.locator('.admin-table tbody tr', { hasText: 'dry-needling/chronic-pain.md' }).count(), 0);
    assert.ok(existsSync(pageFile('chronic-pain')), 'the file is back');
    assert.match(fileText('chronic-pain'), new RegExp(`^title = "${title}"$`, 'm'));
    assert.ok(!fileText('index').includes('"/dry-needling/chronic-pain/"'), 'the front page lets go of the address');
    await untilStatus('/dry-needling/chronic-pain/', 200);
    assert.ok((await contentsOf(FRONT_PATH)).includes('/dry-needling/chronic-pain/'), 'the page is in the contents again');
    assert.deepEqual(problemsOf(problems), []);
  });
});

test('an editor uploads a picture with alt text and gets the line to copy; no alt text or not a picture is refused', async () => {
  assert.ok(!existsSync(imagesDir()), 'no pictures yet');
  // The pictures page with nothing uploaded, at both sizes.
  for (const [size, options] of Object.entries(VIEWPORTS)) {
    await withPage(browser, options, async (page) => {
      const problems = watchForProblems(page);
      await signIn(page);
      await open(page, '/admin/images');
      assert.match(await page.locator('main').innerText(), /No pictures yet/);
      await checkView(page, `the empty pictures page (${size})`, `structure-images-empty-${size}`);
      assert.deepEqual(problemsOf(problems), []);
    });
  }

  await withPage(browser, VIEWPORTS.desktop, async (page) => {
    const problems = watchForProblems(page);
    await signIn(page);
    await open(page, '/admin/images');

    // No alt text: refused, the alt field marked, nothing saved.
    const noAlt = await uploadPicture(page, PHOTO, '   ');
    assert.equal(noAlt.status, 422);
    assert.match(await errorSummary(page), /Describe the picture in the alt text box/);
    assert.ok(await page.locator('#alt').evaluate((input) => input.closest('.field').classList.contains('field-error')), 'the alt field is marked');
    assert.ok(!existsSync(imagesDir()) || readdirSync(imagesDir()).length === 0, 'nothing was saved');

    // A text file named .jpg: refused with a clear message, the alt text kept.
    const fake = await uploadPicture(page, NOT_A_PICTURE, ALT);
    assert.equal(fake.status, 422);
    assert.match(await errorSummary(page), /This file is not a JPEG, PNG or WebP image/);
    assert.equal(await page.locator('#alt').inputValue(), ALT, 'the typed alt text stays');
    assert.ok(!(await page.locator('#alt').evaluate((input) => input.closest('.field').classList.contains('field-error'))), 'the alt field is not blamed');
    assert.ok(!existsSync(imagesDir()) || readdirSync(imagesDir()).length === 0, 'nothing was saved');

    // The photo, with alt text.
    const thumbnailStatuses = [];
    page.on('response', (response) => {
      if (response.url().includes('/static/images/')) thumbnailStatuses.push(response.status());
    });
    const uploaded = await uploadPicture(page, PHOTO, ALT);
    assert.equal(uploaded.status, 303);
    const stem = new URL(uploaded.location, server.url).searchParams.get('uploaded');
    assert.ok(stem && stem.startsWith('gps-photo-'), `the picture is named after its file: ${uploaded.location}`);
    uploadedStem = stem;
    const notice = page.getByRole('status');
    assert.match(await notice.innerText(), /Your picture is ready/);
    const markdown = await notice.locator('code.copy-me').innerText();
    const line = markdown.match(/^!\[(.*)\]\((\/static\/images\/[^)\s]+)\)$/);
    assert.ok(line, `the line to copy is markdown for a picture: ${markdown}`);
    assert.equal(line[1], ALT);
    assert.equal(await notice.locator('img').getAttribute('alt'), ALT);
    const thumbnail = await notice.locator('img').getAttribute('src');
    assert.equal(thumbnail, `/static/images/${stem}-800x600.jpg`, 'the thumbnail is the small size');
    thumbnailAtFirst = thumbnailStatuses[0];
    // The page says the picture "may take a few seconds to show": it must
    // within a few seconds, and then the notice shows it.
    await untilStatus(thumbnail, 200);
    await page.reload();
    await page.getByRole('status').locator('img').evaluate((img) => img.decode());

    // Two sizes in the static folder (the temp copy; never the repository's).
    const files = readdirSync(imagesDir()).sort();
    assert.deepEqual(files, [`${stem}-1200x900.jpg`, `${stem}-800x600.jpg`]);
    assert.equal(line[2], `/static/images/${stem}-1200x900.jpg`);
    assert.ok(!existsSync(path.join(REPO_ROOT, 'static', 'images')), "the repository's static folder is untouched");
    for (const file of files) {
      const bytes = readFileSync(path.join(imagesDir(), file));
      assert.equal(bytes.subarray(0, 2).toString('hex'), 'ffd8', `${file} is a JPEG`);
      assert.ok(!bytes.includes('PhoneMaker') && !bytes.includes('Exif'), `${file} has no camera or location details`);
    }
    const served = await fetch(url(line[2]));
    assert.equal(served.status, 200);
    assert.equal(served.headers.get('content-type'), 'image/jpeg');
    assert.deepEqual(Buffer.from(await served.arrayBuffer()), readFileSync(path.join(imagesDir(), `${stem}-1200x900.jpg`)));

    // Listed on the pictures page afterwards.
    await open(page, '/admin/images');
    const row = page.locator('.admin-table tbody tr', { hasText: stem });
    assert.equal(await row.count(), 1);
    assert.match(await row.innerText(), /No page yet/);
    assert.deepEqual(problemsOf(problems), []);
  });
});

test('the picture on the "ready" notice shows at once after an upload', () => {
  // The upload answers once the site serves the new files, so the editor
  // never sees a broken picture.
  assert.equal(thumbnailAtFirst, 200, 'the thumbnail answered the first time the notice asked for it');
});

test('every structure and pictures form has no axe violations and fits the screen, at phone and desktop size', async () => {
  assert.ok(uploadedStem, 'the pictures test uploaded a picture');
  for (const [size, options] of Object.entries(VIEWPORTS)) {
    await withPage(browser, options, async (page) => {
      const problems = watchForProblems(page);
      const csp = await watchForCspViolations(page);
      await signIn(page);

      await open(page, '/admin/pages');
      await checkView(page, `the pages list (${size})`);

      await open(page, `/admin/articles/${ARTICLE}/new`);
      await checkView(page, `the new-page form (${size})`, `structure-new-${size}`);
      await page.locator('#title').fill('!!!');
      assert.equal((await submit(page, page.getByRole('button', { name: 'Add the page' }))).status, 422);
      await checkView(page, `the new-page form with its refusal (${size})`);

      await open(page, `/admin/pages/${ARTICLE}/safety/rename`);
      await checkView(page, `the rename form (${size})`, `structure-rename-${size}`);
      await page.locator('#slug').fill('migraines');
      assert.equal((await submit(page, page.getByRole('button', { name: 'Change the address' }))).status, 409);
      await checkView(page, `the rename form with its refusal (${size})`, `structure-rename-error-${size}`);
      await page.locator('#slug').fill('Not An Address!');
      assert.equal((await submit(page, page.getByRole('button', { name: 'Change the address' }))).status, 422);
      await checkView(page, `the rename form with a bad address (${size})`);

      await open(page, `/admin/articles/${ARTICLE}/order`);
      await checkView(page, `the order form (${size})`, `structure-order-${size}`);
      await page.locator('form').last().evaluate((form) => form.setAttribute('novalidate', ''));
      await page.locator('#place-safety').fill('');
      assert.equal((await submit(page, page.getByRole('button', { name: 'Save the order' }))).status, 422);
      await checkView(page, `the order form with its refusal (${size})`);

      await open(page, `/admin/pages/${ARTICLE}/right-for-you/trash`);
      await checkView(page, `the trash confirm page (${size})`, `structure-trash-confirm-${size}`);
      await open(page, '/admin/trash');
      await checkView(page, `the empty trash (${size})`);
      // With a page in it, and after bringing it back.
      await open(page, `/admin/pages/${ARTICLE}/right-for-you/trash`);
      assert.equal((await submit(page, page.getByRole('button', { name: 'Move to the trash' }))).status, 303);
      await checkView(page, `the trash list with a page (${size})`, `structure-trash-${size}`);
      assert.equal((await submit(page, page.getByRole('button', { name: /^Bring back/ }))).status, 303);
      await checkView(page, `the trash list after bringing a page back (${size})`);
      await untilStatus('/dry-needling/right-for-you/', 200);

      await open(page, '/admin/images');
      await checkView(page, `the pictures page with a picture (${size})`, `structure-images-${size}`);
      await open(page, `/admin/images?uploaded=${uploadedStem}`);
      await page.getByRole('status').locator('img').evaluate((img) => img.decode());
      await checkView(page, `the pictures page just after an upload (${size})`, `structure-images-uploaded-${size}`);
      await open(page, '/admin/images');
      assert.equal((await uploadPicture(page, PHOTO, '')).status, 422);
      await checkView(page, `the pictures page refusing no alt text (${size})`, `structure-images-error-${size}`);
      assert.equal((await uploadPicture(page, NOT_A_PICTURE, ALT)).status, 422);
      await checkView(page, `the pictures page refusing a file that is not a picture (${size})`);

      assert.deepEqual(problemsOf(problems), []);
      assert.deepEqual(csp(), []);
    });
  }
});
