// The console's browser UI (src/console/ui) in Debian's Chromium, driven by Playwright: the real
// cluster with the operator's controllers in this process and the examples protected, the console
// server in this process under a ServiceAccount with only the chart's RBAC, and tenant users as
// ServiceAccounts named in the Zorg acme. A failover test runs from the button to Running (the real
// controller does it) and is stopped; a Viewer's failover is refused; an Admin takes a tagged
// checkpoint and opens the move; a 390 px screen does not scroll sideways; the provider sees the
// provider view. Screenshots go to test-results/console-ui.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { mkdir } from 'node:fs/promises';
import { join } from 'node:path';
import { KubeConfig } from '@kubernetes/client-node';
import { chromium, type Browser, type Page } from 'playwright-core';
import { REPO_ROOT } from '../cluster/cluster.ts';
import { waitFor } from '../cluster/net.ts';
import { KubeClient, NAMESPACES, type CustomObject } from '../../src/runtime/index.ts';
import { VPGS, ZORGS } from '../../src/controllers/resources.ts';
import { startConsoleServer, type ConsoleServer } from '../../src/console/server.ts';
import { PROVIDER, startRecoveryEnv, type RecoveryEnv } from '../integration/support/recovery-env.ts';
import { USERS_NS, applyConsoleRbac, sa } from '../integration/support/console-rbac.ts';

const SHOTS = join(REPO_ROOT, 'test-results', 'console-ui');


