// Browser checks of every page of the site: loads cleanly, passes axe-core
// at phone and desktop sizes in light and dark schemes, works from the
// keyboard, links its sections together, reads without JavaScript and
// redirects loose addresses. One server and one browser for the whole file.

import assert from 'node:assert/strict';
import path from 'node:path';
import { after, before, test } from 'node:test';

import {
  COLOR_SCHEMES,
  SCREENSHOT_DIR,
  VIEWPORTS,
  ensureScreenshotDir,
  formatViolations,
  launchBrowser,
  pathOf,
  pageName,
  runAxe,
  startServer,
  watchForProblems,
  withPage,
} from './helpers.mjs';

const ARTICLE_PATH = '/dry-needling/';
// The index plus the six sections; fewer means the contents nav is broken.
const MIN_ARTICLE_PAGES = 7;
const NOT_FOUND_PATH = '/dry-needling/no-such-section/';
const PERMANENT_REDIRECTS = [301, 308];

let server;
let browser;
/** The article's contents list as the index shows it: [{ text, path }], index first. */
let contents = [];
/** Every page to check: [{ name, path, status }]. */
let pages = [];

const url = (pathname) => new URL(pathname, server.url).href;

before(async () => {
  server = await startServer();
  browser = await launchBrowser();
  // Read the sections from the index's own contents list rather than
  // hard-coding them; the count is asserted in its own test below.
  contents = await withPage(browser, VIEWPORTS.desktop, async (page) => {
    const response = await page.goto(url(ARTICLE_PATH));
    assert.equal(response.status(), 200, `${ARTICLE_PATH} answered ${response.status()}`);
    return page
      .locator('nav.contents a')
      .evaluateAll((links) => links.map((a) => ({ text: a.textContent.trim(), path: new URL(a.href).pathname })));
  });
  pages = [
    { name: 'home', path: '/', status: 200 },
    ...contents.map((item) => ({ name: pageName(item.path), path: item.path, status: 200 })),
    { name: 'privacy', path: '/privacy/', status: 200 },
    { name: 'not-found', path: NOT_FOUND_PATH, status: 404 },
  ];
  ensureScreenshotDir();
});

after(async () => {
  await browser?.close();
  await server?.stop();
});

/** Clicks a link that loads a new document and waits for it to load (also when it reloads the same address). */
async function follow(page, link) {
  await Promise.all([page.waitForEvent('load'), link.click()]);
}

/** A short description of the focused element, for assertion messages. */
function activeElement(page) {
  return page.evaluate(() => {
    const el = document.activeElement;
    return {
      tag: el?.tagName.toLowerCase(),
      id: el?.id || '',
      className: el?.className || '',
      text: (el?.textContent || '').trim().slice(0, 80),
      href: el?.getAttribute('href') || '',
    };
  });
}

test('the article contents lists the index first and every section', () => {
  assert.ok(
    contents.length >= MIN_ARTICLE_PAGES,
    `nav.contents on ${ARTICLE_PATH} lists ${contents.length} pages, expected at least ${MIN_ARTICLE_PAGES}: ${JSON.stringify(contents)}`,
  );
  assert.deepEqual(contents[0], { text: 'Overview', path: ARTICLE_PATH }, 'the first contents item should be "Overview", the article index');
  for (const item of contents.slice(1)) {
    assert.ok(item.path.startsWith(ARTICLE_PATH) && item.path.endsWith('/') && item.path !== ARTICLE_PATH, `odd section address ${item.path}`);
    assert.ok(item.text, `section ${item.path} has an empty link text`);
  }
  const paths = contents.map((item) => item.path);
  assert.equal(new Set(paths).size, paths.length, `a section is listed twice: ${paths.join(', ')}`);
});

test('every page loads with no console errors, page errors or failed requests', async (t) => {
  for (const [viewportName, viewport] of Object.entries(VIEWPORTS)) {
    for (const { name, path: pathname, status } of pages) {
      await t.test(`${pathname} (${viewportName})`, () =>
        withPage(browser, { ...viewport, colorScheme: 'light' }, async (page) => {
          const problems = watchForProblems(page);
          const response = await page.goto(url(pathname));
          assert.equal(response.status(), status, `${pathname} answered ${response.status()}`);
          assert.ok((await page.title()).trim(), `${pathname} has an empty <title>`);
          assert.ok((await page.locator('h1').first().textContent()).trim(), `${pathname} has an empty <h1>`);
          // Screenshots are for people to look at; nothing compares them.
          await page.screenshot({ path: path.join(SCREENSHOT_DIR, `${name}-${viewportName}.png`), fullPage: true });
          assert.deepEqual(problems(), [], `problems on ${pathname} (${viewportName}):\n  ${problems().join('\n  ')}`);
        }),
      );
    }
  }
});

