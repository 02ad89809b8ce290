// Shared pieces for the browser tests: the clinic-site server, Chromium,
// the two viewports, page-problem watching and the axe-core runner.

import { spawn } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

import AxeBuilder from '@axe-core/playwright';
import { chromium } from 'playwright-core';

const here = path.dirname(fileURLToPath(import.meta.url));

/** The repository root (tests/e2e/ is two levels down). */
export const REPO_ROOT = path.resolve(here, '..', '..');

/** Where full-page screenshots go; git-ignored, for people to look at. */
export const SCREENSHOT_DIR = path.join(here, 'screenshots');

// ---------------------------------------------------------------------------
// Server

const SERVER_START_TIMEOUT_MS = 20_000;
const READY_LINE = /serving the site at (http:\/\/\S+\/)/;
// Keep only the end of the server's log: it logs every request, and the
// tail is what helps when something goes wrong.
const LOG_TAIL_CHARS = 20_000;

/**
 * Starts clinic-site on a free port and resolves once it says where it is
 * serving. The binary is target/debug/clinic-site unless CLINIC_BIN says
 * otherwise; it is not built here, so run `cargo build` first.
 *
 * Each server gets a fresh, empty `--data` folder (comments database, keys)
 * in the system temp folder, removed again by `stop()`, so tests never touch
 * the repository's own data/ folder or each other's.
 *
 * @param {object} [options]
 * @param {string} [options.content] content folder (default: the repository's content/)
 * @param {boolean} [options.dev] start in preview mode (`--dev`: live reload, drafts, error page)
 * @param {string} [options.staticDir] static folder (default: the repository's static/); pass a
 *   temp copy when a test uploads pictures, which the server writes into it
 * @returns {Promise<{ url: string, dataDir: string, stop: () => Promise<void>, log: () => string }>}
 */
export async function startServer({
  content = path.join(REPO_ROOT, 'content'),
  dev = false,
  staticDir = path.join(REPO_ROOT, 'static'),
} = {}) {
  const bin = process.env.CLINIC_BIN || path.join(REPO_ROOT, 'target', 'debug', 'clinic-site');
  if (!existsSync(bin)) {
    throw new Error(`clinic-site binary not found at ${bin}: run \`cargo build\` in ${REPO_ROOT} or set CLINIC_BIN`);
  }
  const dataDir = mkdtempSync(path.join(os.tmpdir(), 'clinic-site-data-'));
  const removeDataDir = () => rmSync(dataDir, { recursive: true, force: true });
  const args = ['--addr', '127.0.0.1:0', '--content', content, '--static', staticDir, '--data', dataDir];
  if (dev) args.push('--dev');
  const child = spawn(bin, args, {
    cwd: REPO_ROOT,
    stdio: ['ignore', 'pipe', 'pipe'],
    // Plain log lines, whatever the caller's RUST_LOG says.
    env: { ...process.env, RUST_LOG: 'info', NO_COLOR: '1' },
  });

  let output = '';
  const append = (chunk) => {
    output = (output + chunk.toString()).slice(-LOG_TAIL_CHARS);
  };
  // Both pipes are drained for the server's whole life: an unread pipe
  // fills up and would block the server's logging, and so its responses.
  child.stdout.on('data', append);
  child.stderr.on('data', append);

  // If this test process dies without running `after`, do not leave the
  // server behind.
  const killOnExit = () => {
    child.kill('SIGKILL');
    removeDataDir();
  };
  process.once('exit', killOnExit);

  const exited = new Promise((resolve) => child.once('exit', (code, signal) => resolve({ code, signal })));

  const url = await new Promise((resolve, reject) => {
    // On any failure below the server is gone (or being killed): let go of
    // its data folder too.
    const fail = (err) => {
      process.off('exit', killOnExit);
      removeDataDir();
      reject(err);
    };
    const timer = setTimeout(() => {
      cleanup();
      child.kill('SIGKILL');
      // Let go of the pipes too: anything the binary started could keep
      // them open and this test process alive.
      child.stdout.destroy();
      child.stderr.destroy();
      fail(new Error(`clinic-site did not report its address within ${SERVER_START_TIMEOUT_MS / 1000} s.\n$ ${bin} ${args.join(' ')}\n${output}`));
    }, SERVER_START_TIMEOUT_MS);
    const onData = () => {
      const match = output.match(READY_LINE);
      if (match) {
        cleanup();
        resolve(match[1]);
      }
    };
    const onExit = (code, signal) => {
      cleanup();
      fail(new Error(`clinic-site exited (code ${code}, signal ${signal}) before serving.\n$ ${bin} ${args.join(' ')}\n${output}`));
    };
    const onError = (err) => {
      cleanup();
      fail(new Error(`cannot start ${bin}: ${err.message}`));
    };
    function cleanup() {
      clearTimeout(timer);
      child.stdout.off('data', onData);
      child.stderr.off('data', onData);
      child.off('exit', onExit);
      child.off('error', onError);
    }
    child.stdout.on('data', onData);
    child.stderr.on('data', onData);
    child.once('exit', onExit);
    child.once('error', onError);
  });

  async function stop() {
    process.off('exit', killOnExit);
    if (child.exitCode === null && child.signalCode === null) {
      child.kill('SIGTERM'); // the server shuts down gracefully on SIGTERM
      const timer = setTimeout(() => child.kill('SIGKILL'), 5_000);
      await exited;
      clearTimeout(timer);
    }
    removeDataDir();
  }

  return { url, dataDir, stop, log: () => output };
}

