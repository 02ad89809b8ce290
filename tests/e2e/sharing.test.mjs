// Browser checks of the sharing features: the Copy link button and heading
// links (clipboard and live-region announcements), the plain share links
// without JavaScript, the printable handout, the Content-Security-Policy
// (nothing the pages do is blocked by it) and live reload in preview mode.
// One server for the file, plus a short-lived preview server for the live
// reload test.

import assert from 'node:assert/strict';
import { cpSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
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

const ARTICLE_PATH = '/dry-needling/';
const SAFETY_PATH = '/dry-needling/safety/';
const PRINT_PATH = '/dry-needling/print/';
// The site's public address (content/site.toml base_url), which share
// links and copied links must use rather than wherever the server runs.
const SAFETY_CANONICAL = 'https://riverside-pt.example/dry-needling/safety/';
const CLIPBOARD = ['clipboard-read', 'clipboard-write'];
const SHARE_LINK_TEXTS = ['Email', 'Text message', 'WhatsApp', 'Facebook', 'X'];
// The QR code must be big enough for a phone camera to read from paper.
const MIN_QR_WIDTH_PX = 100;
const LIVE_RELOAD_TIMEOUT_MS = 15_000;
// share.js clears the live region, then sets the message 50 ms later.
const ANNOUNCE_TIMEOUT_MS = 3_000;

let server;
let browser;
/** The article's pages from the index's contents list, index first. */
let sectionPaths = [];

const url = (pathname) => new URL(pathname, server.url).href;

before(async () => {
  server = await startServer();
  browser = await launchBrowser();
  sectionPaths = await withPage(browser, VIEWPORTS.desktop, async (page) => {
    const response = await page.goto(url(ARTICLE_PATH));
    assert.equal(response.status(), 200, `${ARTICLE_PATH} answered ${response.status()}`);
    return page.locator('nav.contents a').evaluateAll((links) => links.map((a) => new URL(a.href).pathname));
  });
});

after(async () => {
  await browser?.close();
  await server?.stop();
});

/**
 * Like withPage, but every page also records problems (console errors, page
 * errors, failed requests) and CSP violations, and the test fails if there
 * were any. Runs `fn(page, context)`. Options: `clipboard` grants clipboard
 * access to the server's origin (or `baseUrl`'s); `allow` lists regular
 * expressions for problem lines that are expected in that test.
 */
function withCheckedPage(contextOptions, fn, { clipboard = false, baseUrl, allow = [] } = {}) {
  return withPage(browser, contextOptions, async (page, context) => {
    if (clipboard) {
      await context.grantPermissions(CLIPBOARD, { origin: new URL(baseUrl ?? server.url).origin });
    }
    const problems = watchForProblems(page);
    const cspViolations = await watchForCspViolations(page);
    const result = await fn(page, context);
    assert.deepEqual(cspViolations(), [], `CSP violations on ${page.url()}:\n  ${cspViolations().join('\n  ')}`);
    const unexpected = problems().filter((line) => !allow.some((re) => re.test(line)));
    assert.deepEqual(unexpected, [], `problems on ${page.url()}:\n  ${unexpected.join('\n  ')}`);
    return result;
  });
}

/** Waits until `#share-status` says `expected`, failing with what it said instead. */
async function waitForAnnouncement(page, expected) {
  const status = page.locator('#share-status');
  try {
    await page.waitForFunction((text) => document.getElementById('share-status')?.textContent.trim() === text, expected, {
      timeout: ANNOUNCE_TIMEOUT_MS,
    });
  } catch {
    assert.fail(`#share-status should say ${JSON.stringify(expected)} but says ${JSON.stringify(await status.textContent())}`);
  }
}

/** Puts a marker on the clipboard so a copy that does nothing is caught. */
async function primeClipboard(page) {
  const marker = `not copied ${Date.now()}`;
  await page.evaluate((text) => navigator.clipboard.writeText(text), marker);
  assert.equal(await page.evaluate(() => navigator.clipboard.readText()), marker, 'the test could not write the clipboard');
}

async function canonicalOf(page) {
  return page.locator('link[rel="canonical"]').getAttribute('href');
}

// ---------------------------------------------------------------------------
// Copy link and share links

test('"Copy link" is shown by the script and copies the canonical address, announcing "Link copied"', async (t) => {
  for (const [viewportName, viewport] of Object.entries(VIEWPORTS)) {
    await t.test(viewportName, () =>
      withCheckedPage(
        viewport,
        async (page) => {
          await page.goto(url(SAFETY_PATH));
          const canonical = await canonicalOf(page);
          assert.equal(canonical, SAFETY_CANONICAL, `link[rel=canonical] on ${SAFETY_PATH}`);

          const button = page.locator('button[data-copy-link]');
          await button.waitFor({ state: 'visible', timeout: 3_000 }).catch(() => {});
          assert.ok(await button.isVisible(), 'button[data-copy-link] is still hidden: share.js did not unhide it');
          assert.equal((await button.innerText()).trim(), 'Copy link');

          // The live region must be polite (role=status) and start empty.
          const status = page.locator('#share-status');
          assert.equal(await status.getAttribute('role'), 'status', '#share-status role');
          assert.ok(['polite', null].includes(await status.getAttribute('aria-live')), `#share-status aria-live is ${await status.getAttribute('aria-live')}`);
          assert.equal((await status.textContent()).trim(), '', '#share-status should be empty before anything is copied');

          await primeClipboard(page);
          await button.click();
          await waitForAnnouncement(page, 'Link copied');
          assert.equal(await page.evaluate(() => navigator.clipboard.readText()), canonical, 'clipboard after "Copy link"');
        },
        { clipboard: true },
      ),
    );
  }
});

test('without JavaScript the buttons stay hidden and the plain share links carry the canonical address', async (t) => {
  for (const [viewportName, viewport] of Object.entries(VIEWPORTS)) {
    await t.test(viewportName, () =>
      withCheckedPage({ ...viewport, javaScriptEnabled: false }, async (page) => {
        const response = await page.goto(url(SAFETY_PATH));
        assert.equal(response.status(), 200);

        for (const selector of ['button[data-copy-link]', 'button[data-share]']) {
          const button = page.locator(selector);
          assert.equal(await button.count(), 1, `${selector} should be in the page`);
          assert.equal(await button.isVisible(), false, `${selector} is visible without JavaScript, where it cannot work`);
        }

        const links = page.locator('.share-links a');
        const texts = (await links.allInnerTexts()).map((text) => text.trim());
        assert.equal(texts.length, SHARE_LINK_TEXTS.length, `share links: ${JSON.stringify(texts)}`);
        const encoded = encodeURIComponent(SAFETY_CANONICAL);
        for (const [i, expected] of SHARE_LINK_TEXTS.entries()) {
          const link = links.nth(i);
          assert.ok(texts[i] === expected || texts[i].startsWith(`${expected} `), `share link ${i + 1} says ${JSON.stringify(texts[i])}, expected ${JSON.stringify(expected)}`);
          assert.ok(await link.isVisible(), `share link "${texts[i]}" is not visible`);
          const href = await link.getAttribute('href');
          assert.ok(href.includes(encoded), `share link "${texts[i]}" href does not contain ${encoded}: ${href}`);
        }
      }),
    );
  }
});

// ---------------------------------------------------------------------------
// Heading links

test('a heading\'s # link copies the link to that part and announces it', () =>
  withCheckedPage(
    VIEWPORTS.desktop,
    async (page) => {
      await page.goto(url(SAFETY_PATH));
      const canonical = await canonicalOf(page);
      const anchor = page.locator('a.heading-anchor[href="#possible-side-effects"]');
      assert.equal(await anchor.count(), 1, 'no heading link for #possible-side-effects');
      await primeClipboard(page);
      await anchor.click();
      await waitForAnnouncement(page, 'Link to this part copied');
      assert.equal(await page.evaluate(() => navigator.clipboard.readText()), `${canonical}#possible-side-effects`, 'clipboard after clicking the heading link');
      // The link still does what a link does: jump to the heading.
      assert.equal(new URL(page.url()).hash, '#possible-side-effects');
    },
    { clipboard: true },
  ));

test('opening a link to a part on a phone scrolls that heading into view', () =>
  withCheckedPage(VIEWPORTS.phone, async (page) => {
    await page.goto(url(`${SAFETY_PATH}#when-to-get-medical-help`));
    // Let fonts and layout settle; the browser scrolls to the fragment itself.
    await page.evaluate(() => document.fonts.ready);
    await page.waitForTimeout(200);
    const heading = page.locator('#when-to-get-medical-help');
    const box = await heading.boundingBox();
    const { height } = page.viewportSize();
    const scrollY = await page.evaluate(() => window.scrollY);
    assert.ok(box, '#when-to-get-medical-help is not rendered');
    assert.ok(box.y >= 0 && box.y < height, `#when-to-get-medical-help top is at ${box.y}px, outside the ${height}px viewport (scrollY ${scrollY})`);
    assert.ok(scrollY > 0, `the page did not scroll (scrollY ${scrollY})`);
  }));

// ---------------------------------------------------------------------------
// Printable handout

test('the "Print this article" link on the index leads to the printable handout', () =>
  withCheckedPage(VIEWPORTS.desktop, async (page) => {
    await page.goto(url(ARTICLE_PATH));
    const link = page.getByRole('link', { name: 'Print this article', exact: true });
    assert.equal(await link.count(), 1, `${ARTICLE_PATH} should have one "Print this article" link`);
    const [response] = await Promise.all([
      page.waitForResponse((r) => r.request().isNavigationRequest() && r.request().frame() === page.mainFrame()),
      link.click(),
    ]);
    await page.waitForLoadState('load');
    assert.equal(pathOf(page), PRINT_PATH, 'where "Print this article" leads');
    assert.equal(response.status(), 200);
  }));

test('the printable handout prints without the site\'s navigation and with a readable QR code', async (t) => {
  for (const [viewportName, viewport] of Object.entries(VIEWPORTS)) {
    await t.test(viewportName, () =>
      withCheckedPage(viewport, async (page) => {
        const response = await page.goto(url(PRINT_PATH));
        assert.equal(response.status(), 200, `${PRINT_PATH} answered ${response.status()}`);
        await page.emulateMedia({ media: 'print' });
        assert.ok(await page.evaluate(() => matchMedia('print').matches), 'print media is not being emulated');

        for (const selector of ['.site-header', 'nav.breadcrumbs', '.share', 'nav.contents']) {
          const shown = await page.locator(selector).evaluateAll((els) => els.filter((el) => el.checkVisibility()).map((el) => el.outerHTML.slice(0, 120)));
          assert.deepEqual(shown, [], `${selector} is displayed when printing ${PRINT_PATH}`);
        }

        const heading = page.locator('.print-contact h2');
        assert.ok(await heading.isVisible(), 'the contact heading is not visible when printing');
        assert.match((await heading.innerText()).trim(), /^Questions\? Contact /);

        const qr = page.locator('.print-contact svg');
        assert.equal(await qr.count(), 1, 'the handout should have one QR code');
        assert.ok(await qr.isVisible(), 'the QR code is not visible when printing');
        const box = await qr.boundingBox();
        assert.ok(box.width >= MIN_QR_WIDTH_PX && box.height >= MIN_QR_WIDTH_PX, `the QR code prints at ${box.width}x${box.height} CSS px, smaller than ${MIN_QR_WIDTH_PX}`);
      }),
    );
  }
});

test('axe-core finds no WCAG 2.2 A/AA violations on the printable handout', async (t) => {
  for (const media of ['screen', 'print']) {
    for (const [viewportName, viewport] of Object.entries(VIEWPORTS)) {
      await t.test(`${viewportName}, ${media}`, () =>
        withCheckedPage(viewport, async (page) => {
          await page.goto(url(PRINT_PATH));
          await page.emulateMedia({ media });
          const { violations } = await runAxe(page);
          assert.equal(violations.length, 0, `axe-core violations on ${PRINT_PATH} (${viewportName}, ${media}):\n${formatViolations(violations)}`);
        }),
      );
    }
  }
});

// ---------------------------------------------------------------------------
// Accessibility with the share buttons shown

test('axe-core finds no WCAG 2.2 A/AA violations on a section page once "Copy link" is shown', async (t) => {
  for (const [viewportName, viewport] of Object.entries(VIEWPORTS)) {
    await t.test(viewportName, () =>
      withCheckedPage(viewport, async (page) => {
        await page.goto(url(SAFETY_PATH));
        await page.locator('button[data-copy-link]').waitFor({ state: 'visible', timeout: 3_000 });
        const { violations } = await runAxe(page);
        assert.equal(violations.length, 0, `axe-core violations on ${SAFETY_PATH} (${viewportName}):\n${formatViolations(violations)}`);
      }),
    );
  }
});

// ---------------------------------------------------------------------------
// Content-Security-Policy

test('no page breaks its own Content-Security-Policy', async (t) => {
  assert.ok(sectionPaths.length > 1, `the contents list is empty: ${JSON.stringify(sectionPaths)}`);
  const paths = [...new Set(['/', ARTICLE_PATH, ...sectionPaths, PRINT_PATH])];
  for (const pathname of paths) {
    await t.test(pathname, () =>
      withCheckedPage(VIEWPORTS.desktop, async (page) => {
        const response = await page.goto(url(pathname));
        assert.equal(response.status(), 200, `${pathname} answered ${response.status()}`);
        // No policy would mean no violations to find.
        const policy = response.headers()['content-security-policy'];
        assert.ok(policy && /script-src 'self'/.test(policy), `${pathname} has no strict Content-Security-Policy: ${policy}`);
        // Let deferred scripts run and anything they load arrive.
        await page.waitForLoadState('networkidle');
      }),
    );
  }
});

test('the CSP watcher notices a violation (checks the check)', () =>
  withPage(browser, VIEWPORTS.desktop, async (page) => {
    const cspViolations = await watchForCspViolations(page);
    await page.goto(url(SAFETY_PATH));
    // An inline script, which script-src 'self' forbids.
    await page.evaluate(() => {
      const script = document.createElement('script');
      script.textContent = 'window.__inlineRan = true;';
      document.body.append(script);
    });
    await page.waitForFunction(() => window.__cspViolations.length > 0, null, { timeout: 3_000 }).catch(() => {});
    assert.equal(await page.evaluate(() => window.__inlineRan === true), false, 'the inline script ran: the policy did not block it');
    assert.ok(cspViolations().some((v) => v.includes('script-src')), `the watcher saw no script-src violation: ${JSON.stringify(cspViolations())}`);
  }));

// ---------------------------------------------------------------------------
// Live reload in preview mode

// What a reloading preview page may show and still be working: dev-reload.js
// closes its event stream and reloads, which Chromium reports as an aborted
// request, as it does for anything still loading when a reload starts.
// Real failures show up as other errors (refused, HTTP status...).
const RELOAD_NOISE = [/^request failed: GET \S+: net::ERR_ABORTED$/];

/**
 * Copies the fixture site to a temporary folder, starts a preview server
 * (`--dev`) on it and runs `fn({ file, original, preview })`, `file` being
 * guide/first.md. Stops the server and removes the folder afterwards.
 */
async function withPreviewServer(fn) {
  const content = mkdtempSync(path.join(os.tmpdir(), 'clinic-site-content-'));
  let preview;
  try {
    cpSync(path.join(REPO_ROOT, 'tests', 'fixtures', 'valid'), content, { recursive: true });
    const file = path.join(content, 'guide', 'first.md');
    const original = readFileSync(file, 'utf8');
    assert.ok(original.includes('Back to'), 'the fixture guide/first.md no longer says "Back to"');
    assert.match(original, /^title = .*$/m, 'the fixture guide/first.md has no title line');
    preview = await startServer({ content, dev: true });
    return await fn({ file, original, preview });
  } finally {
    await preview?.stop();
    rmSync(content, { recursive: true, force: true });
  }
}

/** page.evaluate that tolerates the page being in the middle of a reload. */
async function evaluateSettled(page, fn, arg) {
  for (let attempt = 1; ; attempt++) {
    try {
      return await page.evaluate(fn, arg);
    } catch (err) {
      if (attempt >= 20 || !/Execution context was destroyed|navigat/i.test(err.message)) throw err;
      await page.waitForLoadState('load').catch(() => {});
    }
  }
}

/**
 * Opens /guide/first/ on the preview server and waits for its reload event
 * stream to connect (a change before that would be missed). Returns the
 * list of 'load' events seen so far, which keeps growing.
 */
async function openPreviewPage(page, preview) {
  const loads = [];
  page.on('load', () => loads.push(Date.now()));
  // Every connection to the reload stream, so a test can tell the reloaded
  // page listens again without racing to catch its request.
  loads.streams = [];
  page.on('response', (r) => {
    if (new URL(r.url()).pathname === '/_dev/events') loads.streams.push(Date.now());
  });
  const connected = page.waitForResponse((r) => new URL(r.url()).pathname === '/_dev/events', { timeout: 5_000 });
  const response = await page.goto(new URL('/guide/first/', preview.url).href);
  assert.equal(response.status(), 200, `/guide/first/ answered ${response.status()} in preview mode`);
  await connected.catch(() => assert.fail('/guide/first/ did not connect to /_dev/events in preview mode'));
  return loads;
}

test(
  'in preview mode an open page stays put while nothing changes',
  () =>
    withPreviewServer(({ preview }) =>
      withCheckedPage(
        VIEWPORTS.desktop,
        async (page) => {
          const loads = await openPreviewPage(page, preview);
          const before = loads.length;
          await page.waitForTimeout(2_000);
          const rebuilds = (preview.log().match(/content changed: published/g) || []).length;
          assert.equal(
            loads.length - before,
            0,
            `the page reloaded ${loads.length - before} times in 2 s with no file changed; the tail of the server log alone says "content changed" ${rebuilds} times`,
          );
        },
        { baseUrl: preview.url, allow: RELOAD_NOISE },
      ),
    ),
);

test('in preview mode an open page reloads itself when its file changes, shows content errors and recovers', () =>
  withPreviewServer(({ file, original, preview }) =>
    withCheckedPage(
      VIEWPORTS.desktop,
      async (page) => {
        const loads = await openPreviewPage(page, preview);
        const bodyText = () => evaluateSettled(page, () => document.body?.innerText ?? '');
        assert.ok((await bodyText()).includes('Back to'), '/guide/first/ does not show "Back to"');

        /**
         * Writes the file and waits for the open page to reload by itself and
         * show all of `expected`, without page.reload().
         */
        async function editAndWait(text, expected, what) {
          // Marks this document; a reload makes a new one without it.
          await evaluateSettled(page, () => { window.__beforeEdit = true; });
          const loadsBefore = loads.length;
          const editedAt = Date.now();
          writeFileSync(file, text);
          try {
            await page.waitForFunction(
              (needles) => !window.__beforeEdit && needles.every((n) => (document.body?.innerText ?? '').includes(n)),
              expected,
              { timeout: LIVE_RELOAD_TIMEOUT_MS, polling: 100 },
            );
          } catch {
            assert.fail(
              `${what}: the open page did not reload to show ${JSON.stringify(expected)} within ${LIVE_RELOAD_TIMEOUT_MS / 1000} s ` +
                `(loads since the edit: ${loads.length - loadsBefore}). It shows:\n${(await bodyText()).slice(0, 600)}\nServer log:\n${preview.log().slice(-2_000)}`,
            );
          }
          assert.ok(loads.length > loadsBefore, `${what}: the page content changed without a reload`);
          // The reloaded page must listen again, or the next edit is missed.
          const deadline = Date.now() + 5_000;
          while (!loads.streams.some((t) => t > editedAt) && Date.now() < deadline) await page.waitForTimeout(50);
          assert.ok(loads.streams.some((t) => t > editedAt), `${what}: the reloaded page did not reconnect to /_dev/events`);
        }

        const edited = original.replace('Back to', 'Reloaded back to');
        await editAndWait(edited, ['Reloaded back to'], 'after changing the text');

        const broken = edited.replace(/^title = .*\n/m, '');
        await editAndWait(broken, ['first.md', 'missing required key'], 'after removing the title');
        assert.match(await bodyText(), /The content has a problem/, 'the error page heading');

        await editAndWait(edited, ['Reloaded back to'], 'after putting the title back');
        const text = await bodyText();
        assert.ok(!text.includes('missing required key'), `the error page is still shown after the fix:\n${text.slice(0, 600)}`);
        assert.equal(await evaluateSettled(page, () => document.querySelector('h1')?.textContent.trim()), 'First Part', '<h1> after the fix');
      },
      { baseUrl: preview.url, allow: RELOAD_NOISE },
    ),
  ));

// Chromium asks for /favicon.ico by itself when a page declares no icon (it
// did on the live-reload page's reloads), and a 404 there is a console error.
test('browsers find an icon for the site instead of a 404 for /favicon.ico', () =>
  withCheckedPage(VIEWPORTS.desktop, async (page) => {
    await page.goto(url(ARTICLE_PATH));
    const declared = await page.locator('link[rel~="icon"]').evaluateAll((links) => links.map((l) => l.href));
    if (declared.length > 0) {
      for (const href of declared) {
        // data: icons (allowed by img-src) need no request.
        if (href.startsWith('data:')) continue;
        const response = await page.request.get(href);
        assert.equal(response.status(), 200, `the declared icon ${href} answered ${response.status()}`);
      }
    } else {
      const response = await page.request.get(url('/favicon.ico'));
      assert.equal(response.status(), 200, `no <link rel="icon"> and /favicon.ico answered ${response.status()}`);
    }
  }));
