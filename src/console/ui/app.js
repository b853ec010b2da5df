// The console in the browser: sign-in, the tenant's VPGs and their detail (live over Server-Sent
// Events, with the operations the user may run), and the provider's view. Plain DOM, no framework:
// the server decides everything; this only shows it.
import { api, ApiError, vpgPath } from './api.js';
import { h, replace, duration, time, table, bytes, bits } from './dom.js';
import { rpoChart } from './chart.js';

const $ = (/** @type {string} */ id) => /** @type {HTMLElement} */ (document.getElementById(id));
const main = $('main');
const nav = $('nav');
const announcer = $('announce');
const dialog = /** @type {HTMLDialogElement} */ ($('confirm'));
const RPO_HOURS = 6;

/** @type {{ username: string, groups: string[], provider: boolean } | null} */
let me = null;
/** What to undo when the view changes (live streams, timers). @type {Array<() => void>} */
let cleanup = [];

const leave = () => {
  for (const undo of cleanup.splice(0)) undo();
};
const announce = (/** @type {string} */ text) => {
  announcer.textContent = text;
};
/** @param {unknown} err */
const messageOf = (err) => (err instanceof Error ? err.message : String(err));

/** A failure of a view: a lost session goes back to the sign-in; anything else is shown as the server said it. */
function failed(/** @type {unknown} */ err) {
  if (err instanceof ApiError && err.status === 401) {
    me = null;
    showSignIn('Your session has ended; sign in again.');
    return;
  }
  replace(main, h('h1', null, 'Something went wrong'), refusal(err));
}

/** The server's refusal, in its own words. @param {unknown} err */
function refusal(err) {
  const status = err instanceof ApiError && err.status > 0 ? ` (${err.status} ${err.code})` : '';
  return h('p.error', { role: 'alert' }, `Refused: ${messageOf(err)}${status}`);
}

// ---- sign-in and sign-out ----

/** @param {string} [message] @param {boolean} [isError] */
function showSignIn(message, isError = true) {
  leave();
  nav.hidden = true;
  const input = h('input', {
    id: 'token', name: 'token', type: 'password', autocomplete: 'off', spellcheck: 'false', required: true, 'aria-describedby': 'token-help',
  });
  const note = h(isError ? 'p.error' : 'p.notice', { id: 'sign-in-message', role: isError ? 'alert' : 'status' }, message ?? '');
  const submit = h('button.primary', { type: 'submit' }, 'Sign in');
  const form = h('form.card', { id: 'sign-in', 'aria-labelledby': 'sign-in-title' },
    h('h1', { id: 'sign-in-title' }, 'Sign in'),
    h('label', { for: 'token' }, 'Kubernetes token'),
    input,
    h('p.muted', { id: 'token-help' }, 'Any token your cluster accepts, e.g. from kubectl create token. The console keeps it in its memory only; your browser holds a session cookie.'),
    note, submit);
  form.addEventListener('submit', (ev) => {
    ev.preventDefault();
    const token = /** @type {HTMLInputElement} */ (input).value.trim();
    if (token === '') return;
    submit.setAttribute('disabled', '');
    note.className = 'notice';
    note.textContent = 'Signing in…';
    void (async () => {
      try {
        await api('POST', '/api/session', { token });
        /** @type {HTMLInputElement} */ (input).value = '';
        me = await api('GET', '/api/me');
        signedIn();
        if (location.hash === '' || location.hash === '#/') await route();
        else location.hash = '#/';
      } catch (err) {
        note.className = 'error';
        note.setAttribute('role', 'alert');
        note.textContent = err instanceof ApiError && err.status === 401 ? `Not signed in: ${err.message}.` : `Refused: ${messageOf(err)}`;
        submit.removeAttribute('disabled');
        input.focus();
      }
    })();
  });
  replace(main, form);
}

function signedIn() {
  if (me === null) return;
  nav.hidden = false;
  $('nav-provider').hidden = !me.provider;
  $('who').textContent = me.username;
  announce(`Signed in as ${me.username}`);
}