// ---------------------------------------------------------------------------
// Browser

export const CHROME_PATH = process.env.CHROME_PATH || '/usr/bin/chromium';

// See /work/shared/BROWSER-TESTING.md: without the background-networking
// flags Chromium keeps trying to reach outside hosts, which this machine
// refuses. Playwright makes its own profile, so no --user-data-dir.
const CHROME_ARGS = [
  '--headless',
  '--no-sandbox',
  '--disable-gpu',
  '--disable-dev-shm-usage',
  '--disable-quic',
  '--no-first-run',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
];

export async function launchBrowser() {
  if (!existsSync(CHROME_PATH)) {
    throw new Error(`Chromium not found at ${CHROME_PATH}: install it (apt-get install -y chromium) or set CHROME_PATH`);
  }
  return chromium.launch({ executablePath: CHROME_PATH, args: CHROME_ARGS });
}

/** Context options for each viewport the site is checked at. */
export const VIEWPORTS = {
  phone: { viewport: { width: 390, height: 844 }, deviceScaleFactor: 2, isMobile: true, hasTouch: true },
  desktop: { viewport: { width: 1280, height: 800 } },
};

export const COLOR_SCHEMES = ['light', 'dark'];

/**
 * Opens a fresh context (axe-core needs pages from a context, not
 * browser.newPage()) and a page in it, runs `fn(page, context)` and always
 * closes the context.
 */
export async function withPage(browser, contextOptions, fn) {
  const context = await browser.newContext(contextOptions);
  // Everything here is local: fail in seconds, not Playwright's 30 s.
  context.setDefaultTimeout(10_000);
  try {
    const page = await context.newPage();
    return await fn(page, context);
  } finally {
    await context.close();
  }
}

/**
 * Starts recording what goes wrong on a page: console errors, uncaught
 * exceptions, requests that fail at the network level and sub-resources
 * (stylesheets, images...) answered with an HTTP error. The page's own
 * document is left out so the 404 page can be checked too; its status is
 * asserted separately.
 *
 * @returns {() => string[]} the problems seen so far, one line each
 */
export function watchForProblems(page) {
  const problems = [];
  page.on('console', (msg) => {
    // Chromium logs "Failed to load resource" for a document that answers
    // 404, which is the point of the not-found page; any other 4xx/5xx is
    // still caught by the response listener below.
    const isOwnDocumentStatus = msg.location().url === page.url() && msg.text().startsWith('Failed to load resource');
    if (msg.type() === 'error' && !isOwnDocumentStatus) {
      const { url, lineNumber } = msg.location();
      problems.push(`console error: ${msg.text()}${url ? ` (${url}:${lineNumber})` : ''}`);
    }
  });
  page.on('pageerror', (err) => problems.push(`page error: ${err.stack || err.message}`));
  page.on('requestfailed', (request) => {
    problems.push(`request failed: ${request.method()} ${request.url()}: ${request.failure()?.errorText}`);
  });
  page.on('response', (response) => {
    const request = response.request();
    if (response.status() >= 400 && !(request.isNavigationRequest() && request.frame() === page.mainFrame())) {
      problems.push(`HTTP ${response.status()} for ${request.resourceType()} ${response.url()}`);
    }
  });
  return () => [...problems];
}

