import * as fs from 'node:fs';
import * as http from 'node:http';
import type { AddressInfo } from 'node:net';
import * as os from 'node:os';
import * as path from 'node:path';
import { Browser, chromium, Page } from 'playwright-core';
import { buildDemoOnce, DemoRun, testEnv } from './demo-harness';
import { waitFor } from '../utils/wait-for';

/** Debian's chromium (apt-get install chromium). */
const CHROMIUM = '/usr/bin/chromium';

/**
 * The demo page in a real browser: sign in on node a's page, see the same user
 * on node b's page (the cookie for 127.0.0.1 goes to both ports), sign out
 * everywhere and see both pages signed out.
 */
describe('the demo page in Chromium (real processes, real browser)', () => {
  let demo: DemoRun;
  let browser: Browser;
  let urlA: string;
  let urlB: string;
  const screenshot = path.join(fs.mkdtempSync(path.join(os.tmpdir(), 'demo-browser-')), 'demo-page.png');

  beforeAll(async () => {
    buildDemoOnce();
    demo = new DemoRun(await testEnv());
    await demo.ready();
    urlA = `http://127.0.0.1:${demo.node('a').port}/`;
    urlB = `http://127.0.0.1:${demo.node('b').port}/`;
    browser = await chromium.launch({ executablePath: CHROMIUM, headless: true, args: ['--no-sandbox'] });
  }, 120_000);

  afterAll(async () => {
    await browser?.close();
    await demo?.stop();
    demo?.killAll();
    demo?.removeData();
  });

  afterEach(() => {
    const state = expect.getState();
    if (state.assertionCalls !== state.numPassingAsserts) console.log(`demo output:\n${demo.log()}`);
  });

  /** The signed-in heading of a page ("Signed in as …"), once the page showed one of its two states. */
  async function who(page: Page): Promise<string> {
    await page.waitForSelector('#signed-in:not([hidden]), #signed-out:not([hidden])');
    return (await page.isVisible('#signed-in')) ? (await page.textContent('#who'))!.trim() : 'signed out';
  }

  it('signs in on node a, is signed in on node b, and signs out everywhere from b', async () => {
    const context = await browser.newContext({ viewport: { width: 1100, height: 900 } });
    const pageA = await context.newPage();
    const problems: string[] = [];
    pageA.on('pageerror', (error) => problems.push(error.message));
    // The page asks GET /me, which answers 401 while signed out: that is the API, not a problem.
    pageA.on('console', (message) => message.type() === 'error' && !/status of 401/.test(message.text()) && problems.push(message.text()));

    await pageA.goto(urlA);
    expect(await who(pageA)).toBe('signed out');
    await pageA.fill('input[name=username]', 'ada');
    await pageA.fill('input[name=password]', 'analytical-engine');
    await pageA.click('button[type=submit]');
    await pageA.waitForSelector('#signed-in:not([hidden])');
    expect(await who(pageA)).toBe('Signed in as Ada Lovelace (ada)');
    expect(await pageA.textContent('#served-by')).toBe('a@127.0.0.1');
    // The session and the cluster are on the page.
    await pageA.waitForSelector('#sessions tr');
    expect(await pageA.textContent('#sessions')).toContain('a@127.0.0.1');
    await waitFor(async () => (await pageA.textContent('#members'))?.includes('b@127.0.0.1'), 10_000, 'b among the members on a\'s page');

    // The same browser on the other node: the session made on a is valid on b.
    const pageB = await context.newPage();
    pageB.on('pageerror', (error) => problems.push(error.message));
    await pageB.goto(urlB);
    expect(await who(pageB)).toBe('Signed in as Ada Lovelace (ada)');
    expect(await pageB.textContent('#served-by')).toBe('b@127.0.0.1');
    expect(await pageB.textContent('#created-on')).toBe('a@127.0.0.1');

    await pageB.screenshot({ path: screenshot, fullPage: true });

    // Sign out everywhere on b: both pages are signed out.
    await pageB.click('#sign-out-everywhere');
    await pageB.waitForSelector('#signed-out:not([hidden])');
    expect(await who(pageB)).toBe('signed out');
    await pageA.reload();
    expect(await who(pageA)).toBe('signed out');
    expect(problems).toEqual([]);
    await context.close();
  });

  it('does not sign the browser in from another site\'s form (login CSRF): 403, no cookie', async () => {
    // The attacker's page: on another port of the same host, so the demo's cookie (for 127.0.0.1)
    // would be its cookie too and SameSite would not stop it. It posts the attacker's credentials.
    const action = `${urlA}session`;
    const attacker = http.createServer((_request, response) => {
      response.setHeader('content-type', 'text/html');
      response.end(
        `<!doctype html><form method="POST" action="${action}"><input name="username" value="grace"><input name="password" value="cobol-1959"></form>` +
          '<script>document.forms[0].submit()</script>',
      );
    });
    await new Promise<void>((resolve) => attacker.listen(0, '127.0.0.1', resolve));
    try {
      const context = await browser.newContext();
      const page = await context.newPage();
      const posted = page.waitForResponse((response) => response.url() === action && response.request().method() === 'POST');
      await page.goto(`http://127.0.0.1:${(attacker.address() as AddressInfo).port}/`);
      const response = await posted;
      expect(response.status()).toBe(403);
      expect(response.request().headers().origin).toBe(`http://127.0.0.1:${(attacker.address() as AddressInfo).port}`);
      expect(await response.headerValue('set-cookie')).toBeNull();
      expect((await context.cookies()).filter((c) => c.name === 'demo_session')).toEqual([]);
      // The demo page in that browser: signed out.
      await page.goto(urlA);
      expect(await who(page)).toBe('signed out');
      await context.close();
    } finally {
      await new Promise((resolve) => attacker.close(resolve));
    }
  });

  it('saved a screenshot of the page as a PNG', () => {
    const png = fs.readFileSync(screenshot);
    expect(png.length).toBeGreaterThan(1000);
    expect(png.subarray(0, 8)).toEqual(Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]));
    console.log(`demo page screenshot: ${screenshot}`);
  });
});