describe('zcsp console in the browser', { timeout: 600_000 }, () => {
  let env: RecoveryEnv;
  let consoleClient: KubeClient;
  let server: ConsoleServer;
  let browser: Browser;
  let page: Page;
  const tokens = new Map<string, string>();
  const problems: string[] = [];
  const token = (name: string): string => tokens.get(name) ?? assert.fail(`no token for ${name}`);
  const shot = async (name: string): Promise<void> => {
    await page.screenshot({ path: join(SHOTS, `${name}.png`), fullPage: true });
  };
  // The page's code is given as text: this project's TypeScript has no DOM types.
  const focusedId = (): Promise<string> => page.evaluate<string>('document.activeElement?.id ?? ""');
  /** Presses Tab until the element with this id has the focus; false if it never does. */
  const tabTo = async (id: string, most = 30): Promise<boolean> => {
    for (let i = 0; i < most; i++) {
      await page.keyboard.press('Tab');
      if (await focusedId() === id) return true;
    }
    return false;
  };
  const signIn = async (name: string): Promise<void> => {
    await page.locator('#token').fill(token(name));
    await page.getByRole('button', { name: 'Sign in' }).click();
    await page.locator('#who').filter({ hasText: sa(name) }).waitFor();
  };
  const signOut = async (): Promise<void> => {
    await page.getByRole('button', { name: 'Sign out' }).click();
    await page.locator('#token').waitFor();
  };
  const fitsWidth = (): Promise<boolean> => page.evaluate<boolean>('document.documentElement.scrollWidth <= document.documentElement.clientWidth');

  before(async () => {
    await mkdir(SHOTS, { recursive: true });
    console.log(`screenshots: ${SHOTS}`);
    env = await startRecoveryEnv();
    const { cluster, admin } = env;
    await cluster.kubectl(['create', 'namespace', USERS_NS]);
    await applyConsoleRbac(cluster, PROVIDER);
    for (const name of ['olga', 'victor', 'ada', 'paula']) {
      await cluster.kubectl(['create', 'serviceaccount', name, '-n', USERS_NS]);
      tokens.set(name, (await cluster.kubectl(['create', 'token', name, '-n', USERS_NS, '--duration=1h'])).trim());
    }
    const current = cluster.kubeConfig.getCurrentCluster();
    assert.ok(current !== null);
    const kc = new KubeConfig();
    kc.loadFromOptions({
      clusters: [current], users: [{ name: 'zcsp-console', token: (await cluster.kubectl(['create', 'token', 'zcsp-console', '-n', PROVIDER, '--duration=1h'])).trim() }],
      contexts: [{ name: 'zcsp-console', cluster: current.name, user: 'zcsp-console' }], currentContext: 'zcsp-console',
    });
    consoleClient = new KubeClient(kc);

    // acme's members, plus an Operator, a Viewer and an Admin: the Zorg controller makes their RoleBindings.
    const acme = await admin.get(ZORGS, 'acme') as CustomObject & { spec: { members: unknown[] } };
    await admin.mergePatch(ZORGS, 'acme', undefined, {
      spec: { members: [...acme.spec.members, { kind: 'User', name: sa('olga'), role: 'Operator' }, { kind: 'User', name: sa('victor'), role: 'Viewer' }, { kind: 'User', name: sa('ada'), role: 'Admin' }] },
    });
    // Another tenant's VPG, which acme's users must not see.
    await admin.create(NAMESPACES, { metadata: { name: 'globex-prod' } });
    await admin.create(VPGS, {
      apiVersion: 'zcsp.io/v1alpha1', kind: 'VPG', metadata: { name: 'erp', namespace: 'globex-prod' },
      spec: { protectedSite: 'prod', recoverySite: 'dr', volumes: { claimNames: ['data'] }, recovery: { namespace: 'globex-dr', testNamespace: 'globex-test' } },
    });

    server = await startConsoleServer({ client: consoleClient, port: 0, host: '127.0.0.1', rpoIntervalMs: 1000 });
    const detail = async (name: string): Promise<{ status: number; permissions?: Record<string, boolean> }> => {
      const res = await fetch(`${server.url}/api/vpgs/acme-prod/web`, { headers: { authorization: `Bearer ${token(name)}` } });
      return { status: res.status, ...(await res.json() as { permissions?: Record<string, boolean> }) };
    };
    await waitFor(async () => (await detail('olga')).permissions?.test === true && (await detail('victor')).status === 200,
      { what: 'the RoleBindings of the new members', timeoutMs: 60_000, intervalMs: 300 });

    browser = await chromium.launch({ executablePath: '/usr/bin/chromium', args: ['--no-sandbox'] });
    page = await browser.newPage({ viewport: { width: 1280, height: 900 } });
    page.setDefaultTimeout(30_000);
    page.on('pageerror', (err) => problems.push(`page error: ${err.message}`));
    // A refused request is logged as "Failed to load resource"; those are expected. Anything else
    // (a script error, a CSP violation) is a problem.
    page.on('console', (msg) => {
      if (msg.type() === 'error' && !msg.text().startsWith('Failed to load resource')) problems.push(`console: ${msg.text()}`);
    });
  });

  after(async () => {
    await browser.close();
    await server.close();
    await consoleClient.close();
    await env.stop();
  });

  it('signs in with the keyboard as an acme Operator and lists only acme\'s VPGs', async () => {
    await page.goto(server.url);
    await page.locator('#token').waitFor();
    assert.ok(await tabTo('token', 5), 'the token field is reachable by Tab');
    await page.keyboard.insertText(token('olga'));
    await page.keyboard.press('Tab');
    assert.equal(await page.evaluate<string>('document.activeElement?.textContent ?? ""'), 'Sign in');
    await shot('01-sign-in');
    await page.keyboard.press('Enter');
    await page.getByRole('link', { name: 'web' }).waitFor();
    assert.match(await page.locator('#who').textContent() ?? '', /olga/);
    const rows = await page.locator('tbody tr').allTextContents();
    assert.ok(rows.some((r) => r.includes('web') && r.includes('acme-prod') && r.includes('MeetingSLA')), rows.join('\n'));
    assert.ok(!rows.some((r) => r.includes('globex') || r.includes('erp')), 'another tenant\'s VPG is not listed');
    assert.equal(await page.locator('#nav-provider').isVisible(), false, 'no provider view for a tenant');
    await shot('02-vpgs');
  });

  it('runs a failover test from its button, follows it live to Running, then stops it and shows the history', async () => {
    await page.getByRole('link', { name: 'web' }).click();
    await page.locator('#act-test:not([disabled])').waitFor();
    assert.equal(await page.locator('#act-failover').isDisabled(), true, 'an Operator may not fail over');
    assert.equal(await page.locator('#act-move').isDisabled(), true, 'an Operator may not move');
    assert.equal(await page.locator('#act-tag').isDisabled(), true, 'an Operator may not tag (it changes the VPG)');
    await page.locator('#chart svg').waitFor();
    assert.ok(await tabTo('act-test'), 'the failover test button is reachable by Tab');
    await page.keyboard.press('Enter');
    await page.locator('#confirm').waitFor({ state: 'visible' });
    assert.equal(await page.locator('#confirm-checkpoint').inputValue(), 'latest');
    await shot('03-confirm-test');
    await page.locator('#confirm-ok').click();
    await page.locator('#confirm').waitFor({ state: 'hidden' });
    await page.locator('#progress').getByText('FailoverTest: Running').waitFor({ timeout: 240_000 });
    assert.equal(await page.locator('#act-test').isDisabled(), true);
    await shot('04-test-running');

    await page.locator('#act-stop-test:not([disabled])').click();
    await page.locator('#confirm-ok').click();
    await page.locator('#history tbody tr').filter({ hasText: 'FailoverTest' }).waitFor({ timeout: 180_000 });
    await page.locator('#progress').getByText('No operation running.').waitFor();
    assert.match(await page.locator('#last-test').textContent() ?? '', /Result(Succeeded|Stopped)/);
    assert.equal((await env.vpg()).spec?.operation, undefined);
    await shot('05-test-stopped');
  });

  it('shows a Viewer the live failover refused: the button disabled, a forced request answered with the 403', async () => {
    await signOut();
    await signIn('victor');
    await page.getByRole('link', { name: 'web' }).click();
    await page.locator('#why').filter({ hasText: 'does not allow' }).waitFor();
    assert.equal(await page.locator('#act-failover').isDisabled(), true);
    assert.equal(await page.locator('#act-test').isDisabled(), true);
    assert.equal(await page.locator('#act-tag').isDisabled(), true);
    assert.match(await page.locator('#why').textContent() ?? '', /does not allow: .*failover.*move.*tag checkpoint/);
    await shot('06-viewer');
    // Enable and press it at once: the next live update disables it again.
    await page.evaluate('(() => { const b = document.getElementById("act-failover"); b.removeAttribute("disabled"); b.click(); })()');
    await page.locator('#confirm-policy').selectOption('manual');
    await shot('07-confirm-failover');
    await page.locator('#confirm-ok').click();
    const refusal = page.locator('#action-error [role=alert]');
    await refusal.waitFor();
    assert.match(await refusal.textContent() ?? '', /cannot patch resource "vpgs".*\(403 Forbidden\)/);
    assert.equal((await env.vpg()).spec?.operation, undefined, 'nothing changed');
    await shot('08-viewer-refused');
  });

  it('takes a tagged checkpoint from its button for an Admin, asking for the name first, and lists it once taken', async () => {
    await signOut();
    await signIn('ada');
    await page.getByRole('link', { name: 'web' }).click();
    await page.locator('#act-tag:not([disabled])').click();
    await page.locator('#confirm').waitFor({ state: 'visible' });
    assert.equal(await focusedId(), 'confirm-tag', 'the name field has the focus');
    // Without a name the dialog stays open (the field is required) and nothing is asked.
    await page.locator('#confirm-ok').click();
    assert.equal(await page.locator('#confirm').isVisible(), true, 'a tag without a name is not sent');
    // Cancel with the field empty closes it, still without a request.
    await page.getByRole('button', { name: 'Cancel' }).click();
    await page.locator('#confirm').waitFor({ state: 'hidden' });
    assert.equal((await env.vpg()).metadata?.annotations?.['zcsp.io/tag-checkpoint'], undefined, 'nothing was asked');
    await page.locator('#act-tag:not([disabled])').click();
    await page.locator('#confirm-tag').fill('before-upgrade');
    await shot('08a-confirm-tag');
    await page.locator('#confirm-ok').click();
    await page.locator('#confirm').waitFor({ state: 'hidden' });
    // The controller takes the checkpoint through the VRAs and lists it; the page follows live.
    await page.locator('#checkpoints tbody tr').filter({ hasText: 'before-upgrade' }).waitFor({ timeout: 120_000 });
    await page.locator('#act-tag:not([disabled])').waitFor();
    const tagged = (await env.vpg()).status?.checkpoints?.tagged ?? [];
    assert.ok(tagged.some((c) => c.tag === 'before-upgrade'), JSON.stringify(tagged));
    await shot('08b-tagged');
  });

  it('offers an Admin the planned move with a commit policy, and cancelling it changes nothing', async () => {
    await page.locator('#act-move:not([disabled])').click();
    await page.locator('#confirm').waitFor({ state: 'visible' });
    assert.match(await page.locator('#confirm-text').textContent() ?? '', /Planned move into acme-dr.*Nothing is lost/);
    assert.equal(await page.locator('#confirm-checkpoint').count(), 0, 'a move takes its own last checkpoint');
    assert.equal(await page.locator('#confirm-policy').inputValue(), 'manual');
    await shot('08c-confirm-move');
    await page.getByRole('button', { name: 'Cancel' }).click();
    await page.locator('#confirm').waitFor({ state: 'hidden' });
    assert.equal((await env.vpg()).spec?.operation, undefined, 'nothing changed');
  });

  it('starts protecting an assessment from its button for an Admin, the only operation an assessment offers', async () => {
    await env.admin.create(VPGS, {
      apiVersion: 'zcsp.io/v1alpha1', kind: 'VPG', metadata: { name: 'trial', namespace: 'acme-prod' },
      spec: { mode: 'Assess', protectedSite: 'prod', recoverySite: 'dr', volumes: { claimNames: ['trial-data'] }, recovery: { namespace: 'acme-dr', testNamespace: 'acme-test' } },
    });
    const mode = async (): Promise<unknown> => (await env.admin.get(VPGS, 'trial', 'acme-prod') as { spec: { mode?: string } }).spec.mode;
    try {
      assert.equal(await page.locator('#act-protect').isDisabled(), true, 'web protects already');
      await page.getByRole('link', { name: '← All VPGs' }).click();
      await page.getByRole('link', { name: 'trial' }).click();
      await page.locator('#act-protect:not([disabled])').waitFor();
      for (const other of ['test', 'failover', 'move', 'tag']) assert.equal(await page.locator(`#act-${other}`).isDisabled(), true, `an assessment offers no ${other}`);
      await page.locator('#act-protect').click();
      await page.locator('#confirm').waitFor({ state: 'visible' });
      assert.match(await page.locator('#confirm-text').textContent() ?? '', /Stop assessing and start replicating to dr.*cannot be resumed/);
      await shot('08d-confirm-protect');
      await page.locator('#confirm-ok').click();
      await page.locator('#confirm').waitFor({ state: 'hidden' });
      // Every button is disabled while a request is out: wait for the answer, then for the page.
      await page.locator('#announce', { hasText: 'Start protecting: accepted' }).waitFor({ state: 'attached' });
      assert.equal(await mode(), 'Protect');
      await page.locator('#act-protect[disabled]').waitFor();
    } finally {
      await env.admin.delete(VPGS, 'trial', 'acme-prod').catch(() => undefined);
    }
    await page.getByRole('link', { name: '← All VPGs' }).click();
    await page.getByRole('link', { name: 'web' }).click();
    await page.locator('#act-failover').waitFor();
  });

  it('shows what the VPG needs once its change rate is measured: journal, recovery site, failback, WAN', async () => {
    await waitFor(async () => (await env.vpg()).status?.sizing !== undefined, { what: 'web\'s status.sizing', timeoutMs: 240_000, intervalMs: 1000 });
    await page.reload();
    const capacity = page.locator('#capacity');
    await capacity.getByText('Journal').waitFor();
    const text = await capacity.textContent() ?? '';
    assert.match(text, /Measured\d+m \d+s/);
    assert.match(text, /Change[\d.]+ (kB|MB|GB)\/h \([\d.]+ % a day\)/);
    assert.match(text, /Journal[\d.]+ (B|kB|MB|GB) for 1d 0h of history, \d+ % of the [\d.]+ GB hard limit/);
    assert.match(text, /Failback[\d.]+ GB on prod/);
    assert.match(text, /WAN[\d.]+ (bit|kbit|Mbit)\/s on average/);
    // The example's hook has run by now: the summary says what it took.
    await waitFor(async () => (await env.vpg()).status?.appConsistent !== undefined, { what: 'web\'s status.appConsistent', timeoutMs: 120_000, intervalMs: 1000 });
    await page.reload();
    await page.locator('#summary').getByText('App-consistent', { exact: true }).waitFor();
    assert.match(await page.locator('#summary').textContent() ?? '', /App-consistentSucceeded, .*: checkpoint \d+ tagged "app-consistent"/);
    await shot('09-capacity');
  });

  it('fits a 390 px wide screen without scrolling sideways', async () => {
    await page.setViewportSize({ width: 390, height: 844 });
    await page.locator('#act-failover').waitFor();
    assert.ok(await fitsWidth(), 'the VPG detail fits');
    await shot('10-narrow-detail');
    await page.getByRole('link', { name: '← All VPGs' }).click();
    await page.getByRole('link', { name: 'web' }).waitFor();
    assert.ok(await fitsWidth(), 'the VPG list fits');
    await shot('11-narrow-list');
    await signOut();
    assert.ok(await fitsWidth(), 'the sign-in form fits');
    await page.setViewportSize({ width: 1280, height: 900 });
  });

  it('shows a provider the Zorgs, the Sites with their VRAs, the service profiles and the alerts', async () => {
    await signIn('paula');
    await page.getByRole('link', { name: 'Provider' }).click();
    await page.getByText('Sites and their VRAs').waitFor();
    const zorgs = await page.locator('section[aria-labelledby=zorgs-title] tbody tr').allTextContents();
    assert.ok(zorgs.some((z) => z.includes('acme') && z.includes('Ready')), zorgs.join('\n'));
    const sites = await page.locator('section[aria-labelledby=sites-title] tbody tr').allTextContents();
    assert.deepEqual(sites.map((s) => s.split(/Ready|Not ready/)[0]).sort(), ['dr', 'prod']);
    assert.ok(sites.every((s) => /(\d+) of \1 ready/.test(s)), sites.join('\n'));
    assert.ok(sites.some((s) => s.startsWith('dr') && /[\d.]+ GB of [\d.]+ GB$/.test(s)), `dr's capacity: the replicas and journals recovering there of its VRA volumes\n${sites.join('\n')}`);
    await page.locator('#profiles-title').waitFor();
    await page.locator('#alerts-title').waitFor();
    await shot('12-provider');
    await page.getByRole('link', { name: 'VPGs' }).click();
    // The list renders once its request answers: wait for it rather than read the page mid-way.
    await page.locator('tbody tr', { hasText: 'erp' }).first().waitFor({ timeout: 30_000 });
    const rows = await page.locator('tbody tr').allTextContents();
    assert.ok(rows.some((r) => r.includes('erp')) && rows.some((r) => r.includes('web')), `a provider sees every VPG:\n${rows.join('\n')}`);
    assert.deepEqual(problems, [], 'no script errors and no CSP violations');
  });
});
