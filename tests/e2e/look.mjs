import { chromium } from 'playwright-core';
const base = process.env.BASE;
const browser = await chromium.launch({ executablePath: '/usr/bin/chromium', args: ['--no-sandbox'] });
for (const [name, viewport] of [['desktop', { width: 1280, height: 800 }], ['phone', { width: 390, height: 844 }]]) {
  const page = await browser.newPage({ viewport });
  page.on('console', (m) => console.log('console:', m.type(), m.text()));
  page.on('pageerror', (e) => console.log('pageerror:', e.message));
  await page.goto(base + '/admin/login');
  await page.fill('#username', 'ed');
  await page.fill('#password', 'plum tractor violet monsoon');
  await page.click('button[type=submit]:has-text("Sign in")');
  await page.goto(base + (process.env.PAGE || '/admin/pages/dry-needling/safety'));
  await page.waitForTimeout(500);
  await page.screenshot({ path: `/tmp/shots/editor-${name}.png`, fullPage: process.env.FULL === '1' });
  if (process.env.TYPE) {
    await page.locator('#page-text').focus();
    await page.keyboard.press('Control+Home');
    await page.keyboard.type(process.env.TYPE);
    await page.waitForTimeout(1500);
    await page.screenshot({ path: `/tmp/shots/editor-typed-${name}.png`, fullPage: process.env.FULL === '1' });
  }
  await page.close();
}
await browser.close();
