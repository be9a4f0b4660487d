// The playground in a real browser (Debian's chromium, driven by playwright-core): the page is
// built as users get it, served from 127.0.0.1, and each preset must show what the same setup
// does in host-sim under Node. Also: sharing by link, configuration errors, a loaded module,
// and `wfk playground`'s dev server.
import { existsSync, readFileSync } from 'node:fs';
import http from 'node:http';
import { extname, join, normalize } from 'node:path';
import { chromium, type Browser, type Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildPlayground, servePlayground } from '../../cli/playground.js';
import { DIST_DIR } from '../../cli/paths.js';
import { BUILD_DIR } from '../support/compile.js';
import { freePort } from '../support/ports.js';
import { PRESETS } from '../../playground/presets.js';
import { runSetup, summarize, type Setup } from '../../playground/session.js';

const CHROMIUM = process.env.CHROMIUM_PATH ?? ['/usr/bin/chromium', '/usr/bin/chromium-browser'].find((p) => existsSync(p));
const TYPES: Record<string, string> = { '.html': 'text/html', '.js': 'text/javascript', '.css': 'text/css', '.wasm': 'application/wasm', '.svg': 'image/svg+xml' };

/** What the same setup shows when run under Node. */
const nodeSummary = async (setup: Setup) => summarize(await runSetup(setup, (filter) => readFileSync(join(DIST_DIR, filter.endsWith('.wasm') ? filter : `${filter}.wasm`))));

async function serveStatic(dir: string): Promise<{ url: string; close: () => Promise<void> }> {
  const server = http.createServer((req, res) => {
    const path = normalize(decodeURIComponent(new URL(req.url ?? '/', 'http://x').pathname)).replace(/^(\.\.[/\\])+/, '');
    const file = join(dir, path.endsWith('/') ? `${path}index.html` : path);
    if (!file.startsWith(dir) || !existsSync(file)) { res.writeHead(404).end('not found'); return; }
    res.writeHead(200, { 'content-type': TYPES[extname(file)] ?? 'application/octet-stream' }).end(readFileSync(file));
  });
  const port = await freePort();
  await new Promise<void>((resolve) => server.listen(port, '127.0.0.1', resolve));
  return { url: `http://127.0.0.1:${port}/`, close: () => new Promise((resolve) => server.close(() => resolve())) };
}

/** Clicks Run and waits until the page has shown the outcome. */
async function runOnPage(page: Page): Promise<string[]> {
  const before = await page.evaluate(() => Number(document.body.dataset.ran ?? 0));
  await page.click('#run');
  await page.waitForFunction((n) => Number(document.body.dataset.ran ?? 0) > n, before, { timeout: 60_000 });
  return page.locator('#summary li').allTextContents();
}

