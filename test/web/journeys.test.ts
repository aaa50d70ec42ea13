/**
 * The web app in a real browser (Debian's Chromium) against `assay serve` on the demo data: the
 * compliance lead's journeys, each ending with a screenshot and an accessibility check of the page.
 * Skipped, saying why, only where /usr/bin/chromium is missing (CI installs it).
 */
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { after, before, describe, test } from 'node:test';
import * as OTPAuth from 'otpauth';
import type { Browser, BrowserContext, Page } from 'playwright-core';
import { canonicalize, sha256Hex } from '../../src/domains/evidence/core/canonical-json.ts';
import {
  auditor,
  ensureWebAppBuilt,
  hasChromium,
  launchBrowser,
  lead,
  screenshot,
  seriousViolations,
  startDemoServer,
  type WebServer,
} from './harness.ts';

const skip = hasChromium
  ? false
  : 'Chromium is not installed at /usr/bin/chromium (apt-get install chromium)';

describe('web app', { skip, timeout: 600_000 }, () => {
  let server: WebServer;
  let browser: Browser;
  let context: BrowserContext;
  let page: Page;

  before(async () => {
    ensureWebAppBuilt();
    server = await startDemoServer();
    browser = await launchBrowser();
    context = await browser.newContext({ viewport: { width: 1280, height: 900 }, acceptDownloads: true });
    page = await context.newPage();
    page.setDefaultTimeout(30_000);
  });

  after(async () => {
    await browser?.close();
    await server?.stop();
  });

  async function check(name: string): Promise<void> {
    await screenshot(page, name);
    assert.deepEqual(await seriousViolations(page), [], `accessibility violations on the ${name} page`);
  }

  test('sign in with a password and a new TOTP second factor, then the MSP portfolio sorts and filters clients', async () => {
    await page.goto(`${server.url}/`);
    await page.getByLabel('Email').fill(lead.email);
    await page.getByLabel('Password').fill(lead.password);
    await check('sign-in');
    await page.getByRole('button', { name: 'Sign in', exact: true }).click();
    // An owner must enrol an authenticator at the first sign-in.
    const secret = (await page.getByTestId('totp-secret').textContent())?.trim() ?? '';
    assert.match(secret, /^[A-Z2-7]+=*$/);
    const code = new OTPAuth.TOTP({ secret: OTPAuth.Secret.fromBase32(secret) }).generate();
    await page.getByLabel('Authenticator code').fill(code);
    await page.getByRole('button', { name: 'Confirm' }).click();
    await page.getByRole('heading', { name: 'Recovery codes' }).waitFor();
    await page.getByRole('button', { name: 'Continue' }).click();

    await page.getByRole('heading', { name: 'Portfolio: bluepeak' }).waitFor();
    const table = page.locator('table.portfolio');
    await page.locator('table.portfolio[data-complete]').waitFor();
    assert.equal(await table.locator('tbody tr').count(), 3);
    for (const client of ['Acme', 'Globex', 'Initech'])
      assert.equal(await table.getByRole('link', { name: new RegExp(client) }).count(), 1);
    // The demo's clients all have failing controls and overdue remediation.
    assert.match(
      (await table.locator('tbody tr').first().locator('td').nth(1).textContent()) ?? '',
      /^\d+ of \d+$/,
    );
    await check('portfolio');

    await page.getByLabel('Sort by').selectOption('name');
    assert.match((await table.locator('tbody tr th').first().textContent()) ?? '', /Acme/);
    await page.getByLabel('Filter clients').fill('glob');
    assert.equal(await table.locator('tbody tr').count(), 1);
    await page.getByLabel('Filter clients').fill('');

    // The workspace switcher takes the lead to a client's dashboard.
    await page.getByLabel('Workspace').selectOption('acme');
    await page.getByRole('heading', { name: 'Dashboard: acme' }).waitFor();
    await page.getByRole('heading', { name: 'Controls by criterion' }).waitFor();
    await page.getByRole('heading', { name: 'Recent drift' }).waitFor();
    await page.getByRole('heading', { name: 'Evidence freshness' }).waitFor();
    await page.locator('dl.stats[data-complete]').waitFor();
    await check('dashboard');
    await page.setViewportSize({ width: 800, height: 900 });
    await screenshot(page, 'dashboard-800px');
    await page.getByRole('button', { name: 'Menu' }).click();
    await page.getByRole('link', { name: 'Inbox', exact: true }).waitFor();
    await page.getByRole('button', { name: 'Menu' }).click();
    await page.setViewportSize({ width: 1280, height: 900 });
  });

  test('open a failing control: its timeline, checks and evidence proven in the signed ledger', async () => {
    await page.goto(`${server.url}/w/acme`);
    const failing = page.locator('table.criteria a.status-failing').first();
    const name = (await failing.textContent()) ?? '';
    await failing.click();
    await page.getByRole('heading', { name: 'Status timeline' }).waitFor();
    assert.equal(await page.locator('h1 + .lead .badge').textContent(), 'Failing');
    assert.ok((await page.locator('.timeline .segment').count()) >= 1, `a timeline for ${name}`);
    await page.getByRole('heading', { name: 'Checks' }).waitFor();
    await page.getByRole('button', { name: 'Verify proof' }).first().click();
    await page.locator('.badge.verified').first().waitFor();
    await check('control');

    await page.getByRole('link', { name: 'Type II coverage' }).click();
    await page.locator('table.heatmap').waitFor();
    const missing = page.locator('button.cell.status-missing').first();
    const label = (await missing.getAttribute('aria-label')) ?? '';
    await missing.click();
    const detail = page.locator('section.detail');
    await detail.waitFor();
    assert.match((await detail.textContent()) ?? '', /missing|failed/);
    assert.ok(label.endsWith(': missing'));
    await check('coverage-heat-map');
  });

  test('resolve a finding from the inbox by accepting an exception', async () => {
    await page.goto(`${server.url}/w/acme/inbox`);
    const findings = page.locator('ul.inbox > li');
    await findings.first().waitFor();
    const before = await findings.count();
    await check('inbox');
    const first = findings.first();
    const subject = (await first.locator('h2').textContent()) ?? '';
    await first.getByRole('button', { name: 'Accept an exception' }).click();
    await first
      .getByLabel('Justification')
      .fill('Compensating control: access is reviewed weekly until the fix ships.');
    await first.getByLabel('Approver').fill('ciso@acme.example');
    await first.getByRole('button', { name: 'Accept exception' }).click();
    await page.getByText('Exception accepted').waitFor();
    // Polled from here: the page's CSP forbids the string evaluation waitForFunction would need.
    for (let i = 0; i < 100 && (await findings.count()) !== before - 1; i++) await page.waitForTimeout(200);
    assert.equal(await findings.count(), before - 1, `${subject} left the open findings`);
  });

  test('complete an access review: decide every entitlement by reviewer, sign off, and the decisions are evidence', async () => {
    const api = `${server.url}/api/v1/workspaces/acme`;
    async function getJson<T>(path: string): Promise<T> {
      const response = await page.request.get(`${api}${path}`);
      assert.equal(response.status(), 200, `GET ${path}`);
      return (await response.json()) as T;
    }
    interface Item {
      id: string;
      account: string;
      reviewer: string;
      subjectType: string;
      decision: string | null;
      justification: string | null;
      decidedBy: string | null;
      taskId: string | null;
      delegatedFrom: string | null;
    }
    interface Campaign {
      id: string;
      name: string;
      status: string;
      snapshotSha256: string;
      signedOffBy: string | null;
      signedOffAt: string | null;
      decisionsSha256: string | null;
      evidenceId: string | null;
    }
    const { campaigns } = await getJson<{ campaigns: { campaign: Campaign; items: number }[] }>(
      '/access-reviews',
    );
    const open = campaigns.find(
      (c) => c.campaign.status === 'open' && /AWS access review/.test(c.campaign.name),
    );
    assert.ok(open, "the demo has this quarter's AWS access review open");
    const launched = await getJson<{ items: Item[] }>(`/access-reviews/${open.campaign.id}`);
    const reviewers = new Set(launched.items.map((i) => i.reviewer));
    assert.ok(reviewers.size >= 2, 'entitlements across at least two reviewers');

    // The list: status, due date and progress.
    await page.goto(`${server.url}/w/acme`);
    await page.getByRole('link', { name: 'Access reviews', exact: true }).click();
    await page.getByRole('heading', { name: 'Access reviews: acme' }).waitFor();
    const row = page.locator('table.campaigns tbody tr', { hasText: open.campaign.name });
    assert.match((await row.textContent()) ?? '', new RegExp(`Open.*0 of ${open.items} decided`));
    await check('access-reviews');

    // The campaign: one section per reviewer, nothing to sign yet.
    await row.getByRole('link', { name: open.campaign.name }).click();
    await page.getByRole('heading', { level: 1, name: open.campaign.name }).waitFor();
    for (const reviewer of reviewers)
      await page.getByRole('heading', { level: 2, name: reviewer, exact: true }).waitFor();
    await page.getByText('Sign-off is possible once every entitlement is decided').waitFor();
    assert.equal(await page.getByRole('button', { name: /^Sign off/ }).count(), 0);
    await check('access-review-campaign');

    // The fallback reviewer hands their undecided items to the operations lead.
    const fallback = 'security@acme.example';
    const ops = 'ops@acme.example';
    assert.ok(reviewers.has(fallback));
    await page.getByLabel(`Hand ${fallback}’s undecided items to`).fill(ops);
    await page
      .getByRole('form', { name: `Delegate ${fallback}’s undecided items` })
      .getByRole('button', { name: 'Delegate' })
      .click();
    await page.getByRole('heading', { level: 2, name: ops, exact: true }).waitFor();
    assert.equal(await page.getByRole('heading', { level: 2, name: fallback, exact: true }).count(), 0);
    await page.getByText(`delegated by ${fallback}`).waitFor();

    // The contractor nobody declared in HR is revoked, the ownerless service account modified,
    // everything else kept; a decision without a justification is refused in the page.
    const revoked = launched.items.find((i) => i.account.startsWith('contractor.'));
    const modified = launched.items.find((i) => i.account === 'svc-backup');
    assert.ok(revoked && modified);
    const revokeWhy = 'Contractor engagement ended; no person in HR vouches for this account.';
    const chosen = new Map<string, { decision: string; justification: string }>();
    for (const item of launched.items) {
      chosen.set(
        item.id,
        item === revoked
          ? { decision: 'revoke', justification: revokeWhy }
          : item === modified
            ? { decision: 'modify', justification: 'Narrow to the backup bucket; name an owner.' }
            : { decision: 'keep', justification: `Still needed for ${item.account}'s work.` },
      );
    }
    const revokeRow = page.locator(`tr[data-item="${revoked.id}"]`);
    await revokeRow.getByRole('radio', { name: 'Revoke' }).check();
    await revokeRow.getByRole('button', { name: /^Save/ }).click();
    await revokeRow.getByRole('alert').getByText('Say why').waitFor();
    for (const item of launched.items) {
      const want = chosen.get(item.id)!;
      const tr = page.locator(`tr[data-item="${item.id}"]`);
      await tr.getByRole('radio', { name: want.decision, exact: false }).check();
      await tr.getByLabel(`Justification for ${item.account}`).fill(want.justification);
      await tr.getByRole('button', { name: `Save decision for ${item.account}` }).click();
      await page.locator(`tr[data-item="${item.id}"][data-decision="${want.decision}"]`).waitFor();
    }
    await page.getByText(`${open.items} of ${open.items} decided`).first().waitFor();

    // Sign-off, as the signed-in lead; afterwards nothing is editable and the report is offered.
    await page.getByRole('button', { name: `Sign off as ${lead.email}` }).click();
    await page.getByText('Signed off by').waitFor();
    assert.equal(await page.locator('h1 + .lead .badge').textContent(), 'Signed off');
    assert.equal(await page.getByRole('radio').count(), 0, 'decisions are final after sign-off');
    await check('access-review-signed-off');
    const [download] = await Promise.all([
      page.waitForEvent('download'),
      page.getByRole('link', { name: 'Download the report (CSV)' }).click(),
    ]);
    const csv = readFileSync(await download.path(), 'utf8');
    assert.match(csv, /^# /);
    const revokeLine = csv.split('\n').find((l) => l.includes(revoked.account)) ?? '';
    assert.match(revokeLine, /revoke/);
    assert.ok(revokeLine.includes(revokeWhy), 'the report carries the justification');

    // What the API holds: every decision as made, by the item's reviewer; the sign-off recorded.
    const signed = await getJson<{ campaign: Campaign; items: Item[] }>(
      `/access-reviews/${open.campaign.id}`,
    );
    assert.equal(signed.campaign.status, 'signed_off');
    assert.equal(signed.campaign.signedOffBy, lead.email);
    assert.ok(signed.campaign.signedOffAt);
    assert.match(signed.campaign.decisionsSha256 ?? '', /^[0-9a-f]{64}$/);
    for (const item of signed.items) {
      const want = chosen.get(item.id)!;
      assert.equal(item.decision, want.decision, item.account);
      assert.equal(item.justification, want.justification, item.account);
      assert.equal(item.decidedBy, item.reviewer, item.account);
      const before = launched.items.find((i) => i.id === item.id)!;
      if (before.reviewer === fallback) {
        assert.equal(item.reviewer, ops, item.account);
        assert.equal(item.delegatedFrom, fallback, item.account);
      } else assert.equal(item.reviewer, before.reviewer, item.account);
    }
    const revokedNow = signed.items.find((i) => i.id === revoked.id)!;
    assert.ok(revokedNow.taskId, 'a revocation becomes a tracked task');
    const { tasks } = await getJson<{ tasks: { id: string; status: string }[] }>(
      '/governance/tasks?kind=revoke_entitlement',
    );
    assert.equal(tasks.find((t) => t.id === revokedNow.taskId)?.status, 'open');
    // The sign-off evidence carries the decisions document; its hash is the campaign's.
    const evidence = await getJson<{
      item: { kind: string };
      content: {
        signer: string;
        decisionsSha256: string;
        campaign: string;
        snapshotSha256: string;
        decisions: unknown[];
      };
    }>(`/evidence/${signed.campaign.evidenceId}`);
    assert.equal(evidence.item.kind, 'access_review.sign_off');
    assert.equal(evidence.content.signer, lead.email);
    const { campaign, snapshotSha256, decisions } = evidence.content;
    assert.equal(
      sha256Hex(canonicalize({ campaign, snapshotSha256, decisions })),
      signed.campaign.decisionsSha256,
    );
    assert.equal(decisions.length, open.items);

    await page.getByRole('link', { name: 'All access reviews' }).click();
    const listed = page.locator('table.campaigns tbody tr', { hasText: open.campaign.name });
    await listed.getByText('Signed off').waitFor();
    assert.match((await listed.textContent()) ?? '', new RegExp(`${open.items} of ${open.items} decided`));
  });

  test('declare an audit period and export the auditor package', async () => {
    await page.goto(`${server.url}/w/acme/audit`);
    await page.getByLabel('Name').fill('FY2026 Type II');
    await page.getByRole('button', { name: 'Declare period' }).click();
    await page.getByRole('heading', { name: 'FY2026 Type II' }).waitFor();
    await page.getByText('Readiness score').waitFor();
    await check('audit');
    const [download] = await Promise.all([
      page.waitForEvent('download', { timeout: 120_000 }),
      page.getByRole('link', { name: 'Download the auditor package' }).click(),
    ]);
    const path = await download.path();
    const bytes = readFileSync(path);
    assert.equal(bytes.subarray(0, 2).toString('latin1'), 'PK', 'a zip file');
    assert.ok(bytes.length > 1000);
  });

  test('registers and settings: risks heat map, vendors, policies, incidents, training; an API token shown once', async () => {
    await page.goto(`${server.url}/w/acme/registers`);
    await page.getByRole('heading', { name: /^Risks/ }).waitFor();
    await page.locator('table.riskmap').waitFor();
    await check('registers');
    await page.getByRole('link', { name: 'Settings' }).click();
    await page.getByRole('heading', { name: 'API tokens' }).waitFor();
    await page.getByLabel('Name').fill('evidence upload');
    await page.getByRole('button', { name: 'Create token' }).click();
    assert.match((await page.getByRole('status').textContent()) ?? '', /assay_tk_/);
    await page.getByRole('button', { name: 'Revoke evidence upload' }).waitFor();
    await check('settings');
  });

  test("the auditor's read-only view of the period: readiness and the package, access reviews, no changes offered", async () => {
    const auditorContext = await browser.newContext({ viewport: { width: 1280, height: 900 } });
    const auditorPage = await auditorContext.newPage();
    try {
      await auditorPage.goto(`${server.url}/`);
      await auditorPage.getByLabel('Email').fill(auditor.email);
      await auditorPage.getByLabel('Password').fill(auditor.password);
      await auditorPage.getByRole('button', { name: 'Sign in', exact: true }).click();
      await auditorPage.getByRole('heading', { name: 'Dashboard: acme' }).waitFor();
      await auditorPage.getByRole('note').getByText('Read-only auditor access').waitFor();
      await auditorPage.getByRole('link', { name: 'Audit', exact: true }).click();
      await auditorPage.getByText('Readiness score').waitFor();
      assert.equal(await auditorPage.getByRole('button', { name: 'Declare period' }).isVisible(), false);
      await auditorPage.getByRole('link', { name: 'Download the auditor package' }).waitFor();
      await screenshot(auditorPage, 'auditor-audit');
      assert.deepEqual(
        await seriousViolations(auditorPage),
        [],
        'accessibility violations on the auditor view',
      );
      // Access reviews are readable, but launching one is not offered.
      await auditorPage.getByRole('link', { name: 'Access reviews', exact: true }).click();
      await auditorPage.getByRole('heading', { name: 'Access reviews: acme' }).waitFor();
      await auditorPage.locator('table.campaigns').waitFor();
      assert.equal(await auditorPage.getByRole('button', { name: 'Launch campaign' }).isVisible(), false);
    } finally {
      await auditorContext.close();
    }
  });
});
