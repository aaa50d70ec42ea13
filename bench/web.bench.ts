/**
 * Web app render time, measured in the browser: from the start of navigation to the moment the
 * portfolio (three demo clients) and a client's dashboard have drawn their data, in Debian's
 * Chromium against `assay serve` on `assay demo --small`. Figures are medians of several loads
 * with a warm server. Run alone: `node --import tsx bench/web.bench.ts`; it also exports the
 * suite's `name` and `run(report)`.
 */
import { cpus, loadavg } from 'node:os';
import { fileURLToPath } from 'node:url';
import type { Page } from 'playwright-core';
import { ensureWebAppBuilt, hasChromium, launchBrowser, lead, startDemoServer } from '../test/web/harness.ts';

export const name = 'web';

interface Reporter {
  readonly quick: boolean;
  metric(name: string, value: number, unit: string): void;
  note(text: string): void;
}

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.floor(sorted.length / 2)] ?? Number.NaN;
}

/** Milliseconds from navigation start until `selector` is in the page (the view has its data). */
async function renderTime(page: Page, url: string, selector: string): Promise<number> {
  await page.goto(url, { waitUntil: 'commit' });
  await page.waitForSelector(selector, { timeout: 60_000 });
  return page.evaluate('performance.now()') as Promise<number>;
}

export async function run(report: Reporter): Promise<void> {
  if (!hasChromium) {
    report.note('web: skipped, Chromium is not installed at /usr/bin/chromium');
    return;
  }
  ensureWebAppBuilt();
  // A compliance manager signs in with a password alone, so the bench needs no authenticator.
  const server = await startDemoServer({ role: 'compliance_manager' });
  const browser = await launchBrowser();
  try {
    const page = await browser.newPage({ viewport: { width: 1280, height: 900 } });
    await page.goto(`${server.url}/`);
    await page.getByLabel('Email').fill(lead.email);
    await page.getByLabel('Password').fill(lead.password);
    await page.getByRole('button', { name: 'Sign in', exact: true }).click();
    await page.locator('table.portfolio').waitFor({ timeout: 60_000 });
    const runs = report.quick ? 1 : 7;
    // The portfolio draws its counts before readiness, the dashboard its controls, drift and work
    // before evidence freshness (the slowest answers): both moments are measured.
    const views = [
      [
        'portfolio (3 clients) first content',
        `${server.url}/portfolio/bluepeak`,
        'table.portfolio[data-ready]',
      ],
      [
        'portfolio (3 clients) complete',
        `${server.url}/portfolio/bluepeak`,
        'table.portfolio[data-complete]',
      ],
      ['dashboard (acme) first content', `${server.url}/w/acme`, 'dl.stats[data-ready]'],
      ['dashboard (acme) complete', `${server.url}/w/acme`, 'dl.stats[data-complete]'],
    ] as const;
    for (const [label, url, selector] of views) {
      await renderTime(page, url, selector); // warm the server's caches and the browser's
      const times: number[] = [];
      for (let i = 0; i < runs; i++) times.push(await renderTime(page, url, selector));
      report.metric(`web render ${label} median`, Math.round(median(times)), 'ms');
      report.metric(`web render ${label} max`, Math.round(Math.max(...times)), 'ms');
    }
    report.note(
      `web: Chromium headless at 1280×900, ${runs} loads per view, demo --small data; load average ${loadavg()[0]?.toFixed(1)} on ${cpus().length} cores`,
    );
  } finally {
    await browser.close();
    await server.stop();
  }
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) {
  await run({
    quick: process.argv.includes('--quick'),
    metric: (metric, value, unit) => console.log(`${metric.padEnd(44)} ${String(value).padStart(8)} ${unit}`),
    note: (text) => console.log(text),
  });
}