async function signOut() {
  leave(); // end the live stream first: the session's end would close it anyway
  try {
    await api('DELETE', '/api/session');
  } catch {
    // the session is gone either way
  }
  me = null;
  history.replaceState(null, '', location.pathname);
  showSignIn('Signed out.', false);
}

// ---- routing ----

async function route() {
  leave();
  if (me === null) {
    showSignIn();
    return;
  }
  const path = location.hash.replace(/^#/, '') || '/';
  const vpg = /^\/vpg\/([^/]+)\/([^/]+)$/.exec(path);
  replace(main, h('p.muted', null, 'Loading…'));
  try {
    if (vpg !== null) await showVpg(decodeURIComponent(vpg[1] ?? ''), decodeURIComponent(vpg[2] ?? ''));
    else if (path === '/provider') await showProvider();
    else await showVpgs();
  } catch (err) {
    failed(err);
  }
}

// ---- the tenant's VPGs ----

/** @param {string | undefined} phase */
function phaseBadge(phase) {
  const kind = phase === 'MeetingSLA' ? 'ok'
    : ['NotMeetingSLA', 'RpoNotMeetingSLA', 'HistoryNotMeetingSLA', 'Error', 'NeedsConfiguration'].includes(phase ?? '') ? 'bad'
      : ['Testing', 'FailingOver', 'Moving'].includes(phase ?? '') ? 'busy' : 'neutral';
  return h(`span.badge.${kind}`, null, phase ?? 'Unknown');
}

/** @param {any} vpg */
function operationText(vpg) {
  const op = vpg.status?.operation;
  if (op !== undefined) return `${op.type}: ${op.stage}${op.progressPercent !== undefined ? ` ${op.progressPercent}%` : ''}`;
  if (vpg.spec?.operation !== undefined) return `${vpg.spec.operation.type} requested`;
  return '—';
}

/** @param {any} journal */
const historyText = (journal) => (journal === undefined ? '—' : `${journal.actualHistory} of ${duration(journal.configuredHistorySeconds)}`);

async function showVpgs() {
  const list = await api('GET', '/api/vpgs');
  const rows = list.items.map((/** @type {any} */ v) => {
    const ns = v.metadata.namespace;
    const name = v.metadata.name;
    return [
      h('a', { href: `#/vpg/${encodeURIComponent(ns)}/${encodeURIComponent(name)}` }, name), ns, phaseBadge(v.status?.phase),
      v.status?.substatus ?? '—', duration(v.status?.rpoSeconds), historyText(v.status?.journal), v.status?.journal?.used ?? '—', operationText(v),
    ];
  });
  replace(main,
    h('h1', null, 'Virtual protection groups'),
    table(list.scope === 'cluster' ? 'All VPGs' : `VPGs in ${list.namespaces.join(', ') || 'your namespaces'}`,
      ['Name', 'Namespace', 'Phase', 'Substatus', 'RPO', 'History', 'Journal', 'Operation'], rows, 'no VPGs you may read.'),
    list.forbidden.length > 0 ? h('p.muted', null, `Not readable for you: ${list.forbidden.join(', ')}.`) : null);
}

// ---- one VPG ----

/**
 * @typedef {{ id: string, label: string, verb: string, danger?: boolean, text: (vpg: any) => string, checkpoint?: boolean, policy?: boolean, tag?: boolean }} ActionSpec
 * @type {ActionSpec[]}
 */
const ACTIONS = [
  { id: 'protect', label: 'Start protecting', verb: 'Start protecting',
    text: (v) => `Stop assessing and start replicating to ${v.spec?.recoverySite ?? 'the recovery site'}: an initial sync copies the volumes, then every checkpoint goes into the journal. An assessment cannot be resumed afterwards.` },
  { id: 'test', label: 'Failover test', verb: 'Start test', checkpoint: true,
    text: (v) => `Recover a checkpoint into ${v.spec?.recovery?.testNamespace ?? 'the test namespace'} while replication goes on. Nothing in production changes.` },
  { id: 'stop-test', label: 'Stop test', verb: 'Stop test',
    text: () => 'Stop the failover test: its workloads and volumes are deleted and the result goes into the history.' },
  { id: 'failover', label: 'Failover', verb: 'Fail over', danger: true, checkpoint: true, policy: true,
    text: (v) => `Live failover: recover into ${v.spec?.recovery?.namespace ?? 'the recovery namespace'}. If the protected site answers, its workloads are stopped first.` },
  { id: 'move', label: 'Move', verb: 'Move', danger: true, policy: true,
    text: (v) => `Planned move into ${v.spec?.recovery?.namespace ?? 'the recovery namespace'}: the protected workloads stop, a last checkpoint takes everything they wrote, and the VPG recovers from it. Nothing is lost.` },
  { id: 'commit', label: 'Commit', verb: 'Commit', danger: true,
    text: () => 'Keep the recovered workloads: they become production and this VPG stops replicating.' },
  { id: 'rollback', label: 'Rollback', verb: 'Roll back',
    text: () => 'Remove the recovered workloads and start the protected ones again; protection goes on as before.' },
  { id: 'tag', label: 'Tag checkpoint', verb: 'Take checkpoint', tag: true,
    text: () => 'Take a checkpoint now and give it a name (before an upgrade, say), to recover to this moment by its name later.' },
];

/** The annotation a tag request is while the controller takes the checkpoint (src/kubectl/vpg.ts). */
const TAG_ANNOTATION = 'zcsp.io/tag-checkpoint';
/** A tag is 1-128 characters (src/kubectl/choices.ts checks it; the browser stops longer ones first). */
const MAX_TAG = 128;

/**
 * The latest application-consistent checkpoint run (status.appConsistent): its result, when, and
 * what it says (the checkpoint taken, each hook that failed).
 * @param {any} a
 */
function appConsistentText(a) {
  if (a === undefined) return 'no run yet';
  return `${a.result}, ${time(a.startTime)}: ${a.message}`;
}

/** Whether the VPG's state lets the action run now (the permissions are the other half). @param {string} id @param {any} vpg */
function stateAllows(id, vpg) {
  const declared = vpg.spec?.operation;
  const stage = vpg.status?.operation?.stage;
  // An assessment has nothing to recover: it can only start protecting.
  const assessing = vpg.spec?.mode === 'Assess';
  switch (id) {
    case 'protect': return assessing;
    case 'test': return !assessing && declared === undefined && vpg.status?.failedOver === undefined;
    case 'stop-test': return declared?.type === 'FailoverTest';
    case 'failover':
    case 'move': return !assessing && declared === undefined && vpg.status?.failedOver === undefined;
    // One tag request at a time, while the VPG protects (not while it only assesses).
    case 'tag': return !assessing && vpg.status?.failedOver === undefined && vpg.metadata?.annotations?.[TAG_ANNOTATION] === undefined;
    default: return declared !== undefined && declared.type !== 'FailoverTest' && stage === 'BeforeCommit' && declared.decision === undefined;
  }
}

/** @param {string} ns @param {string} name */
async function showVpg(ns, name) {
  const detail = await api('GET', vpgPath(ns, name));
  /** @type {any} */
  let vpg = detail.vpg;
  /** @type {Record<string, boolean>} */
  let permissions = detail.permissions;
  const section = (/** @type {string} */ id, /** @type {string} */ title, wide = false) =>
    h(wide ? 'section.card.wide' : 'section.card', { 'aria-labelledby': `${id}-title` }, h('h2', { id: `${id}-title` }, title), h('div', { id }));
  const buttons = ACTIONS.map((a) => h(`button.${a.danger === true ? 'danger' : 'primary'}`, { type: 'button', id: `act-${a.id}`, 'aria-describedby': 'why' }, a.label));
  const why = h('p.muted', { id: 'why' });
  const actionError = h('div', { id: 'action-error' });
  replace(main,
    h('p', null, h('a', { href: '#/' }, '← All VPGs')),
    h('h1', null, name, ' ', h('span.muted', null, `in ${ns}`)),
    h('div.grid', null,
      section('summary', 'Protection'),
      h('section.card', { 'aria-labelledby': 'actions-title' },
        h('h2', { id: 'actions-title' }, 'Actions'), h('div.buttons', null, ...buttons), why, actionError,
        h('h3', null, 'Operation'), h('div', { id: 'progress', 'aria-live': 'polite' })),
      section('chart', `RPO, last ${RPO_HOURS} hours`),
      section('capacity', 'Capacity'),
      section('last-test', 'Last failover test'),
      section('history', 'History', true),
      section('checkpoints', 'Checkpoints', true),
      section('conditions', 'Conditions', true)));
  const el = (/** @type {string} */ id) => $(id);
  let progressKey = '';

  const update = () => {
    const st = vpg.status ?? {};
    replace(el('summary'), dl([
      ['Phase', phaseBadge(st.phase)], ['Substatus', st.substatus ?? '—'], ['RPO', duration(st.rpoSeconds)],
      ['History', historyText(st.journal)], ['Journal', st.journal?.used ?? '—'],
      ['Sites', `${vpg.spec?.protectedSite ?? '?'} → ${vpg.spec?.recoverySite ?? '?'}`], ['Service profile', vpg.spec?.serviceProfile ?? '—'],
      ['Volumes', (st.volumes ?? []).map((/** @type {any} */ v) => `${v.claimName}: ${v.state}${v.syncPercent !== undefined ? ` ${v.syncPercent}%` : ''}`).join(', ') || '—'],
      st.sync !== undefined ? ['Sync', `${st.sync.type} ${st.sync.progressPercent}%`] : null,
      vpg.spec?.hooks !== undefined || st.appConsistent !== undefined ? ['App-consistent', appConsistentText(st.appConsistent)] : null,
    ]));
    const progress = renderProgress(vpg);
    if (progress.key !== progressKey) {
      progressKey = progress.key;
      replace(el('progress'), ...progress.nodes);
    }
    const cp = st.checkpoints;
    const ref = (/** @type {any} */ c) => (c === undefined ? '—' : `${time(c.time)}${(c.tag ?? '') !== '' ? ` (${c.tag})` : ''}`);
    replace(el('checkpoints'),
      dl([['In the journal', cp?.count ?? 0], ['Latest', ref(cp?.latest)], ['Oldest', ref(cp?.oldest)]]),
      table('Tagged checkpoints', ['Tag', 'Taken', 'Id'], (cp?.tagged ?? []).map((/** @type {any} */ c) => [(c.tag ?? '') === '' ? '—' : c.tag, time(c.time), h('code', null, c.id)])));
    replace(el('conditions'), table('Conditions', ['Type', 'Status', 'Reason', 'Message', 'Since'],
      (st.conditions ?? []).map((/** @type {any} */ c) => [c.type, c.status, c.reason ?? '—', c.message ?? '—', time(c.lastTransitionTime)]), 'none yet.', true));
    replace(el('capacity'), ...capacity(vpg));
    const lt = st.lastTest;
    replace(el('last-test'), lt === undefined ? h('p.muted', null, 'No failover test yet.') : dl([
      ['Result', lt.result], ['Started', time(lt.startTime)], ['Ended', time(lt.endTime)], ['Checkpoint', ref(lt.checkpoint)], ['RTO', duration(lt.rtoSeconds)],
    ]));
    replace(el('history'), table('Finished operations, newest first', ['Type', 'Result', 'Started', 'Ended', 'RTO', 'Message'],
      (st.history ?? []).map((/** @type {any} */ x) => [x.type, x.result, time(x.startTime), time(x.endTime), duration(x.rtoSeconds), x.message ?? '—']), 'none yet.'));
    ACTIONS.forEach((a, i) => {
      const button = buttons[i];
      if (button === undefined) return;
      if (permissions[a.id] === true && stateAllows(a.id, vpg)) button.removeAttribute('disabled');
      else button.setAttribute('disabled', '');
    });
    const denied = ACTIONS.filter((a) => permissions[a.id] !== true).map((a) => a.label.toLowerCase());
    why.textContent = denied.length === 0 ? 'Your role allows every operation; each asks for confirmation.' : `Your role does not allow: ${denied.join(', ')}.`;
  };

  const refreshPermissions = async () => {
    try {
      permissions = (await api('GET', vpgPath(ns, name))).permissions;
      update();
    } catch {
      // the next change tries again
    }
  };

  ACTIONS.forEach((a, i) => buttons[i]?.addEventListener('click', () => void (async () => {
    const body = await confirmAction(a, vpg);
    if (body === undefined) return;
    replace(actionError);
    for (const b of buttons) b.setAttribute('disabled', '');
    announce(`${a.label}: sending`);
    try {
      const answer = await api('POST', `${vpgPath(ns, name)}/actions/${a.id}`, body);
      const typeBefore = vpg.spec?.operation?.type;
      vpg = answer.vpg;
      announce(`${a.label}: accepted`);
      if (vpg.spec?.operation?.type !== typeBefore) void refreshPermissions();
    } catch (err) {
      if (err instanceof ApiError && err.status === 401) {
        failed(err);
        return;
      }
      replace(actionError, refusal(err));
    }
    update();
  })()));

  update();

  const live = new EventSource(`/api/watch/vpgs/${encodeURIComponent(ns)}/${encodeURIComponent(name)}`);
  live.addEventListener('vpg', (ev) => {
    const next = JSON.parse(/** @type {MessageEvent} */ (ev).data);
    const typeChanged = next.spec?.operation?.type !== vpg.spec?.operation?.type;
    vpg = next;
    update();
    if (typeChanged) void refreshPermissions();
  });
  live.addEventListener('deleted', () => {
    live.close();
    replace(actionError, h('p.error', { role: 'alert' }, 'This VPG was deleted.'));
  });
  live.addEventListener('error', (ev) => {
    const data = /** @type {MessageEvent} */ (ev).data;
    if (typeof data === 'string' || live.readyState === EventSource.CLOSED) {
      live.close();
      replace(actionError, h('p.error', { role: 'alert' }, `Live updates stopped: ${typeof data === 'string' ? JSON.parse(data).message : 'the connection was refused'}. Reload to follow again.`));
    }
  });
  cleanup.push(() => live.close());

  const loadChart = async () => {
    try {
      const rpo = await api('GET', `${vpgPath(ns, name)}/rpo?hours=${RPO_HOURS}`);
      replace(el('chart'), rpoChart(rpo.samples, RPO_HOURS), h('p.muted', null, `A sample every ${rpo.intervalSeconds} s.`));
    } catch (err) {
      replace(el('chart'), h('p.muted', null, err instanceof ApiError && err.status === 404 ? 'No RPO samples yet.' : `No chart: ${messageOf(err)}`));
    }
  };
  await loadChart();
  const timer = setInterval(() => void loadChart(), 30_000);
  cleanup.push(() => clearInterval(timer));
}

/**
 * What the VPG needs, from the change rate its protected VRA measured (status.sizing): the same
 * figures as kubectl zcsp sizing. @param {any} vpg
 */
function capacity(vpg) {
  const sz = vpg.status?.sizing;
  if (sz === undefined) {
    return [h('p.muted', null, vpg.spec?.mode === 'Assess'
      ? 'Assessing: the figures come once the change rate has been measured for a minute.'
      : 'No change rate measured yet: the figures come a minute after the initial sync.')];
  }
  const j = sz.journal;
  const limit = j.hardLimitBytes === undefined ? 'no hard limit'
    : `${Math.round(j.percentOfHardLimit ?? 0)} % of the ${bytes(j.hardLimitBytes)} hard limit`;
  const journal = h(j.exceedsHardLimit ? 'span.badge.bad' : 'span', null,
    `${bytes(j.projectedBytes)} for ${duration(j.historyHours * 3600)} of history, ${limit}`
    + (j.exceedsHardLimit && j.historyHoursAtHardLimit !== undefined ? `: it holds ${duration(j.historyHoursAtHardLimit * 3600)}` : ''));
  return [
    dl([
      ['Measured', `${duration(sz.basis.measuredSeconds)}${sz.basis.source === 'Assessment' ? ' (assessment: nothing replicated)' : ''}`],
      ['Change', `${bytes(sz.change.averageBytesPerHour)}/h (${sz.change.dailyChangePercent.toFixed(1)} % a day); ${bytes(sz.change.averageCompressedBytesPerHour)}/h sent`],
      ['Journal', journal],
      ['Recovery site', `${bytes(sz.recoverySite.steadyBytes)}; ${bytes(sz.recoverySite.duringTestBytes)} during a failover test`],
      ['Failback', sz.reverseProtection === undefined ? '—' : `${bytes(sz.reverseProtection.totalBytes)} on ${vpg.spec?.protectedSite ?? 'the protected site'}`],
      ['WAN', `${bits(sz.wan.averageBitsPerSecond)} on average; ${bits(sz.wan.rpoBitsPerSecond)} holds the RPO`],
    ]),
    h('p.muted', null, 'Decimal units (1 TB = 10¹² bytes). kubectl zcsp sizing prints the whole report.'),
  ];
}

/** @param {Array<[string, unknown] | null>} pairs */
function dl(pairs) {
  const list = h('dl.pairs');
  for (const pair of pairs) {
    if (pair === null) continue;
    const [k, v] = pair;
    list.append(h('dt', null, k), h('dd', null, v instanceof Node ? v : String(v)));
  }
  return list;
}

/** What status.operation shows, and a key that changes only when it does. @param {any} vpg */
function renderProgress(vpg) {
  const op = vpg.status?.operation;
  const declared = vpg.spec?.operation;
  if (op === undefined) {
    const last = vpg.status?.history?.[0];
    const text = declared !== undefined ? `${declared.type} requested; waiting for the operator to start it.`
      : `No operation running.${last !== undefined ? ` The last: ${last.type}, ${last.result}, ended ${time(last.endTime)}.` : ''}`;
    return { key: text, nodes: [h('p', null, text)] };
  }
  const pct = op.progressPercent;
  const done = op.stage === 'Running' ? 'The test workloads run; stop the test to end it.'
    : op.stage === 'BeforeCommit' ? `The recovered workloads run; commit or roll back${op.commitDeadline !== undefined ? ` (the policy decides at ${time(op.commitDeadline)})` : ''}.` : '';
  const key = JSON.stringify([op.type, op.stage, op.message, pct, op.error, op.rtoSeconds, (op.steps ?? []).length, declared?.decision]);
  return {
    key,
    nodes: [
      h('p.stage', null, h('strong', null, `${op.type}: ${op.stage}`), op.message !== undefined ? ` — ${op.message}` : ''),
      pct !== undefined ? h('p', null, h('progress', { max: 100, value: pct, 'aria-label': `${op.stage} progress` }), ` ${pct}%`) : null,
      op.error !== undefined ? h('p.error', null, `Error: ${op.error}`) : null,
      done !== '' ? h('p.notice', null, done) : null,
      op.checkpoint !== undefined ? h('p.muted', null, `Checkpoint ${time(op.checkpoint.time)}${op.checkpoint.tag !== undefined ? ` (${op.checkpoint.tag})` : ''}`) : null,
      op.rtoSeconds !== undefined ? h('p.muted', null, `Recovery time: ${duration(op.rtoSeconds)}`) : null,
      (op.steps ?? []).length > 0 ? h('ol.steps', null, ...op.steps.map((/** @type {any} */ s) =>
        h('li', null, s.name, s.endTime !== undefined ? ` (${duration((Date.parse(s.endTime) - Date.parse(s.startTime)) / 1000)})` : ' …'))) : null,
    ],
  };
}

/**
 * Asks before an operation; for a test or failover also which checkpoint, for a failover the
 * commit policy. The request body, or undefined when cancelled.
 * @param {ActionSpec} action
 * @param {any} vpg
 * @returns {Promise<Record<string, unknown> | undefined>}
 */
async function confirmAction(action, vpg) {
  $('confirm-title').textContent = `${action.label}: ${vpg.metadata.namespace}/${vpg.metadata.name}`;
  $('confirm-text').textContent = action.text(vpg);
  const ok = $('confirm-ok');
  ok.textContent = action.verb;
  ok.className = action.danger === true ? 'danger' : 'primary';
  const fields = $('confirm-fields');
  replace(fields);
  /** @type {HTMLSelectElement | undefined} */
  let checkpoint;
  /** @type {HTMLSelectElement | undefined} */
  let policy;
  /** @type {HTMLInputElement | undefined} */
  let minutes;
  /** @type {HTMLInputElement | undefined} */
  let tag;
  if (action.tag === true) {
    tag = /** @type {HTMLInputElement} */ (h('input', { id: 'confirm-tag', type: 'text', required: true, maxlength: MAX_TAG, autocomplete: 'off', spellcheck: 'false' }));
    fields.append(h('p.field', null, h('label', { for: 'confirm-tag' }, 'Name'), tag));
  }
  if (action.checkpoint === true) {
    const tagged = vpg.status?.checkpoints?.tagged ?? [];
    checkpoint = /** @type {HTMLSelectElement} */ (h('select', { id: 'confirm-checkpoint' },
      h('option', { value: 'latest' }, 'Latest checkpoint'),
      tagged.length > 0 ? h('option', { value: 'latest-tagged' }, 'Latest tagged checkpoint') : null,
      ...tagged.map((/** @type {any} */ c) => h('option', { value: c.id }, `${c.tag ?? c.id} — ${time(c.time)}`))));
    fields.append(h('p.field', null, h('label', { for: 'confirm-checkpoint' }, 'Checkpoint'), checkpoint));
  }
  if (action.policy === true) {
    policy = /** @type {HTMLSelectElement} */ (h('select', { id: 'confirm-policy' },
      h('option', { value: 'manual' }, 'Manual: wait for commit or rollback'),
      h('option', { value: 'auto-commit' }, 'Commit automatically after'),
      h('option', { value: 'auto-rollback' }, 'Roll back automatically after')));
    minutes = /** @type {HTMLInputElement} */ (h('input', { id: 'confirm-minutes', type: 'number', min: 0, max: 1440, value: 10, inputmode: 'numeric' }));
    fields.append(h('p.field', null, h('label', { for: 'confirm-policy' }, 'Commit policy'), policy),
      h('p.field', null, h('label', { for: 'confirm-minutes' }, 'Minutes (automatic policies)'), minutes));
  }
  dialog.returnValue = '';
  dialog.showModal();
  tag?.focus();
  await new Promise((resolve) => dialog.addEventListener('close', resolve, { once: true }));
  if (dialog.returnValue !== 'ok') return undefined;
  /** @type {Record<string, unknown>} */
  const body = {};
  if (checkpoint !== undefined) body['checkpoint'] = checkpoint.value;
  if (tag !== undefined) body['tag'] = tag.value;
  if (policy !== undefined && minutes !== undefined) {
    body['commitPolicy'] = policy.value === 'manual' ? 'manual' : `${policy.value}:${Math.max(0, Math.min(1440, Math.round(Number(minutes.value) || 0)))}`;
  }
  return body;
}

// ---- the provider's view ----

async function showProvider() {
  const sum = await api('GET', '/api/provider/summary');
  const yes = (/** @type {boolean} */ ok, /** @type {string} */ good, /** @type {string} */ bad) => h(`span.badge.${ok ? 'ok' : 'bad'}`, null, ok ? good : bad);
  /** A profile's spec as "path: value" lines, nested objects flattened. @param {unknown} value @param {string} [path] @returns {string[]} */
  const flatten = (value, path = '') => (typeof value === 'object' && value !== null && !Array.isArray(value)
    ? Object.entries(value).flatMap(([k, v]) => flatten(v, path === '' ? k : `${path}.${k}`))
    : [`${path}: ${Array.isArray(value) ? value.join(', ') : String(value)}`]);
  const settings = (/** @type {any} */ spec) => {
    const { description, ...rest } = spec ?? {};
    return h('div', null, description !== undefined ? h('p.stage', null, String(description)) : null,
      h('ul.settings', null, ...flatten(rest).map((line) => h('li', null, line))));
  };
  replace(main,
    h('h1', null, 'Provider'),
    h('section.card', { 'aria-labelledby': 'alerts-title' }, h('h2', { id: 'alerts-title' }, `Alerts (${sum.alerts.length})`),
      sum.alerts.length === 0 ? h('p.muted', null, 'No alerts.') : h('ul.alerts', null, ...sum.alerts.map((/** @type {any} */ a) =>
        h('li', null, h('span.badge.bad', null, a.kind), ' ', h('strong', null, `${a.namespace}/${a.name}`), ` ${a.phase ?? ''} ${a.reason ?? ''}${a.message !== undefined ? ` — ${a.message}` : ''}`)))),
    h('section.card', { 'aria-labelledby': 'zorgs-title' }, h('h2', { id: 'zorgs-title' }, 'Zorgs'),
      table(`Zorgs (${sum.zorgs.length}), ${sum.vpgCount} VPGs in all`, ['Name', 'Display name', 'Ready', 'VPGs', 'Protected', 'Recovery site needs', 'WAN', 'Namespaces'],
        sum.zorgs.map((/** @type {any} */ z) => [z.name, z.displayName ?? '—', yes(z.ready, 'Ready', 'Not ready'),
          `${z.vpgCount}${z.maxVPGs !== undefined ? ` of ${z.maxVPGs}` : ''}`, `${z.protectedSize ?? '0'}${z.maxProtectedSize !== undefined ? ` of ${z.maxProtectedSize}` : ''}`,
          z.sizing === undefined ? '—' : bytes(z.sizing.recoverySiteSteadyBytes), z.sizing === undefined ? '—' : bits(z.sizing.wan.averageBitsPerSecond),
          z.namespaces.join(', ')]))),
    h('section.card', { 'aria-labelledby': 'sites-title' }, h('h2', { id: 'sites-title' }, 'Sites'),
      table('Sites and their VRAs', ['Name', 'Ready', 'Nodes', 'VRAs', 'Capacity'],
        sum.sites.map((/** @type {any} */ s) => [s.name, yes(s.ready, 'Ready', s.message ?? 'Not ready'), s.nodeCount ?? '—',
          yes(s.vras.desired > 0 && s.vras.ready === s.vras.desired, `${s.vras.ready} of ${s.vras.desired} ready`, `${s.vras.ready} of ${s.vras.desired} ready`),
          s.sizing === undefined || s.sizing.vraCapacityBytes === undefined ? '—'
            : yes(s.capacity?.status !== 'False', `${bytes(s.sizing.asRecoverySite.recoverySiteSteadyBytes)} of ${bytes(s.sizing.vraCapacityBytes)}`,
              `${bytes(s.sizing.asRecoverySite.recoverySiteSteadyBytes)} of ${bytes(s.sizing.vraCapacityBytes)}: over`)]))),
    h('section.card', { 'aria-labelledby': 'profiles-title' }, h('h2', { id: 'profiles-title' }, 'Service profiles'),
      table('Service profiles', ['Name', 'Settings'], sum.serviceProfiles.map((/** @type {any} */ p) => [p.name, settings(p.spec)]), 'none.', true)));
}

// ---- start ----

$('sign-out').addEventListener('click', () => void signOut());
window.addEventListener('hashchange', () => void route());
try {
  me = await api('GET', '/api/me');
  signedIn();
  await route();
} catch (err) {
  if (err instanceof ApiError && err.status === 401) showSignIn();
  else failed(err);
}