test('axe-core finds no WCAG 2.2 A/AA violations', async (t) => {
  for (const colorScheme of COLOR_SCHEMES) {
    for (const [viewportName, viewport] of Object.entries(VIEWPORTS)) {
      for (const { path: pathname, status } of pages) {
        const where = `${pathname} (${viewportName}, ${colorScheme})`;
        await t.test(where, () =>
          withPage(browser, { ...viewport, colorScheme }, async (page) => {
            const response = await page.goto(url(pathname));
            assert.equal(response.status(), status, `${pathname} answered ${response.status()}`);
            // Make sure the page really sees the scheme, or "dark" would quietly test light twice.
            const dark = await page.evaluate(() => matchMedia('(prefers-color-scheme: dark)').matches);
            assert.equal(dark, colorScheme === 'dark', `prefers-color-scheme on ${where}`);
            const { violations } = await runAxe(page);
            assert.equal(violations.length, 0, `axe-core violations on ${where}:\n${formatViolations(violations)}`);
          }),
        );
      }
    }
  }
});

test('the first Tab focuses the skip link and Enter moves focus to the main content', async (t) => {
  for (const [viewportName, viewport] of Object.entries(VIEWPORTS)) {
    await t.test(viewportName, () =>
      withPage(browser, viewport, async (page) => {
        const section = contents[1];
        assert.ok(section, 'no section page to test');
        await page.goto(url(section.path));

        await page.keyboard.press('Tab');
        const focused = await activeElement(page);
        assert.ok(focused.className.split(/\s+/).includes('skip-link'), `first Tab focused ${JSON.stringify(focused)}, not a.skip-link`);
        assert.equal(focused.text, 'Skip to main content');
        assert.equal(focused.href, '#main-content');
        // The link is moved off-screen until focused; a sighted keyboard user must see it.
        const box = await page.locator('a.skip-link').boundingBox();
        const { width, height } = page.viewportSize();
        assert.ok(box && box.y >= 0 && box.x >= 0 && box.y + box.height <= height && box.x + box.width <= width, `focused skip link is not on screen: ${JSON.stringify(box)}`);

        await page.keyboard.press('Enter');
        // Following an in-page link moves focus after the key event; allow a moment.
        await page.waitForFunction(() => document.activeElement?.id === 'main-content', null, { timeout: 2_000 }).catch(() => {});
        const afterEnter = await activeElement(page);
        assert.deepEqual([afterEnter.tag, afterEnter.id], ['main', 'main-content'], `after Enter, focus is on ${JSON.stringify(afterEnter)}`);
        assert.equal(new URL(page.url()).hash, '#main-content');
      }),
    );
  }
});

test('clicking each contents link opens that section and marks it current', async (t) => {
  for (const [viewportName, viewport] of Object.entries(VIEWPORTS)) {
    await t.test(viewportName, () =>
      withPage(browser, viewport, async (page) => {
        await page.goto(url(ARTICLE_PATH));
        // Each link is clicked on the page the previous click opened, so the
        // contents list is exercised on every page of the article.
        for (const [i, item] of contents.entries()) {
          const link = page.locator('nav.contents a').nth(i);
          assert.equal((await link.textContent()).trim(), item.text, `contents item ${i + 1} on ${pathOf(page)} differs from the index's`);
          await follow(page, link);

          assert.equal(pathOf(page), item.path, `clicking "${item.text}"`);
          if (i > 0) {
            // "Overview" is the index, whose <h1> is the article's title.
            assert.equal((await page.locator('h1').textContent()).trim(), item.text, `<h1> on ${item.path}`);
          }
          const current = page.locator('nav.contents a[aria-current="page"]');
          assert.equal(await current.count(), 1, `${item.path} should mark exactly one contents link aria-current="page"`);
          assert.equal((await current.textContent()).trim(), item.text, `aria-current link on ${item.path}`);
          assert.equal(new URL(await current.evaluate((a) => a.href)).pathname, item.path, `aria-current link's address on ${item.path}`);
        }
      }),
    );
  }
});

