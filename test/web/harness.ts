/**
 * Browser test harness: builds the web app if it is not built, seeds a fresh data directory with
 * `assay demo --small` and a compliance lead, runs `assay serve` on a random port, and drives
 * Debian's Chromium through playwright-core. Screenshots go to test-results/screenshots/.
 */
import { type ChildProcess, spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { type Browser, chromium, type Page } from 'playwright-core';

export const chromiumPath = '/usr/bin/chromium';
export const hasChromium = existsSync(chromiumPath);
const root = new URL('../../', import.meta.url).pathname;
export const screenshotDir = join(root, 'test-results', 'screenshots');
export const lead = { email: 'lead@bluepeak.example', password: 'correct-horse-battery-staple-9' };
export const auditor = { email: 'auditor@cpa.example', password: 'auditor-reads-only-2026!' };

function assay(dataDir: string, args: string[], input?: string): string {
  const result = spawnSync(process.execPath, [join(root, 'bin/assay.js'), '--data', dataDir, ...args], {
    input,
    encoding: 'utf8',
    env: { ...process.env, ASSAY_LOG_LEVEL: 'silent' },
  });
  if (result.status !== 0) throw new Error(`assay ${args.join(' ')} failed: ${result.stderr}`);
  return result.stdout;
}

/** Builds web/dist when it is missing (a fresh clone), so the suite needs no separate step. */
export function ensureWebAppBuilt(): void {
  if (existsSync(join(root, 'web/dist/index.html'))) return;
  const result = spawnSync(
    process.execPath,
    [join(root, 'node_modules/vite/bin/vite.js'), 'build', '--config', join(root, 'web/vite.config.ts')],
    { cwd: root, encoding: 'utf8' },
  );
  if (result.status !== 0) throw new Error(`building the web app failed: ${result.stderr}`);
}

export interface WebServer {
  url: string;
  dataDir: string;
  stop(): Promise<void>;
}

/**
 * A fresh data directory with the demo MSP and its clients, and the lead as a member of the MSP
 * reaching every client (an owner by default, who must enrol a second factor).
 */
export async function startDemoServer(options: { role?: string } = {}): Promise<WebServer> {
  const dataDir = mkdtempSync(join(tmpdir(), 'assay-web-'));
  assay(dataDir, ['demo', '--small']);
  assay(dataDir, ['user', 'create', lead.email, '--name', 'Lee Lead', '--password-stdin'], lead.password);
  assay(dataDir, [
    'member',
    'add',
    '--tenant',
    'bluepeak',
    lead.email,
    '--role',
    options.role ?? 'owner',
    '--clients',
    'acme,globex,initech',
  ]);
  // An external auditor of acme for the last 200 days, for 30 days: read-only, no second factor.
  const day = 86_400_000;
  const period = `${new Date(Date.now() - 200 * day).toISOString().slice(0, 10)}..${new Date().toISOString().slice(0, 10)}`;
  assay(
    dataDir,
    ['user', 'create', auditor.email, '--name', 'Avery Auditor', '--password-stdin'],
    auditor.password,
  );
  assay(dataDir, [
    'member',
    'add',
    '--tenant',
    'acme',
    auditor.email,
    '--role',
    'auditor',
    '--expires',
    '30d',
    '--period',
    period,
  ]);
  const child: ChildProcess = spawn(
    process.execPath,
    [join(root, 'bin/assay.js'), '--data', dataDir, '--json', 'serve', '--port', '0'],
    { stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, ASSAY_LOG_LEVEL: 'silent' } },
  );
  let stderr = '';
  child.stderr?.on('data', (chunk) => {
    stderr += chunk;
  });
  const url = await new Promise<string>((resolve, reject) => {
    let out = '';
    child.stdout?.on('data', (chunk) => {
      out += chunk;
      const line = out.split('\n').find((l) => l.startsWith('{'));
      if (line && out.includes('\n')) resolve((JSON.parse(line) as { url: string }).url);
    });
    child.once('exit', (code) => reject(new Error(`assay serve exited with ${code}: ${stderr}`)));
  });
  return {
    url,
    dataDir,
    async stop() {
      if (child.exitCode === null) {
        const exited = new Promise((resolve) => child.once('exit', resolve));
        child.kill('SIGTERM');
        await exited;
      }
      rmSync(dataDir, { recursive: true, force: true });
    },
  };
}

export async function launchBrowser(): Promise<Browser> {
  return chromium.launch({ executablePath: chromiumPath, headless: true, args: ['--no-sandbox'] });
}

export async function screenshot(page: Page, name: string): Promise<void> {
  mkdirSync(screenshotDir, { recursive: true });
  await page.screenshot({ path: join(screenshotDir, `${name}.png`), fullPage: true });
}

const axeSource = readFileSync(createRequire(import.meta.url).resolve('axe-core/axe.min.js'), 'utf8');

export interface AxeViolation {
  id: string;
  impact: string;
  help: string;
  nodes: string[];
}

/**
 * Serious and critical accessibility violations on the page (axe-core). The script is evaluated
 * through the DevTools protocol, which the page's Content-Security-Policy does not govern.
 */
export async function seriousViolations(page: Page): Promise<AxeViolation[]> {
  await page.evaluate(axeSource);
  return page.evaluate(`axe.run(document).then((r) => r.violations
    .filter((v) => v.impact === 'serious' || v.impact === 'critical')
    .map((v) => ({ id: v.id, impact: v.impact, help: v.help, nodes: v.nodes.slice(0, 5).map((n) => n.target.join(' ')) })))`);
}