/**
 * Starts recording Content-Security-Policy violations on a page, across
 * reloads and navigations: every `securitypolicyviolation` event the
 * document sees (recorded into `window.__cspViolations` by an init script,
 * which runs before the page's own scripts and is not subject to the
 * policy), and every console message that mentions the policy (Chromium
 * reports blocked resources as "Refused to ... Content Security Policy").
 * Call before the first `goto`.
 *
 * @returns {Promise<() => string[]>} the violations seen so far, one line each
 */
export async function watchForCspViolations(page) {
  const violations = [];
  // The binding outlives each document, so a violation just before a
  // reload is not lost with that document's window.__cspViolations.
  await page.exposeBinding('__reportCspViolation', (_source, v) => {
    violations.push(`CSP violation on ${v.documentURI}: ${v.effectiveDirective} blocked ${v.blockedURI || '(inline)'}${v.sourceFile ? ` at ${v.sourceFile}:${v.lineNumber}` : ''}${v.sample ? ` sample ${JSON.stringify(v.sample)}` : ''}`);
  });
  await page.addInitScript(() => {
    window.__cspViolations = [];
    document.addEventListener('securitypolicyviolation', (e) => {
      const v = {
        documentURI: e.documentURI,
        effectiveDirective: e.effectiveDirective,
        blockedURI: e.blockedURI,
        sourceFile: e.sourceFile,
        lineNumber: e.lineNumber,
        sample: e.sample,
        disposition: e.disposition,
      };
      window.__cspViolations.push(v);
      if (typeof window.__reportCspViolation === 'function') window.__reportCspViolation(v);
    });
  });
  page.on('console', (msg) => {
    if (/content[- ]security[- ]policy/i.test(msg.text())) {
      violations.push(`console ${msg.type()} about CSP: ${msg.text()} (${msg.location().url}:${msg.location().lineNumber})`);
    }
  });
  return () => [...violations];
}

// ---------------------------------------------------------------------------
// Accessibility

export const AXE_TAGS = ['wcag2a', 'wcag2aa', 'wcag21a', 'wcag21aa', 'wcag22aa'];

/**
 * Runs axe-core on the page with the WCAG 2.0-2.2 A/AA rules, plus
 * `target-size` (2.5.8, tap targets at least 24x24 px), which axe ships
 * switched off.
 */
export async function runAxe(page, { exclude = [] } = {}) {
  let builder = new AxeBuilder({ page });
  // A part checked on its own elsewhere: the editor's preview frame holds
  // the public page (checked by pages.test.mjs) and, sandboxed without
  // scripts, cannot host axe itself.
  for (const selector of exclude) builder = builder.exclude(selector);
  const results = await builder
    // options() replaces all options, so it must come before withTags(),
    // which adds runOnly to them. A rule switched on by name runs even
    // though it is disabled by default.
    .options({ rules: { 'target-size': { enabled: true } } })
    .withTags(AXE_TAGS)
    .analyze();
  const ran = [...results.violations, ...results.passes, ...results.incomplete, ...results.inapplicable].map((r) => r.id);
  if (!ran.includes('target-size')) {
    // Guard against a future AxeBuilder quietly dropping the option.
    throw new Error('axe-core did not run the target-size rule');
  }
  return results;
}

/** Axe violations as text a person can act on: rule, impact, help, and each failing element with why. */
export function formatViolations(violations) {
  return violations
    .map((v) => {
      const nodes = v.nodes
        .map((node) => {
          const why = (node.failureSummary || '').replace(/\n/g, '\n        ');
          return `    - ${node.target.join(' >> ')}\n      html: ${node.html}\n      ${why}`;
        })
        .join('\n');
      return `  ${v.id} (${v.impact}): ${v.help}\n    ${v.helpUrl}\n${nodes}`;
    })
    .join('\n');
}

// ---------------------------------------------------------------------------
// Small utilities

/** A file-name-friendly name for a site path: "/" -> "home", "/a/b/" -> "a-b". */
export function pageName(pathname) {
  const name = pathname.replace(/^\/+|\/+$/g, '').replace(/[^a-z0-9]+/gi, '-');
  return name || 'home';
}

export function ensureScreenshotDir() {
  mkdirSync(SCREENSHOT_DIR, { recursive: true });
}

/** The path of the page's current address, for assertions about where a link led. */
export const pathOf = (page) => new URL(page.url()).pathname;
