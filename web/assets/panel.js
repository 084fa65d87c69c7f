/*
 * IspBills panels: the little JavaScript the pages use, as declarative attributes (Alpine.js-style, without a
 * framework): every page works without it, and it adds what helps —
 *   data-nav-toggle / data-nav-close   the phone menu
 *   form[data-confirm]                 a confirmation before a destructive action
 *   form[data-live]                    search as you type (swaps #results, keeps the URL in step)
 *   table.sortable th[data-sort]       sorting a table by a column
 *   select[data-autosubmit]            filters that apply when changed
 *   canvas[data-chart]                 Chart.js charts from a JSON block
 *   data-passkey-login / -register     passkeys (WebAuthn) against the API
 *   button[data-step-up]               confirm with a passkey, then send the form again
 *   button[data-print]                 print the page
 * No inline scripts: the pages' Content-Security-Policy allows scripts from this origin only.
 */
(function () {
  'use strict';

  const csrf = () => document.querySelector('meta[name="csrf-token"]')?.getAttribute('content') || '';

  // --- phone menu ------------------------------------------------------------------------------------------------
  document.addEventListener('click', (event) => {
    const target = event.target instanceof Element ? event.target : null;
    if (target?.closest('[data-nav-toggle]')) document.body.classList.toggle('nav-open');
    else if (target?.closest('[data-nav-close]')) document.body.classList.remove('nav-open');
    if (target?.closest('[data-print]')) window.print();
  });

  // --- fields that apply to one choice only (data-show-when="field=value|value") ---------------------------------
  for (const element of document.querySelectorAll('[data-show-when]')) {
    const [name, wanted] = element.dataset.showWhen.split('=');
    const control = element.closest('form')?.elements.namedItem(name);
    if (!control || !('value' in control)) continue;
    const update = () => {
      element.hidden = !wanted.split('|').includes(control.value);
    };
    control.addEventListener('change', update);
    update();
  }

  // --- confirmation --------------------------------------------------------------------------------------------------
  const dialog = document.getElementById('confirm-dialog');
  document.addEventListener('submit', (event) => {
    const form = event.target;
    if (!(form instanceof HTMLFormElement) || !form.dataset.confirm || form.dataset.confirmed === 'yes') return;
    if (!(dialog instanceof HTMLDialogElement) || typeof dialog.showModal !== 'function') {
      if (!window.confirm(form.dataset.confirm)) event.preventDefault();
      return;
    }
    event.preventDefault();
    const submitter = event.submitter;
    document.getElementById('confirm-text').textContent = form.dataset.confirm;
    document.getElementById('confirm-title').textContent = form.dataset.confirmTitle || 'Are you sure?';
    document.getElementById('confirm-yes').textContent = form.dataset.confirmButton || 'Yes, do it';
    dialog.returnValue = '';
    dialog.showModal();
    dialog.addEventListener(
      'close',
      () => {
        if (dialog.returnValue !== 'confirm') return;
        form.dataset.confirmed = 'yes';
        if (submitter && typeof form.requestSubmit === 'function') form.requestSubmit(submitter);
        else form.submit();
      },
      { once: true },
    );
  });

  // --- search as you type --------------------------------------------------------------------------------------------
  for (const form of document.querySelectorAll('form[data-live]')) {
    const results = document.getElementById(form.dataset.live || 'results');
    if (!results) continue;
    let timer = 0;
    let latest = 0;
    const refresh = async () => {
      const params = new URLSearchParams(new FormData(form));
      for (const [key, value] of [...params]) if (value === '') params.delete(key);
      const query = params.toString();
      const url = form.getAttribute('action') + (query ? `?${query}` : '');
      const ticket = ++latest;
      results.setAttribute('aria-busy', 'true');
      try {
        const response = await fetch(url + (query ? '&' : '?') + 'fragment=results', { headers: { accept: 'text/html' }, credentials: 'same-origin' });
        if (ticket !== latest) return;
        if (!response.ok) {
          window.location.href = url;
          return;
        }
        results.innerHTML = await response.text();
        history.replaceState(null, '', url);
      } finally {
        if (ticket === latest) results.removeAttribute('aria-busy');
      }
    };
    form.addEventListener('input', (event) => {
      if (!(event.target instanceof HTMLInputElement)) return;
      window.clearTimeout(timer);
      timer = window.setTimeout(refresh, 250);
    });
    form.addEventListener('change', (event) => {
      if (event.target instanceof HTMLSelectElement) refresh();
    });
    form.addEventListener('submit', (event) => {
      event.preventDefault();
      refresh();
    });
  }

  for (const select of document.querySelectorAll('select[data-autosubmit]')) {
    if (select.form?.dataset.live) continue;
    select.addEventListener('change', () => select.form?.submit());
  }

  // --- sorting -------------------------------------------------------------------------------------------------------
  const cellValue = (row, index) => {
    const cell = row.children[index];
    if (!cell) return '';
    return cell.dataset.value ?? cell.textContent.trim();
  };
  const compare = (a, b) => {
    const x = Number(a);
    const y = Number(b);
    if (a !== '' && b !== '' && !Number.isNaN(x) && !Number.isNaN(y)) return x - y;
    return a.localeCompare(b, undefined, { numeric: true, sensitivity: 'base' });
  };
  document.addEventListener('click', (event) => {
    const header = event.target instanceof Element ? event.target.closest('th[data-sort]') : null;
    if (!header) return;
    const table = header.closest('table');
    const body = table?.tBodies[0];
    if (!body) return;
    const index = [...header.parentElement.children].indexOf(header);
    const ascending = header.getAttribute('aria-sort') !== 'ascending';
    for (const other of header.parentElement.children) other.removeAttribute('aria-sort');
    header.setAttribute('aria-sort', ascending ? 'ascending' : 'descending');
    const rows = [...body.rows];
    rows.sort((a, b) => (ascending ? 1 : -1) * compare(cellValue(a, index), cellValue(b, index)));
    body.append(...rows);
  });

  // --- charts --------------------------------------------------------------------------------------------------------
  const drawCharts = () => {
    if (typeof window.Chart !== 'function') return;
    const palette = ['#2250d9', '#22b3a7', '#e0a100', '#b42318', '#7a5af8', '#157a4a', '#5d6882'];
    window.Chart.defaults.font.family = getComputedStyle(document.body).fontFamily;
    window.Chart.defaults.color = '#5d6882';
    for (const canvas of document.querySelectorAll('canvas[data-chart]')) {
      const source = document.getElementById(canvas.dataset.chart);
      if (!source) continue;
      const spec = JSON.parse(source.textContent || '{}');
      const datasets = (spec.datasets || []).map((dataset, index) => ({
        borderWidth: spec.type === 'line' ? 2 : 0,
        borderRadius: spec.type === 'bar' ? 4 : 0,
        tension: 0.3,
        pointRadius: spec.type === 'line' ? 2 : 0,
        fill: spec.type === 'line' ? { target: 'origin', above: 'rgba(34, 80, 217, 0.08)' } : false,
        backgroundColor: spec.type === 'doughnut' ? palette : palette[index % palette.length],
        borderColor: spec.type === 'doughnut' ? '#fff' : palette[index % palette.length],
        ...dataset,
      }));
      new window.Chart(canvas, {
        type: spec.type,
        data: { labels: spec.labels || [], datasets },
        options: {
          responsive: true,
          maintainAspectRatio: false,
          animation: false,
          plugins: { legend: { display: spec.type === 'doughnut' || datasets.length > 1, position: 'bottom' } },
          ...(spec.type === 'doughnut'
            ? { cutout: '62%' }
            : { scales: { x: { grid: { display: false }, ticks: { maxRotation: 0, autoSkip: true, maxTicksLimit: 10 } }, y: { beginAtZero: true, grid: { color: '#eef1f6' }, ticks: { precision: 0 } } } }),
        },
      });
    }
  };
  if (document.readyState === 'complete') drawCharts();
  else window.addEventListener('load', drawCharts);

  // --- passkeys (WebAuthn) ------------------------------------------------------------------------------------------
  const fromBase64url = (text) => {
    const base64 = text.replace(/-/g, '+').replace(/_/g, '/') + '==='.slice((text.length + 3) % 4);
    return Uint8Array.from(atob(base64), (char) => char.charCodeAt(0)).buffer;
  };
  const toBase64url = (buffer) => {
    let binary = '';
    for (const byte of new Uint8Array(buffer)) binary += String.fromCharCode(byte);
    return btoa(binary).replace(/\+/g, '-').replace(/\//g, '_').replace(/=+$/, '');
  };
  const api = async (url, body) => {
    const response = await fetch(url, {
      method: 'POST',
      credentials: 'same-origin',
      headers: { 'content-type': 'application/json', 'x-csrf-token': csrf() },
      body: JSON.stringify(body ?? {}),
    });
    const reply = response.status === 204 ? {} : await response.json();
    if (!response.ok) throw new Error(reply?.error?.message || `the server answered ${response.status}`);
    return reply;
  };
  const assertion = async (options) => {
    const credential = await navigator.credentials.get({
      publicKey: {
        ...options,
        challenge: fromBase64url(options.challenge),
        allowCredentials: (options.allowCredentials || []).map((item) => ({ ...item, id: fromBase64url(item.id) })),
      },
    });
    return {
      id: credential.id,
      rawId: toBase64url(credential.rawId),
      type: credential.type,
      authenticatorAttachment: credential.authenticatorAttachment ?? undefined,
      clientExtensionResults: credential.getClientExtensionResults(),
      response: {
        clientDataJSON: toBase64url(credential.response.clientDataJSON),
        authenticatorData: toBase64url(credential.response.authenticatorData),
        signature: toBase64url(credential.response.signature),
        userHandle: credential.response.userHandle ? toBase64url(credential.response.userHandle) : undefined,
      },
    };
  };
  const showError = (element, message) => {
    if (!element) return window.alert(message);
    element.textContent = message;
    element.hidden = false;
  };
  const supported = () => typeof window.PublicKeyCredential === 'function' && !!navigator.credentials;

  for (const button of document.querySelectorAll('[data-passkey-login]')) {
    button.addEventListener('click', async () => {
      const error = document.getElementById('passkey-error');
      if (!supported()) return showError(error, 'This browser cannot use passkeys.');
      button.disabled = true;
      try {
        const options = await api('/api/v1/auth/passkeys/login/options');
        const who = await api('/api/v1/auth/passkeys/login/verify', await assertion(options));
        const next = button.dataset.next || '/';
        window.location.href = who.principal_kind === 'customer' ? '/portal' : next;
      } catch (problem) {
        showError(error, `The passkey did not sign you in: ${problem.message}`);
        button.disabled = false;
      }
    });
  }

  for (const form of document.querySelectorAll('form[data-passkey-register]')) {
    form.addEventListener('submit', async (event) => {
      event.preventDefault();
      const error = document.getElementById('passkey-error');
      if (!supported()) return showError(error, 'This browser cannot create passkeys.');
      const button = form.querySelector('button[type="submit"]');
      if (button) button.disabled = true;
      try {
        const options = await api('/api/v1/auth/passkeys/register/options');
        const credential = await navigator.credentials.create({
          publicKey: {
            ...options,
            challenge: fromBase64url(options.challenge),
            user: { ...options.user, id: fromBase64url(options.user.id) },
            excludeCredentials: (options.excludeCredentials || []).map((item) => ({ ...item, id: fromBase64url(item.id) })),
          },
        });
        const name = new FormData(form).get('name') || 'passkey';
        await api('/api/v1/auth/passkeys/register/verify', {
          name,
          response: {
            id: credential.id,
            rawId: toBase64url(credential.rawId),
            type: credential.type,
            authenticatorAttachment: credential.authenticatorAttachment ?? undefined,
            clientExtensionResults: credential.getClientExtensionResults(),
            response: {
              clientDataJSON: toBase64url(credential.response.clientDataJSON),
              attestationObject: toBase64url(credential.response.attestationObject),
              transports: typeof credential.response.getTransports === 'function' ? credential.response.getTransports() : [],
            },
          },
        });
        window.location.href = `${form.getAttribute('action') || '/account'}?registered=1`;
      } catch (problem) {
        showError(error, `The passkey was not registered: ${problem.message}`);
        if (button) button.disabled = false;
      }
    });
  }

  document.addEventListener('click', async (event) => {
    const button = event.target instanceof Element ? event.target.closest('[data-step-up]') : null;
    if (!button) return;
    const form = button.closest('form');
    const box = button.closest('.step-up');
    if (!supported()) return showError(box?.querySelector('p'), 'This browser cannot use passkeys.');
    button.disabled = true;
    try {
      const options = await api('/api/v1/auth/passkeys/step-up/options');
      await api('/api/v1/auth/passkeys/step-up/verify', await assertion(options));
      if (form) {
        form.dataset.confirmed = 'yes';
        form.submit();
      } else window.location.reload();
    } catch (problem) {
      showError(box?.querySelector('p'), `Not confirmed: ${problem.message}`);
      button.disabled = false;
    }
  });
})();