describe.skipIf(!CHROMIUM && !process.env.CI)('the playground in Chromium', () => {
  let browser: Browser;
  let site: { url: string; close: () => Promise<void> };
  let page: Page;

  beforeAll(async () => {
    if (!CHROMIUM) throw new Error('Chromium is missing: install Debian\'s chromium (apt-get install chromium) or set CHROMIUM_PATH');
    site = await serveStatic(await buildPlayground());
    browser = await chromium.launch({ executablePath: CHROMIUM, args: ['--no-sandbox'] });
    page = await browser.newPage({ viewport: { width: 1400, height: 1000 } });
    const errors: string[] = [];
    page.on('pageerror', (e) => errors.push(e.message));
    await page.goto(`${site.url}index.html`);
    expect(errors).toEqual([]);
  }, 120_000);

  afterAll(async () => {
    await browser?.close();
    await site?.close();
  });

  for (const preset of PRESETS) {
    it(`shows what host-sim under Node does for the preset "${preset.title}"`, async () => {
      await page.click(`[data-preset="${preset.id}"]`);
      const shown = await runOnPage(page);
      expect(shown.length).toBeGreaterThan(0);
      expect(shown).toEqual(await nodeSummary(preset.setup));
    }, 60_000);
  }

  it('tells each preset\'s story: quotas, a deny, a canary, faults, metrics and an open circuit', async () => {
    const run = async (id: string) => { await page.click(`[data-preset="${id}"]`); return (await runOnPage(page)).join('\n'); };
    expect(await run('memquota')).toMatch(/^200 from cluster ratings ×5\n429 from rate-quota \(local_rate_limited\) ×3$/);
    expect(await run('mixer-deny')).toMatch(/^403 from access-control \(rbac_access_denied_matched_policy\[deny-reviews-v3\]\) ×1$/);
    expect(await page.locator('#decisions').textContent()).toBe('access-control: replied 403 (rbac_access_denied_matched_policy[deny-reviews-v3])');
    const canary = await run('canary');
    expect(await page.locator('#decisions').textContent()).toMatch(/^header-routing: request headers: set x-route-cluster: reviews-v[12]; response headers: set x-route-decision: rule=rollout;target=reviews-v[12]; cleared the route cache$/);
    expect(canary).toMatch(/200 from cluster reviews-v1 ×(19[0-9])/);
    expect(canary).toMatch(/200 from cluster reviews-v2 ×[1-9]\b/);
    expect(await page.locator('#chart svg rect').count()).toBe(200);
    expect(await run('fault')).toBe('503 from header-routing (fault_filter_abort) ×5');
    expect(await page.locator('#exchanges tbody tr').first().textContent()).toContain('1000');
    await run('telemetry');
    expect(await page.locator('#metrics').textContent()).toContain('istio_requests_total{reporter="destination",source_app="reviews",source_version="v3",destination_app="ratings",response_code="200",response_flags="-"} 10');
    expect(await run('circuit-breaker')).toBe('503 from cluster ratings ×3\n200 from circuit-breaker (circuit_breaker_open) ×7');
    await page.screenshot({ path: join(BUILD_DIR, 'playground.png'), fullPage: true });
  }, 120_000);

  it('shares the whole setup in a link that opens to the same setup and outcome', async () => {
    await page.click('[data-preset="canary"]');
    await page.fill('#count', '30');
    await page.fill('#headers', 'x-user-id: member-{n}\nx-extra: shared');
    await page.click('#share');
    const link = await page.inputValue('#share-link');
    expect(link).toMatch(/#setup=[A-Za-z0-9_-]+$/);
    const other = await browser.newPage();
    await other.goto(link);
    expect(await other.inputValue('#count')).toBe('30');
    expect(await other.inputValue('#headers')).toBe('x-user-id: member-{n}\nx-extra: shared');
    expect(await other.locator('#chain li strong').allTextContents()).toEqual(['header-routing']);
    const shared = structuredClone(PRESETS.find((p) => p.id === 'canary')!.setup);
    shared.burst.count = 30;
    shared.request.headers = [['x-user-id', 'member-{n}'], ['x-extra', 'shared']];
    expect(await runOnPage(other)).toEqual(await nodeSummary(shared));
    // A damaged link says so instead of failing silently.
    await other.goto(`${site.url}index.html#setup=not-json`);
    expect(await other.locator('#notice').textContent()).toContain('damaged');
    await other.close();
  }, 60_000);

  it('checks configurations against the schema as they are typed, and shows the filter\'s own refusal', async () => {
    await page.click('[data-preset="memquota"]');
    const config = page.locator('#chain li textarea').first();
    const problem = page.locator('#chain li .problem').first();
    await config.fill('{ "quotas": ');
    expect(await problem.textContent()).toMatch(/^not JSON/);
    await config.fill('{ "quotas": 5 }');
    expect(await problem.textContent()).toMatch(/\/quotas must be array/);
    // The schema cannot see that a quota names an undefined dimension; the filter can.
    await config.fill(JSON.stringify({ dimensions: { user: { header: 'x-user' } }, quotas: [{ name: 'q', dimensions: ['team'], max_amount: 1, valid_duration: '1s' }] }));
    expect(await problem.textContent()).toBe('');
    const shown = await runOnPage(page);
    expect(shown.join('\n')).toMatch(/^rate-quota refused: .*quotas\[0\]\.dimensions\[0\]/);
    expect(await problem.textContent()).toMatch(/^the filter refused it: .*team/);
  }, 60_000);

  it('runs a module loaded from a file, in the chain order chosen', async () => {
    await page.click('[data-preset="mixer-deny"]');
    await page.setInputFiles('#upload', { name: 'add-header.wasm', mimeType: 'application/wasm', buffer: readFileSync(join(DIST_DIR, 'add-header.wasm')) });
    await page.locator('#chain li').nth(1).locator('textarea').fill('{"request_headers":{"x-tagged":"yes"}}');
    // Move the loaded filter first: it tags the request, then access-control denies it.
    await page.locator('#chain li').nth(1).locator('[data-act="up"]').click();
    expect(await page.locator('#chain li strong').allTextContents()).toEqual(['add-header.wasm', 'access-control']);
    await page.uncheck('#mtls');
    expect(await runOnPage(page)).toEqual(['200 from cluster ratings ×1']);
    expect(await page.locator('#upstream').textContent()).toContain('x-tagged: yes');
  }, 60_000);
});

describe.skipIf(!CHROMIUM && !process.env.CI)('wfk playground', () => {
  it('builds the filters and serves the page, which runs a preset', async () => {
    const lines: string[] = [];
    const served = await servePlayground((line) => lines.push(line), { port: await freePort(), open: false });
    const browser = await chromium.launch({ executablePath: CHROMIUM, args: ['--no-sandbox'] });
    try {
      expect(lines.at(-1)).toBe(`The playground is at ${served.url} (Ctrl-C stops it)`);
      const page = await browser.newPage();
      await page.goto(served.url);
      await page.click('[data-preset="mixer-deny"]');
      expect(await runOnPage(page)).toEqual(['403 from access-control (rbac_access_denied_matched_policy[deny-reviews-v3]) ×1']);
    } finally {
      await browser.close();
      await served.close();
    }
  }, 120_000);
});