test('following "Next" from the index visits every section in contents order', () =>
  withPage(browser, VIEWPORTS.desktop, async (page) => {
    await page.goto(url(ARTICLE_PATH));
    assert.equal(await page.locator('nav.pagination a[rel="prev"]').count(), 0, 'the index should have no previous link');
    const visited = [pathOf(page)];
    // One step more than the contents so a loop of next links still ends.
    for (let step = 0; step <= contents.length; step++) {
      const next = page.locator('nav.pagination a[rel="next"]');
      if ((await next.count()) === 0) break;
      await follow(page, next);
      // Each page's previous link should lead back where we came from.
      const prev = page.locator('nav.pagination a[rel="prev"]');
      assert.equal(await prev.count(), 1, `${pathOf(page)} has no previous link`);
      assert.equal(new URL(await prev.evaluate((a) => a.href)).pathname, visited.at(-1), `previous link on ${pathOf(page)}`);
      visited.push(pathOf(page));
    }
    assert.deepEqual(visited, contents.map((item) => item.path), 'pages reached by "Next" vs the contents list');
    assert.equal(await page.locator('nav.pagination a[rel="next"]').count(), 0, `the last page ${pathOf(page)} still has a next link`);
  }));

test('a section page shows its heading and text with JavaScript disabled', async (t) => {
  for (const [viewportName, viewport] of Object.entries(VIEWPORTS)) {
    await t.test(viewportName, () =>
      withPage(browser, { ...viewport, javaScriptEnabled: false }, async (page) => {
        const section = contents[1];
        assert.ok(section, 'no section page to test');
        const response = await page.goto(url(section.path));
        assert.equal(response.status(), 200);
        const h1 = page.locator('main h1');
        assert.ok(await h1.isVisible(), '<h1> is not visible');
        assert.equal((await h1.textContent()).trim(), section.text);
        const prose = page.locator('main .prose');
        assert.ok(await prose.isVisible(), '.prose is not visible');
        const text = (await prose.innerText()).trim();
        // A real section has paragraphs of text, not a placeholder.
        assert.ok(text.length > 200, `.prose shows only ${text.length} characters: ${JSON.stringify(text.slice(0, 200))}`);
      }),
    );
  }
});

test('article addresses without the trailing slash redirect permanently (301/308) to the canonical one', async (t) => {
  for (const { path: canonical } of contents) {
    const loose = canonical.replace(/\/$/, ''); // e.g. /dry-needling/migraines
    await t.test(loose, () =>
      withPage(browser, VIEWPORTS.desktop, async (page) => {
        const response = await page.goto(url(loose));
        assert.equal(pathOf(page), canonical, `${loose} ended at ${page.url()}`);
        assert.equal(response.status(), 200);
        const redirect = response.request().redirectedFrom();
        assert.ok(redirect, `${loose} was not redirected`);
        // The server answers 308 Permanent Redirect (README, tests/app/pages.rs);
        // 301 is accepted too. Both are permanent, which is what matters:
        // browsers and search engines remember the canonical address.
        const status = (await redirect.response()).status();
        assert.ok(PERMANENT_REDIRECTS.includes(status), `${loose} answered ${status}, not a permanent redirect`);
      }),
    );
  }
});

/** Presses Tab until `matches(activeElement)` is true; fails after `limit` presses. */
async function tabTo(page, description, matches, limit = 120) {
  for (let i = 0; i < limit; i += 1) {
    await page.keyboard.press('Tab');
    if (await page.evaluate(matches)) return;
  }
  assert.fail(`Tab never reached ${description}; focus is on ${JSON.stringify(await activeElement(page))}`);
}

test('citation markers and the reference list work from the keyboard, both ways', async (t) => {
  for (const [name, viewport] of Object.entries(VIEWPORTS)) {
    await t.test(name, () =>
      withPage(browser, viewport, async (page) => {
        await page.goto(url('/dry-needling/right-for-you/'));
        await tabTo(page, 'the first citation marker', () => document.activeElement?.closest('sup.citation') !== null);
        assert.equal(await page.evaluate(() => document.activeElement.textContent), '[source 1]');
        await page.keyboard.press('Enter');
        await page.waitForFunction(() => location.hash === '#ref-gattie-2017');
        const entry = page.locator('#ref-gattie-2017');
        await assert.doesNotReject(entry.waitFor({ state: 'visible' }));
        assert.ok(await entry.evaluate((li) => { const r = li.getBoundingClientRect(); return r.top < innerHeight && r.bottom > 0; }), 'the source is scrolled into view');
        await tabTo(page, 'the link back to the text', () => document.activeElement?.closest('.reference-back') !== null);
        await page.keyboard.press('Enter');
        await page.waitForFunction(() => location.hash === '#cite-gattie-2017-1');
        const marker = page.locator('#cite-gattie-2017-1');
        assert.ok(await marker.evaluate((a) => { const r = a.getBoundingClientRect(); return r.top >= 0 && r.bottom <= innerHeight; }), 'back at the marker');
        await page.screenshot({ path: path.join(SCREENSHOT_DIR, `citations-${name}.png`), fullPage: true });
      }),
    );
  }
});
