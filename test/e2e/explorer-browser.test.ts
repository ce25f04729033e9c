// Lading's explorer in a real browser: Debian's chromium, headless, driven by playwright-core, against
// a ladingd started with --ui and the explorer's test images loaded. Each view is screenshot into
// test-output/explorer/ (paths in the log); a newcomer's four questions are answered on the page.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync } from 'node:fs';
import path from 'node:path';
import { after, before, describe, it, type TestContext } from 'node:test';
import type { Browser, Page } from 'playwright-core';
import { APP, ARM64_PACKAGES, BASE, BUILDER, explorerFixture, MULTI, type ExplorerFixture } from '../../src/images/testing/explorer-fixture.js';
import { Daemon } from '../support/daemon.js';
import { repoRoot } from '../support/paths.js';

const CHROMIUM = process.env.LADING_TEST_CHROMIUM ?? '/usr/bin/chromium';
const SHOTS = path.join(repoRoot, 'test-output', 'explorer');
const absent = !existsSync(CHROMIUM) && !process.env.CI ? `${CHROMIUM} is absent (apt-get install chromium)` : false;

describe('the explorer in a browser', { timeout: 180_000, skip: absent }, () => {
  let d: Daemon;
  let fx: ExplorerFixture;
  let url: string;
  let origin: string;
  let browser: Browser;
  let page: Page;

  const shot = async (t: TestContext, name: string): Promise<void> => {
    const file = path.join(SHOTS, `${name}.png`);
    await page.screenshot({ path: file, fullPage: true });
    t.diagnostic(`screenshot: ${file}`);
  };
  const open = async (hash: string): Promise<void> => {
    await page.goto(`${origin}/_lading/ui/${hash}`);
  };
  const refHash = (tab: string, ref: string, platform?: string): string =>
    `#/image/${tab}/${encodeURIComponent(ref)}${platform ? `?platform=${encodeURIComponent(platform)}` : ''}`;

  before(async () => {
    // The page is built by `npm run build` (and `npm ci`); a test build of the server alone lacks it.
    if (!existsSync(path.join(repoRoot, 'dist', 'web', 'explorer', 'index.html'))) {
      const built = spawnSync('npm', ['run', 'build:web'], { cwd: repoRoot, encoding: 'utf8' });
      assert.equal(built.status, 0, built.stderr);
    }
    mkdirSync(SHOTS, { recursive: true });
    d = await Daemon.start({ extraArgs: ['--ui', '127.0.0.1:0'] });
    const deadline = Date.now() + 10_000;
    let m: RegExpExecArray | null = null;
    while (!(m = /Lading explorer: open (\S+)/.exec(d.output())) && Date.now() < deadline) await new Promise((r) => setTimeout(r, 50));
    assert.ok(m, `no explorer URL printed\n${d.logs()}`);
    url = m[1]!;
    origin = new URL(url).origin;
    fx = await explorerFixture();
    const loaded = await d.request('/v1.51/images/load?quiet=1', { method: 'POST', body: fx.archive, headers: { 'Content-Type': 'application/x-tar' } });
    assert.equal(loaded.status, 200, loaded.text);
    const { chromium } = await import('playwright-core');
    browser = await chromium.launch({ executablePath: CHROMIUM, headless: true, args: ['--no-sandbox', '--disable-gpu'] });
    page = await browser.newPage({ viewport: { width: 1400, height: 900 } });
  });
  after(async () => {
    await browser?.close();
    await d?.stop();
  });

  it('prints a URL with a token, and refuses the page and the API without it', async (t) => {
    assert.match(url, /^http:\/\/127\.0\.0\.1:\d+\/_lading\/ui\/\?token=[0-9a-f]{48}$/);
    for (const p of ['/_lading/ui/', '/_lading/ui/api/images', '/_lading/ui/api/events']) {
      assert.equal((await fetch(origin + p)).status, 401, p);
      assert.equal((await fetch(`${origin}${p}?token=nope`)).status, 401, p);
    }
    const refused = await browser.newPage();
    const res = await refused.goto(`${origin}/_lading/ui/`);
    assert.equal(res?.status(), 401);
    assert.match(await refused.textContent('body') ?? '', /Open the URL ladingd printed/);
    await refused.screenshot({ path: path.join(SHOTS, '00-token-refused.png') });
    t.diagnostic(`screenshot: ${path.join(SHOTS, '00-token-refused.png')}`);
    await refused.close();
    // The printed URL: the token goes into a cookie and leaves the address bar.
    await page.goto(url);
    assert.equal(new URL(page.url()).search, '');
  });

  it('lists the images with their platforms as a tree, searchable', async (t) => {
    await open('#/images');
    await page.waitForSelector('[data-testid=image-row]');
    assert.match(await page.textContent('[data-testid=image-count]') ?? '', /^4 images/);
    const text = await page.textContent('table.images') ?? '';
    for (const name of ['explorer/base:1', 'explorer/app:1', 'explorer/multi:1', 'dangling', 'linux/arm64/v8', 'attestation for']) assert.ok(text.includes(name), name);
    await shot(t, '01-image-list');
    await page.fill('[data-testid=image-search]', 'multi');
    await page.waitForFunction(() => document.querySelectorAll('[data-testid=image-row]').length === 1);
    await page.fill('[data-testid=image-search]', '');
  });

  it('shows one image: its config readable, names, digests and graph; the platform switches', async (t) => {
    await open(refHash('overview', APP));
    await page.waitForSelector('[data-testid=config-table]');
    const config = await page.textContent('[data-testid=config-table]') ?? '';
    for (const s of ['["/app/server"]', 'MODE=app', '8080/tcp', '/app']) assert.ok(config.includes(s), s);
    await shot(t, '02-image-overview');
    await open(refHash('overview', MULTI, 'linux/arm64/v8'));
    await page.waitForSelector('[data-testid=graph] .chosen');
    assert.equal(await page.inputValue('[data-testid=platform-switch]'), 'linux/arm64/v8');
    assert.match(await page.textContent('[data-testid=config-table]') ?? '', /linux\/arm64\/v8/);
    await shot(t, '03-image-graph-arm64');
  });

  it('shows layers with the history steps that made them, empty steps too', async (t) => {
    await open(refHash('layers', BASE));
    await page.waitForSelector('[data-testid=layers-table] tbody tr');
    const rows = await page.$$eval('[data-testid=layers-table] tbody tr', (trs) => trs.map((tr) => tr.textContent ?? ''));
    assert.equal(rows.length, 3);
    assert.match(rows[1]!, /ENV MODE=base.*empty step/);
    assert.match(rows[2]!, /rm -rf \/tmp\/cache\.bin/);
    await shot(t, '04-layers-history');
  });

  it('finds a file a later layer deleted, and the space it wastes', async (t) => {
    await open(refHash('files', BASE));
    await page.waitForSelector('[data-testid=tree-entry][data-path=tmp]');
    await page.click('[data-testid=tree-entry][data-path=tmp] a');
    const removed = page.locator('[data-testid=tree-entry][data-path="tmp/cache.bin"]');
    await removed.waitFor();
    assert.match(await removed.getAttribute('class') ?? '', /removed/);
    assert.match(await removed.textContent() ?? '', /R.*cache\.bin.*120 kB/);
    const wasted = await page.$$eval('[data-testid=wasted-row]', (trs) => trs.map((tr) => tr.textContent ?? ''));
    assert.match(wasted[0]!, /120 kB.*\/tmp\/cache\.bin.*removed/);
    assert.match(await page.textContent('[data-testid=wasted-bytes]') ?? '', /120 kB/);
    await shot(t, '05-files-deleted-and-wasted');
    // From the wasted-space list to the file in the tree.
    await page.click('[data-testid=crumbs] a:first-child');
    await page.locator('[data-testid=tree-entry][data-path=etc]').waitFor();
    await page.click('[data-testid=wasted-row] a:has-text("/tmp/cache.bin")');
    await page.locator('[data-testid=tree-entry][data-path="tmp/cache.bin"].removed').waitFor();
    // The filesystem up to the base layer: the file is there, added by that layer.
    await page.selectOption('[data-testid=layer-select]', '0');
    await page.locator('[data-testid=tree-entry][data-path="tmp/cache.bin"].added').waitFor();
    await shot(t, '06-files-up-to-layer-0');
  });

  it('shows what differs between two images', async (t) => {
    await open(`#/compare?a=${encodeURIComponent(BASE)}&b=${encodeURIComponent(APP)}`);
    await page.waitForSelector('[data-testid=comparison]');
    const files = await page.textContent('[data-testid=compare-files]') ?? '';
    for (const s of ['/app/server', '/app/readme.txt', '/etc/app.conf']) assert.ok(files.includes(s), s);
    assert.match(await page.textContent('[data-testid=compare-layers]') ?? '', /shared.*only A.*only B/);
    assert.match(await page.textContent('[data-testid=compare-config]') ?? '', /Env MODE\s*base\s*app/);
    await shot(t, '07-compare');
  });

  it('lists the packages the SBOM of linux/arm64 names, searchable, and the provenance', async (t) => {
    await open(refHash('supply-chain', MULTI));
    const arm = page.locator('[data-testid="platform-linux/arm64/v8"]');
    await arm.locator('[data-testid=sbom-package]').first().waitFor();
    assert.deepEqual(await arm.locator('[data-testid=sbom-package] td:first-child').allTextContents(), ARM64_PACKAGES);
    assert.match(await arm.locator('[data-testid=provenance]').textContent() ?? '', new RegExp(BUILDER.replace(/[.?]/g, '\\$&')));
    await shot(t, '08-supply-chain');
    await arm.locator('button', { hasText: 'Raw statement' }).first().click();
    await arm.locator('pre.raw').waitFor();
    assert.match(await arm.locator('pre.raw').textContent() ?? '', /"spdxVersion": "SPDX-2.3"/);
    await arm.locator('pre.raw').scrollIntoViewIfNeeded();
    await shot(t, '08b-supply-chain-raw-statement');
    await arm.locator('button', { hasText: 'Hide' }).click();
    await page.fill('[data-testid=package-search]', 'crypto');
    await page.waitForFunction(() => document.querySelectorAll('[data-testid="platform-linux/arm64/v8"] [data-testid=sbom-package]').length === 1);
    assert.deepEqual(await arm.locator('[data-testid=sbom-package] td:first-child').allTextContents(), ['libcrypto3']);
    await shot(t, '09-supply-chain-search');
  });

  it('shows disk usage and what a prune would free, removing nothing', async (t) => {
    await open('#/disk');
    await page.waitForSelector('[data-testid=prune]');
    const dangling = fx.dangling;
    const freed = dangling.manifest.desc.size + dangling.config.desc.size + dangling.layers[0]!.blob.desc.size;
    assert.ok(freed < 1000, 'the dangling image is a few hundred bytes');
    assert.equal(await page.textContent('[data-testid=prune-space]'), `${freed} B`);
    assert.match(await page.textContent('[data-testid=prune]') ?? '', /untag sha256:/);
    await shot(t, '10-disk-usage-prune');
    const list = await d.request('/v1.51/images/json');
    assert.equal(list.json<unknown[]>().length, 4, 'the dry run removed nothing');
  });

  it('shows events live as they happen', async (t) => {
    await open('#/activity');
    await page.waitForSelector('[data-testid=activity-state]:has-text("live")');
    const tagged = await d.request('/v1.51/images/explorer/base:1/tag?repo=explorer/base&tag=live', { method: 'POST' });
    assert.equal(tagged.status, 201, tagged.text);
    await page.locator('[data-testid=event][data-action=tag]').first().waitFor();
    assert.match(await page.locator('[data-testid=event][data-action=tag]').first().textContent() ?? '', /explorer\/base:live/);
    assert.ok((await page.locator('[data-testid=event][data-action=load]').count()) >= 4, 'the loads before, kept');
    await shot(t, '11-activity');
  });
});
