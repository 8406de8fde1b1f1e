// taskemu dashboard: reads the control API (/_emu/...) once a second, and right after every
// action, and draws the clock, the tasks, the request journal and the fault rules. Plain DOM, no
// framework and no build step. Every text from the server goes into the page through
// textContent or an attribute, never as HTML.
'use strict';

(function () {
  const POLL_MS = 1000;
  const OFFLINE_RETRY_MS = 2500;
  const HIDDEN_POLL_MS = 5000;
  const FETCH_TIMEOUT_MS = 5000;
  const TASKS_PER_PRODUCT = 200; // rows per product; the group header says how many there are in all
  const JOURNAL_ROWS = 50;
  const CHANGED_MS = 3000; // how long a row whose status changed stays marked

  // How the dashboard titles each product; the products themselves (GET /_emu/tasks?product=),
  // which operation lists each one's tasks and in which cloud come from GET /_emu/operations.
  const PRODUCT_TITLES = { ecs: 'ECS', sas: 'Security Center', avds: 'AVDS', hss_image: 'HSS image scans', hss_task: 'HSS tasks' };
  let PRODUCTS = [];
  const CLOUD_TITLES = { alibaba: 'Alibaba Cloud', huawei: 'Huawei Cloud' };

  const ERROR_CODES = {
    alibaba: ['ServiceUnavailable', 'Throttling', 'ServerError', 'InternalError', 'NoPermission', 'Forbidden.RAM', 'InvalidParameter'],
    huawei: ['HSS.0041', 'APIGW.0308', 'HSS.0013', 'HSS.0010', 'HSS.0011', 'APIGW.0301', 'HSS.1001'],
  };

  // What a status means for its colour, whatever the product calls it.
  const STATUS_KIND = {
    waiting: 'pending', init: 'pending', ready: 'pending',
    processing: 'active', running: 'active', scanning: 'active',
    paused: 'paused',
    finished: 'ok', success: 'ok',
    failed: 'bad', timeout: 'bad', aborted: 'bad',
    deleted: 'cancelled', terminated: 'cancelled',
  };

  const state = {
    clock: null, // {now_ms, rate, paused}
    clockSeenAt: 0, // performance.now() when `clock` arrived
    operations: [], // the catalogue: [{name, cloud, product, wire, xml_root, paging, tasks}]
    tasks: {}, // product -> {total, tasks}
    tasksNow: null,
    journal: [],
    // Journal entries whose signature diagnosis the user opened, by seq.
    openDiagnoses: new Set(),
    faults: [],
    health: null,
    online: null,
    lastStatus: new Map(), // product/id -> status, to mark rows that changed
    changedAt: new Map(), // product/id -> performance.now() of its last status change
    lastSeq: 0,
    tenants: new Set(),
    timer: null,
    inFlight: false,
    polls: 0,
    again: false,
  };

  const $ = (id) => document.getElementById(id);

  // --- the control token --------------------------------------------------------------------------

  // When the server requires a token it prints this page's address with `#token=...`. The token is
  // kept for this tab in sessionStorage and taken out of the address bar, so that it ends up in
  // neither a screenshot nor a shared link; every call sends it as `Authorization: Bearer`.
  const TOKEN_KEY = 'taskemu-control-token';

  function storeToken(token) {
    try {
      if (token) sessionStorage.setItem(TOKEN_KEY, token);
      else sessionStorage.removeItem(TOKEN_KEY);
    } catch (e) {
      // Storage switched off: the token lives as long as the page.
    }
    return token;
  }

  function tokenFromAddress() {
    const match = /(?:^#|&)token=([^&]*)/.exec(window.location.hash);
    if (!match) return null;
    let token = match[1];
    try {
      token = decodeURIComponent(token);
    } catch (e) {
      // Not percent-encoded after all: take it as written.
    }
    history.replaceState(null, '', window.location.pathname + window.location.search);
    return storeToken(token.trim());
  }

  function storedToken() {
    try {
      return sessionStorage.getItem(TOKEN_KEY) || '';
    } catch (e) {
      return '';
    }
  }

  let controlToken = tokenFromAddress() ?? storedToken();

  // --- DOM helpers: text always through textContent --------------------------------------------

  function el(tag, props, ...children) {
    const node = document.createElement(tag);
    if (props) {
      for (const [key, value] of Object.entries(props)) {
        if (value === undefined || value === null || value === false) continue;
        if (key === 'class') node.className = value;
        else if (key === 'text') node.textContent = String(value);
        else if (key === 'style') node.setAttribute('style', value);
        else if (key.startsWith('on')) node.addEventListener(key.slice(2), value);
        else if (key === 'dataset') Object.assign(node.dataset, value);
        else node.setAttribute(key, value === true ? '' : String(value));
      }
    }
    for (const child of children.flat()) {
      if (child === null || child === undefined || child === false) continue;
      node.appendChild(child instanceof Node ? child : document.createTextNode(String(child)));
    }
    return node;
  }

  function setText(id, text) {
    const node = $(id);
    if (node && node.textContent !== text) node.textContent = text;
  }

  // --- formatting -----------------------------------------------------------------------------

  function pad(n, width = 2) {
    return String(n).padStart(width, '0');
  }

  function isoParts(ms) {
    const d = new Date(ms);
    if (Number.isNaN(d.getTime())) return { date: '—', time: '—' };
    return {
      date: `${d.getUTCFullYear()}-${pad(d.getUTCMonth() + 1)}-${pad(d.getUTCDate())}`,
      time: `${pad(d.getUTCHours())}:${pad(d.getUTCMinutes())}:${pad(d.getUTCSeconds())}`,
    };
  }

  // A virtual instant: the time alone when it is the same day as the clock, else date and time.
  function virtualTime(ms, nowMs) {
    const p = isoParts(ms);
    const today = nowMs === undefined ? null : isoParts(nowMs).date;
    return today === p.date ? p.time : `${p.date} ${p.time}`;
  }

  function span(ms) {
    const abs = Math.abs(ms);
    if (abs < 1000) return `${Math.round(abs)}ms`;
    const s = Math.floor(abs / 1000);
    if (s < 60) return `${s}s`;
    const m = Math.floor(s / 60);
    if (m < 60) return s % 60 && m < 10 ? `${m}m${s % 60}s` : `${m}m`;
    const h = Math.floor(m / 60);
    if (h < 48) return m % 60 ? `${h}h${m % 60}m` : `${h}h`;
    const d = Math.floor(h / 24);
    return h % 24 ? `${d}d${h % 24}h` : `${d}d`;
  }

  function relative(ms, nowMs) {
    if (nowMs === undefined || nowMs === null) return '';
    const diff = nowMs - ms;
    if (Math.abs(diff) < 1000) return 'now';
    return diff > 0 ? `${span(diff)} ago` : `in ${span(diff)}`;
  }

  function latency(us) {
    if (typeof us !== 'number') return '—';
    if (us < 1000) return `${us} µs`;
    if (us < 10_000_000) return `${(us / 1000).toFixed(us < 100_000 ? 1 : 0)} ms`;
    return `${(us / 1_000_000).toFixed(1)} s`;
  }

  function wallTime(text) {
    const d = new Date(text);
    if (Number.isNaN(d.getTime())) return String(text || '');
    return `${pad(d.getHours())}:${pad(d.getMinutes())}:${pad(d.getSeconds())}.${pad(d.getMilliseconds(), 3)}`;
  }

  function shortTenant(tenant) {
    if (tenant === null || tenant === undefined || tenant === '') return 'shared';
    return tenant.length > 14 ? `${tenant.slice(0, 6)}…${tenant.slice(-4)}` : tenant;
  }

  function statusKind(status) {
    return STATUS_KIND[String(status).toLowerCase()] || 'pending';
  }

  function percent(fraction) {
    const p = Math.max(0, Math.min(1, Number(fraction) || 0)) * 100;
    return p === 0 || p === 100 ? `${p}%` : `${p.toFixed(p < 10 ? 1 : 0)}%`;
  }

  // --- talking to the server --------------------------------------------------------------------

  class HttpError extends Error {
    constructor(status, message) {
      super(message);
      this.status = status;
    }
  }

  async function api(method, path, body) {
    const controller = new AbortController();
    const timer = setTimeout(() => controller.abort(), FETCH_TIMEOUT_MS);
    let response;
    try {
      const headers = {};
      // Every change declares JSON: the server refuses the types a cross-site form could send.
      if (method !== 'GET') headers['Content-Type'] = 'application/json';
      if (controlToken) headers.Authorization = `Bearer ${controlToken}`;
      response = await fetch(path, {
        method,
        cache: 'no-store',
        headers,
        body: body === undefined ? undefined : JSON.stringify(body),
        signal: controller.signal,
      });
    } catch (e) {
      throw new Error(e && e.name === 'AbortError' ? 'no answer within 5 s' : 'connection refused or lost');
    } finally {
      clearTimeout(timer);
    }
    let data = null;
    try {
      data = await response.json();
    } catch (e) {
      data = null;
    }
    if (!response.ok) {
      const message = data && data.error ? data.error : `HTTP ${response.status}`;
      throw new HttpError(response.status, message);
    }
    return data;
  }

  async function poll() {
    if (state.inFlight) {
      state.again = true;
      return;
    }
    state.inFlight = true;
    clearTimeout(state.timer);
    let delay = document.hidden ? HIDDEN_POLL_MS : POLL_MS;
    try {
      // Health (scenario name, task count) changes rarely: read it every 10th time.
      const needHealth = !state.health || !state.online || state.polls % 10 === 0;
      state.polls += 1;
      // The catalogue first, once: it says which products there are to list.
      if (state.operations.length === 0) setOperations(await api('GET', '/_emu/operations'));
      const [clock, journal, faults, health, ...tasks] = await Promise.all([
        api('GET', '/_emu/clock'),
        api('GET', `/_emu/requests?limit=${JOURNAL_ROWS}`),
        api('GET', '/_emu/faults'),
        needHealth ? api('GET', '/_emu/health') : Promise.resolve(state.health),
        ...PRODUCTS.map((p) => api('GET', `/_emu/tasks?product=${p.key}&limit=${TASKS_PER_PRODUCT}`)),
      ]);
      state.clock = clock;
      state.clockSeenAt = performance.now();
      state.journal = (journal && journal.requests) || [];
      state.faults = (faults && faults.faults) || [];
      state.health = health;
      state.tasks = {};
      PRODUCTS.forEach((p, i) => {
        state.tasks[p.key] = tasks[i];
      });
      state.tasksNow = tasks[0] && tasks[0].now ? Date.parse(tasks[0].now) : clock.now_ms;
      setOnline(true);
    } catch (e) {
      if (e.status === 401) needToken(e.message);
      else setOnline(false, e.message);
      delay = OFFLINE_RETRY_MS;
    }
    try {
      if (state.online) render();
    } catch (e) {
      // A drawing bug is not the server's absence: say it where developers look, keep polling.
      console.error('taskemu dashboard: rendering failed', e);
    } finally {
      state.inFlight = false;
      if (state.again) {
        state.again = false;
        delay = 0;
      }
      state.timer = setTimeout(poll, delay);
    }
  }

  // The catalogue arrives once: it names each product's operation and fills the fault form's list.
  function setOperations(catalogue) {
    const operations = catalogue.operations || [];
    state.operations = operations;
    PRODUCTS = (catalogue.products || []).map((key) => ({ key, title: PRODUCT_TITLES[key] || key }));
    const select = $('fault-operation');
    for (const op of operations) {
      if (![...select.options].some((o) => o.value === op.name)) select.appendChild(el('option', { value: op.name, text: op.name }));
    }
  }

  // The operation that lists a product's tasks, or a stand-in until the catalogue is read.
  function operationOf(product) {
    return state.operations.find((op) => op.tasks === product.key) || { name: '', cloud: '', wire: {} };
  }

  // After an action: show what it did at once.
  function refresh() {
    clearTimeout(state.timer);
    poll();
  }

  // The server answers but wants the token (none sent, or not its own): say how to give it.
  function needToken(reason) {
    $('offline-banner').hidden = true;
    $('token-banner').hidden = false;
    setText('token-reason', controlToken ? '(the token this page has was refused)' : '');
    if (reason) $('token-banner').title = reason;
    const conn = $('conn-state');
    conn.dataset.state = 'locked';
    conn.textContent = 'token needed';
    document.body.classList.add('offline');
    state.online = false;
    state.health = null;
  }

  function setOnline(online, reason) {
    const banner = $('offline-banner');
    const conn = $('conn-state');
    $('token-banner').hidden = true;
    if (online) {
      banner.hidden = true;
      conn.dataset.state = 'live';
      conn.textContent = 'live';
      setText('last-update', `updated ${new Date().toLocaleTimeString()}`);
    } else {
      banner.hidden = false;
      setText('offline-reason', reason ? `(${reason})` : '');
      conn.dataset.state = 'offline';
      conn.textContent = 'offline';
      // A server that comes back may be another one: read its health again, start the journal afresh.
      state.health = null;
      state.lastSeq = 0;
    }
    document.body.classList.toggle('offline', !online);
    state.online = online;
  }

  // --- rendering --------------------------------------------------------------------------------

  function render() {
    renderHeader();
    renderClock();
    renderTasks();
    renderJournal();
    renderFaults();
  }

  function renderHeader() {
    const h = state.health || {};
    setText('scenario-name', h.scenario || 'taskemu');
    const auth = h.auth ? 'auth on' : 'auth off';
    setText('scenario-meta', `${h.counts ? countsText(h.counts) : '?'} · ${auth}`);
    setText('footer-version', `taskemu ${h.version || ''}`);
    document.title = `taskemu · ${h.scenario || 'dashboard'}`;
  }

  // Counts as every view words them (health's and the listing's `counts`): tasks, then AVDS
  // scans and their sessions when there are any.
  function countsText(c) {
    const tasks = `${c.tasks} task(s)`;
    return c.scans + c.sessions === 0 ? tasks : `${tasks}, ${c.scans} AVDS scan(s) with ${c.sessions} session(s)`;
  }

  function currentVirtualMs() {
    const c = state.clock;
    if (!c) return null;
    if (c.paused || !c.rate || !state.online) return c.now_ms;
    return c.now_ms + (performance.now() - state.clockSeenAt) * c.rate;
  }

  function renderClock() {
    const c = state.clock;
    if (!c) return;
    tickClock();
    const pill = $('clock-state');
    let mode;
    if (c.paused) mode = 'paused';
    else if (!c.rate) mode = 'frozen';
    else mode = 'running';
    pill.dataset.mode = mode;
    setText('clock-state', mode);
    const rateText = c.rate === 1 ? 'real time (1×)' : c.rate ? `${formatRate(c.rate)}× · 1 real second = ${span(c.rate * 1000)}` : 'rate 0: time moves only when you advance it';
    setText('clock-rate-text', rateText);
    const toggle = $('clock-toggle');
    toggle.textContent = c.paused ? 'Resume' : 'Pause';
    toggle.dataset.paused = String(Boolean(c.paused));
    const rateInput = $('rate-input');
    if (document.activeElement !== rateInput) rateInput.value = String(c.rate);
    document.querySelectorAll('[data-rate]').forEach((b) => {
      b.classList.toggle('selected', Number(b.dataset.rate) === Number(c.rate));
    });
  }

  function formatRate(rate) {
    return Number.isInteger(rate) ? String(rate) : rate.toFixed(2).replace(/\.?0+$/, '');
  }

  function tickClock() {
    const ms = currentVirtualMs();
    if (ms === null) return;
    const p = isoParts(ms);
    setText('clock-date', p.date);
    setText('clock-now', p.time);
  }

  function taskMatches(task, text, tenant, openOnly) {
    if (openOnly && task.terminal) return false;
    if (tenant !== '' && (task.tenant === null ? '' : task.tenant) !== (tenant === '(shared)' ? '' : tenant)) return false;
    if (!text) return true;
    const hay = [task.id, task.status, task.name, task.action, task.resource_id, task.region, task.task_type, task.scan_id, task.tenant, ...(task.targets || [])]
      .filter((v) => v !== null && v !== undefined)
      .join(' ')
      .toLowerCase();
    return hay.includes(text);
  }

  function renderTasks() {
    const table = $('task-table');
    const text = $('filter-text').value.trim().toLowerCase();
    const tenant = $('filter-tenant').value;
    const openOnly = $('filter-open').checked;
    const nowMs = state.tasksNow;
    const seen = new Map();
    const counts = {};
    let shown = 0;
    let all = 0;

    for (const product of PRODUCTS) {
      const data = state.tasks[product.key] || { total: 0, tasks: [] };
      const list = data.tasks || [];
      all += list.length;
      for (const t of list) state.tenants.add(t.tenant === null ? '(shared)' : t.tenant);
      const visible = list.filter((t) => taskMatches(t, text, tenant, openOnly));
      const body = el('tbody', { id: `tasks-${product.key}`, 'data-product': product.key, 'data-testid': `tasks-${product.key}` });
      if (data.total > 0) {
        body.appendChild(groupRow(product, data, visible.length, list));
      }
      for (const t of visible) {
        const key = `${product.key}/${t.id}`;
        seen.set(key, t.status);
        const before = state.lastStatus.get(key);
        if (before !== undefined && before !== t.status) state.changedAt.set(key, performance.now());
        const changed = performance.now() - (state.changedAt.get(key) || -1e9) < CHANGED_MS;
        body.appendChild(taskRow(product, t, nowMs, changed));
        counts[statusKind(t.status)] = (counts[statusKind(t.status)] || 0) + 1;
      }
      shown += visible.length;
      const old = $(`tasks-${product.key}`);
      if (old) old.replaceWith(body);
      else table.appendChild(body);
    }
    // Keep the statuses of rows hidden by a filter, so that clearing it does not flash them all.
    for (const [key, value] of seen) state.lastStatus.set(key, value);

    $('tasks-empty').hidden = all > 0;
    renderSummary(counts, shown, all);
    renderTenantOptions();
  }

  // AVDS lists sessions of scans: its group says both, under those names.
  function groupCount(product, data) {
    if (product.key === 'avds' && data.counts) {
      return `${data.total} session${data.total === 1 ? '' : 's'} of ${data.counts.scans} scan${data.counts.scans === 1 ? '' : 's'}`;
    }
    return `${data.total} task${data.total === 1 ? '' : 's'}`;
  }

  function groupRow(product, data, visibleCount, list) {
    const more = data.total > list.length ? ` (first ${list.length} of ${data.total})` : '';
    const filtered = visibleCount !== list.length ? ` · ${visibleCount} shown` : '';
    return el(
      'tr',
      { class: 'group', 'data-testid': 'task-group' },
      el(
        'th',
        { colspan: '7', scope: 'colgroup' },
        el('span', { class: `cloud cloud-${operationOf(product).cloud === 'huawei' ? 'huawei' : 'alibaba'}`, text: CLOUD_TITLES[operationOf(product).cloud] || '' }),
        el('span', { class: 'group-title', text: product.title }),
        el('code', { class: 'op', text: operationOf(product).name }),
        el('span', { class: 'muted', text: `${groupCount(product, data)}${more}${filtered}` }),
        el('code', { class: 'try', title: 'try it', text: tryIt(product, list) }),
      ),
    );
  }

  // A call a newcomer can paste into a terminal to see the same tasks through the cloud API.
  // The call is the catalogue's (Action and Version, or method and path); the parameters each
  // product needs are the product's.
  function tryIt(product, list) {
    const base = window.location.origin;
    const first = list[0] || {};
    const op = operationOf(product);
    const query = {
      ecs: `&RegionId=${encodeURIComponent(first.region || 'cn-hangzhou')}`,
      sas: `&TaskId=${encodeURIComponent(first.id || '')}`,
      hss_image: '?type=image_scan',
    }[product.key] || '';
    if (op.wire.style === 'rpc') return `curl '${base}/?Action=${op.name}&Version=${op.wire.version}${query}'`;
    if (op.wire.style === 'rest') {
      const path = op.wire.path.replace('{project_id}', encodeURIComponent(first.tenant || '{project_id}'));
      const post = op.wire.method === 'POST' ? "-X POST -H 'Content-Type: application/json' -d '{}' " : '';
      return `curl ${post}'${base}${path}${query}'`;
    }
    return '';
  }

  function taskTitle(product, t) {
    switch (product.key) {
      case 'ecs':
        return { title: t.action || 'task', detail: [t.resource_id, t.region].filter(Boolean).join(' · ') };
      case 'sas':
        return { title: `scan of ${(t.targets || []).join(', ') || 'servers'}`, detail: '' };
      case 'avds':
        return { title: t.name || 'scan', detail: `scan ${t.scan_id || ''}` };
      case 'hss_image':
        return { title: t.name || 'image task', detail: t.task_type || '' };
      case 'hss_task':
        return { title: t.name || 'task', detail: t.task_type || '' };
      default:
        return { title: t.id, detail: '' };
    }
  }

  function taskRow(product, t, nowMs, changed) {
    const kind = statusKind(t.status);
    const { title, detail } = taskTitle(product, t);
    const created = Date.parse(t.created);
    const ended = t.ended ? Date.parse(t.ended) : null;
    return el(
      'tr',
      {
        class: `task kind-${kind}${changed ? ' changed' : ''}`,
        'data-testid': 'task-row',
        'data-product': product.key,
        'data-id': t.id,
        'data-status': t.status,
        'data-tenant': t.tenant === null ? '' : t.tenant,
        'data-terminal': String(Boolean(t.terminal)),
      },
      el('td', { class: 'task-cell' }, el('div', { class: 'task-title', text: title }), el('div', { class: 'task-id' }, el('code', { text: t.id }), detail ? el('span', { class: 'muted', text: ` · ${detail}` }) : null)),
      el('td', { class: 'tenant', title: t.tenant === null ? 'shared: visible to every caller' : t.tenant, text: shortTenant(t.tenant) }),
      el('td', null, statusBadges(product, t, kind)),
      el('td', { class: 'progress-col' }, progress(product, t, kind)),
      el('td', null, phaseChips(t)),
      el('td', { class: 'when', title: t.created }, el('div', { text: virtualTime(created, nowMs) }), el('div', { class: 'muted', text: relative(created, nowMs) })),
      el('td', { class: 'when', title: t.ended || '' }, endedCell(t, ended, nowMs)),
    );
  }

  function statusBadges(product, t, kind) {
    const badges = [el('span', { class: `badge kind-${kind}`, 'data-testid': 'status', text: t.status })];
    if (product.key === 'hss_image' && t.status_code !== undefined) {
      badges.push(el('span', { class: 'code muted', title: 'task_status as ListImageScanTask answers it', text: ` ${t.status_code}` }));
    }
    if (product.key === 'avds' && t.report && t.report !== 'inexistent') {
      badges.push(el('div', { class: `report report-${t.report}`, text: `report ${t.report}` }));
    }
    return badges;
  }

  function progress(product, t, kind) {
    let total = 0;
    let good = 0;
    let bad = 0;
    let caption;
    if (product.key === 'hss_image') {
      total = t.images || 0;
      good = t.success || 0;
      bad = t.failed || 0;
      caption = [`${good + bad}/${total} images`, bad ? `${bad} failed` : null];
    } else if (product.key === 'hss_task') {
      total = t.total || 0;
      good = t.succeeded || 0;
      bad = t.failed || 0;
      const unit = t.task_type === 'iac_scan' ? 'files' : 'clusters';
      caption = [`${good + bad}/${total} ${unit}`, bad ? `${bad} failed` : null, t.in_progress ? `${t.in_progress} scanning` : null];
    }
    const bar = el('div', { class: 'bar', role: 'progressbar', 'aria-valuemin': '0', 'aria-valuemax': '100', 'aria-valuenow': String(Math.round((t.progress || 0) * 100)) });
    if (total > 0) {
      bar.appendChild(el('div', { class: 'fill kind-ok', style: `width:${(100 * good) / total}%` }));
      bar.appendChild(el('div', { class: 'fill kind-bad', style: `width:${(100 * bad) / total}%` }));
    } else {
      const barKind = kind === 'ok' ? 'ok' : kind === 'active' ? 'active' : kind;
      bar.appendChild(el('div', { class: `fill kind-${barKind}`, style: `width:${(t.progress || 0) * 100}%` }));
    }
    if (kind === 'active') bar.classList.add('moving');
    const label = product.key === 'avds' ? `RunPercent ${percent(t.progress)}` : percent(t.progress);
    return [
      bar,
      el('div', { class: 'bar-caption' }, el('span', { text: label }), ...(caption || []).filter(Boolean).map((c) => el('span', { class: c.includes('failed') ? 'failed' : 'muted', text: ` · ${c}` }))),
    ];
  }

  function phaseChips(t) {
    const phases = t.phases || [];
    return el(
      'div',
      { class: 'phases' },
      phases.map((name, i) => {
        const where = i < t.phase ? 'done' : i === t.phase ? 'current' : 'next';
        return el('span', { class: `chip ${where} kind-${statusKind(name)}`, title: where === 'current' ? 'current phase' : where === 'done' ? 'done' : 'to come', text: name });
      }),
    );
  }

  function endedCell(t, ended, nowMs) {
    if (ended !== null) {
      return [el('div', { text: virtualTime(ended, nowMs) }), el('div', { class: 'muted', text: relative(ended, nowMs) })];
    }
    if (typeof t.remaining_ms === 'number' && t.remaining_ms > 0) {
      return el('div', { class: 'muted', text: `≈ ${span(t.remaining_ms)} left` });
    }
    if (t.remaining_ms === null && !t.terminal) {
      return el('div', { class: 'muted', text: 'waits for reads' });
    }
    return el('div', { class: 'muted', text: '—' });
  }

  function renderSummary(counts, shown, all) {
    const box = $('task-summary');
    const parts = [el('span', { class: 'muted', text: shown === all ? `${all} shown` : `${shown} of ${all} shown` })];
    for (const kind of ['active', 'pending', 'paused', 'ok', 'bad', 'cancelled']) {
      if (counts[kind]) parts.push(el('span', { class: `badge kind-${kind}`, 'data-kind': kind, text: `${counts[kind]} ${kindName(kind)}` }));
    }
    box.replaceChildren(...parts);
  }

  function kindName(kind) {
    return { active: 'running', pending: 'waiting', paused: 'paused', ok: 'done', bad: 'failed', cancelled: 'cancelled' }[kind];
  }

  function renderTenantOptions() {
    const select = $('filter-tenant');
    const have = new Set([...select.options].map((o) => o.value));
    for (const tenant of [...state.tenants].sort()) {
      if (!have.has(tenant)) {
        select.appendChild(el('option', { value: tenant, text: tenant === '(shared)' ? 'shared (no tenant)' : tenant }));
      }
    }
  }

  function renderJournal() {
    const body = $('journal-body');
    const rows = [...state.journal].reverse();
    const previous = state.lastSeq;
    let maxSeq = previous;
    const nowMs = state.tasksNow === null ? undefined : state.tasksNow;
    const trs = rows.flatMap((r) => {
      maxSeq = Math.max(maxSeq, r.seq || 0);
      const ok = r.status >= 200 && r.status < 300;
      const params = summarizeParameters(r.parameters);
      const row = el(
        'tr',
        { class: `${ok ? '' : 'failed'}${previous && r.seq > previous ? ' flash' : ''}`, 'data-testid': 'journal-row', 'data-seq': r.seq, 'data-status': r.status, 'data-operation': r.operation || '' },
        el('td', { class: 'num muted', text: r.seq }),
        el('td', { class: 'mono', title: r.time, text: wallTime(r.time) }),
        el('td', { class: 'mono', title: r.virtual_time, text: r.virtual_time ? virtualTime(Date.parse(r.virtual_time), nowMs) : '' }),
        el('td', null, el('span', { class: `cloud cloud-${r.cloud === 'huawei' ? 'huawei' : 'alibaba'}`, text: r.product || r.cloud || '' }), ' ', el('span', { text: r.operation || `${r.method} ${r.path}` })),
        el('td', { class: 'tenant', title: r.tenant || 'no credentials', text: r.tenant ? shortTenant(r.tenant) : 'anonymous' }),
        el('td', null, el('span', { class: `http http-${Math.floor(r.status / 100)}xx`, text: r.status })),
        el('td', { class: r.error_code ? 'error-code' : 'muted', text: r.error_code || '—' }),
        el('td', { class: 'num mono', text: latency(r.latency_us) }),
        el('td', { class: 'params', title: params, text: params }),
      );
      return r.auth_failure ? [row, authFailureRow(r)] : [row];
    });
    body.replaceChildren(...trs);
    state.lastSeq = maxSeq;
    $('journal-empty').hidden = rows.length > 0;
    setText('journal-count', rows.length ? `latest ${rows.length}` : '');
  }

  // Why authentication refused a call: the first difference as the summary, then what the request
  // claimed next to what the server computed, so the two can be read side by side. Kept open across
  // refreshes while the user reads it.
  function authFailureRow(r) {
    const d = r.auth_failure;
    const findings = d.findings || [];
    const first = findings[0] || { cause: d.cause, message: '' };
    const pair = (name, claimed, computed) =>
      el('tr', null,
        el('th', { text: name }),
        el('td', null, el('pre', { text: claimed ?? '—' })),
        el('td', null, el('pre', { text: computed ?? '—' })));
    const details = el('details', { open: state.openDiagnoses.has(r.seq), ontoggle: (e) => {
      if (e.target.open) state.openDiagnoses.add(r.seq); else state.openDiagnoses.delete(r.seq);
    } },
      el('summary', null, el('span', { class: 'error-code', text: first.cause }), ' ', first.message),
      findings.length > 1 ? el('ul', null, findings.slice(1).map((f) => el('li', null, el('span', { class: 'error-code', text: f.cause }), ' ', f.message))) : null,
      el('table', { class: 'diagnosis' },
        el('thead', null, el('tr', null, el('th', { text: d.scheme }), el('th', { text: 'the request claimed' }), el('th', { text: 'the server computed' }))),
        el('tbody', null,
          pair('key id', d.claimed.key_id, null),
          pair('timestamp', d.claimed.timestamp, d.skew_seconds === null || d.skew_seconds === undefined ? null : `${d.skew_seconds > 0 ? '+' : ''}${d.skew_seconds} s from the server's clock`),
          pair('signed headers', d.claimed.signed_headers, d.computed.signed_headers),
          pair('signature', d.claimed.signature, null),
          pair('string to sign', null, d.computed.string_to_sign),
          pair('canonical request', null, d.computed.canonical_request))),
      d.truncated ? el('p', { class: 'muted', text: 'cut to the journal entry budget (--journal-entry-bytes)' }) : null);
    return el('tr', { class: 'auth-failure', 'data-testid': 'journal-auth-failure', 'data-seq': r.seq, 'data-cause': d.cause },
      el('td', { colspan: 9 }, details));
  }

  function summarizeParameters(parameters) {
    if (!parameters || typeof parameters !== 'object') return '';
    return Object.entries(parameters)
      .filter(([k]) => k !== 'Action' && k !== 'Version' && k !== 'Signature' && k !== 'SignatureNonce')
      .map(([k, v]) => `${k}=${typeof v === 'string' ? v : JSON.stringify(v)}`)
      .join(' ');
  }

  function faultEffect(f) {
    if (f.error) {
      const extra = [f.error.status ? `HTTP ${f.error.status}` : null, f.error.message ? `“${f.error.message}”` : null].filter(Boolean).join(' ');
      return `error ${f.error.code}${extra ? ` (${extra})` : ''}`;
    }
    if (f.latency) return `latency ${f.latency}`;
    if (f.throttle) return `throttle over ${f.throttle} req/s`;
    return 'no effect';
  }

  function renderFaults() {
    const list = $('fault-list');
    const items = state.faults.map((f) => {
      const scope = [
        f.tenant ? `tenant ${shortTenant(f.tenant)}` : 'every caller',
        f.times ? `${f.remaining === null || f.remaining === undefined ? f.times : f.remaining} of ${f.times} call(s) left` : 'until cleared',
        typeof f.probability === 'number' ? `p = ${f.probability}` : null,
        `fired ${f.fired || 0}×`,
      ].filter(Boolean);
      return el(
        'li',
        { class: 'fault', 'data-testid': 'fault', 'data-id': f.id, 'data-operation': f.operation },
        el(
          'div',
          { class: 'fault-main' },
          el('span', { class: 'muted', text: `#${f.id}` }),
          ' ',
          el('strong', { text: f.operation === '*' ? 'every operation' : f.operation }),
          ' → ',
          el('span', { class: 'fault-effect', text: faultEffect(f) }),
        ),
        el('div', { class: 'fault-scope muted', text: scope.join(' · ') }),
        el('button', { type: 'button', class: 'subtle small', id: `fault-remove-${f.id}`, 'data-testid': 'fault-remove', title: 'remove this rule', onclick: () => removeFault(f.id), text: 'Remove' }),
      );
    });
    list.replaceChildren(...items);
    $('faults-empty').hidden = items.length > 0;
    $('faults-clear').disabled = items.length === 0;
  }

  // --- actions ----------------------------------------------------------------------------------

  function flashMessage(id, text, isError) {
    const node = $(id);
    node.textContent = text;
    node.classList.toggle('error', Boolean(isError));
    clearTimeout(node._timer);
    node._timer = setTimeout(() => {
      node.textContent = '';
    }, isError ? 8000 : 3000);
  }

  async function act(messageId, doing, fn) {
    try {
      const result = await fn();
      if (doing) flashMessage(messageId, doing, false);
      return result;
    } catch (e) {
      flashMessage(messageId, e.message, true);
      return undefined;
    } finally {
      refresh();
    }
  }

  function clockChange(body, doing) {
    return act('clock-message', doing, () => api('POST', '/_emu/clock', body));
  }

  async function removeFault(id) {
    await act('fault-message', `removed rule #${id}`, () => api('DELETE', `/_emu/faults/${encodeURIComponent(id)}`));
  }

  function faultCodes() {
    const op = $('fault-operation').value;
    if (op === '*') return [...ERROR_CODES.alibaba, ...ERROR_CODES.huawei];
    const row = state.operations.find((o) => o.name === op);
    return row && row.cloud === 'huawei' ? ERROR_CODES.huawei : ERROR_CODES.alibaba;
  }

  function updateFaultForm() {
    const effect = $('fault-effect').value;
    const value = $('fault-value');
    const datalist = $('fault-codes');
    if (effect === 'error') {
      value.placeholder = faultCodes()[0];
      value.setAttribute('list', 'fault-codes');
      datalist.replaceChildren(...faultCodes().map((c) => el('option', { value: c })));
    } else {
      value.removeAttribute('list');
      value.placeholder = effect === 'latency' ? '200ms or 100ms..2s' : 'requests per second, e.g. 2';
    }
  }

  function faultRule() {
    const effect = $('fault-effect').value;
    const raw = $('fault-value').value.trim() || (effect === 'error' ? $('fault-value').placeholder : '');
    const rule = { operation: $('fault-operation').value };
    if (effect === 'error') rule.error = { code: raw };
    else if (effect === 'latency') rule.latency = raw;
    else {
      const n = Number(raw);
      if (!Number.isInteger(n) || n < 1) throw new Error('throttle takes a whole number of requests per second, at least 1');
      rule.throttle = n;
    }
    const times = $('fault-times').value.trim();
    if (times) rule.times = Number(times);
    const probability = $('fault-probability').value.trim();
    if (probability) rule.probability = Number(probability);
    const tenant = $('fault-tenant').value.trim();
    if (tenant) rule.tenant = tenant;
    return rule;
  }

  function bind() {
    document.querySelectorAll('[data-advance]').forEach((button) => {
      button.addEventListener('click', () => clockChange({ advance: button.dataset.advance }, `advanced ${button.dataset.advance}`));
    });
    $('advance-form').addEventListener('submit', (event) => {
      event.preventDefault();
      const by = $('advance-by').value.trim();
      if (!by) {
        flashMessage('clock-message', 'type a duration such as 90s, 45m or 2h30m', true);
        return;
      }
      clockChange({ advance: by }, `advanced ${by}`);
    });
    $('clock-toggle').addEventListener('click', () => {
      const paused = Boolean(state.clock && state.clock.paused);
      clockChange({ pause: !paused }, paused ? 'resumed' : 'paused');
    });
    document.querySelectorAll('[data-rate]').forEach((button) => {
      button.addEventListener('click', () => clockChange({ rate: Number(button.dataset.rate) }, `rate ${button.dataset.rate}`));
    });
    $('rate-form').addEventListener('submit', (event) => {
      event.preventDefault();
      const rate = Number($('rate-input').value);
      if ($('rate-input').value.trim() === '' || !Number.isFinite(rate) || rate < 0) {
        flashMessage('clock-message', 'the rate is a number of virtual seconds per real second, 0 or more', true);
        return;
      }
      $('rate-input').blur();
      clockChange({ rate }, `rate ${rate}`);
    });
    $('reset').addEventListener('click', () => {
      if (!window.confirm('Restart the scenario? The clock and every task go back to the start; runtime changes are kept as the server keeps them.')) return;
      state.lastStatus.clear();
      state.changedAt.clear();
      act('clock-message', 'scenario restarted', () => api('POST', '/_emu/reset'));
    });
    $('journal-clear').addEventListener('click', () => act('fault-message', '', () => api('DELETE', '/_emu/requests')));
    $('faults-clear').addEventListener('click', () => act('fault-message', 'all fault rules cleared', () => api('DELETE', '/_emu/faults')));
    $('fault-operation').addEventListener('change', updateFaultForm);
    $('fault-effect').addEventListener('change', () => {
      $('fault-value').value = '';
      updateFaultForm();
    });
    $('fault-form').addEventListener('submit', (event) => {
      event.preventDefault();
      let rule;
      try {
        rule = faultRule();
      } catch (e) {
        flashMessage('fault-message', e.message, true);
        return;
      }
      act('fault-message', 'fault added', async () => {
        const answer = await api('POST', '/_emu/faults', rule);
        $('fault-value').value = '';
        return answer;
      });
    });
    for (const id of ['filter-text', 'filter-tenant', 'filter-open']) {
      $(id).addEventListener('input', () => {
        if (state.clock) renderTasks();
      });
    }
    document.addEventListener('visibilitychange', () => {
      if (!document.hidden) refresh();
    });
    $('token-form').addEventListener('submit', (event) => {
      event.preventDefault();
      controlToken = storeToken($('token-input').value.trim());
      $('token-input').value = '';
      refresh();
    });
    window.addEventListener('hashchange', () => {
      const token = tokenFromAddress();
      if (token !== null) {
        controlToken = token;
        refresh();
      }
    });
  }

  function start() {
    bind();
    updateFaultForm();
    setInterval(tickClock, 250);
    poll();
  }

  if (document.readyState === 'loading') document.addEventListener('DOMContentLoaded', start);
  else start();
})();
