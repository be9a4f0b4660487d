/// <reference types="vite/client" />
// The playground page: edits a setup (session.ts), validates each configuration against its
// filter's JSON Schema as it is typed, runs the setup in host-sim, shows what happened, and
// keeps the setup in a shareable link.
import { Ajv2020 } from 'ajv/dist/2020.js';
import type { ValidateFunction } from 'ajv';
import { burstChart } from './chart.js';
import { PRESETS } from './presets.js';
import { decision, runSetup, servedBy, summarize, type Outcome, type Setup } from './session.js';
import { decodeSetup, encodeSetup } from './share.js';

// The kit's filters: each built module (dist/<name>.wasm) and its schema.
const schemaFiles = import.meta.glob('../filters/*/schema.json', { eager: true, import: 'default' }) as Record<string, object>;
const moduleFiles = import.meta.glob(['../dist/*.wasm', '!../dist/*.debug.wasm'], { eager: true, query: '?url', import: 'default' }) as Record<string, string>;
const nameOf = (path: string) => path.split('/').at(-2)!;
const kitModules = new Map(Object.entries(moduleFiles).map(([p, url]) => [p.split('/').at(-1)!.replace(/\.wasm$/, ''), url]));
const ajv = new Ajv2020({ allErrors: true, strict: false });
const validators = new Map<string, ValidateFunction>(Object.entries(schemaFiles).map(([p, schema]) => [nameOf(p), ajv.compile(schema)]));
const FILTERS = [...kitModules.keys()].filter((f) => validators.has(f)).sort();

/** Module bytes by chain entry name: the kit's, fetched once, and files the user loaded. */
const modules = new Map<string, Uint8Array>();

const $ = <T extends HTMLElement>(id: string) => document.getElementById(id) as T;
const escape = (text: string) => text.replace(/[&<>"]/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;' }[c]!));

let setup: Setup = structuredClone(PRESETS[0].setup);

function notice(text: string, error = false): void {
  const el = $('notice');
  el.textContent = text;
  el.className = error ? 'error' : '';
}

/** What is wrong with a configuration for its filter: not JSON, or against its schema ("" when fine). */
function configurationProblem(filter: string, text: string): string {
  let value: unknown;
  try {
    value = JSON.parse(text || '{}');
  } catch (e) {
    return `not JSON: ${(e as Error).message}`;
  }
  const validate = validators.get(filter);
  if (!validate || validate(value)) return '';
  return (validate.errors ?? []).map((e) => `${e.instancePath || '(top)'} ${e.message}`).join('; ');
}

function renderChain(): void {
  const list = $('chain');
  list.innerHTML = '';
  setup.chain.forEach((entry, i) => {
    const item = document.createElement('li');
    item.dataset.filter = entry.filter;
    item.innerHTML = `<div class="row"><strong>${escape(entry.filter)}</strong>
      <button type="button" data-act="up" ${i === 0 ? 'disabled' : ''} aria-label="move up">↑</button>
      <button type="button" data-act="down" ${i === setup.chain.length - 1 ? 'disabled' : ''} aria-label="move down">↓</button>
      <button type="button" data-act="remove" aria-label="remove">remove</button></div>
      <textarea rows="6" spellcheck="false" aria-label="${escape(entry.filter)} configuration"></textarea>
      <p class="problem" data-testid="problem"></p>`;
    const text = item.querySelector('textarea')!;
    const problem = item.querySelector('.problem')!;
    text.value = entry.configuration;
    const check = () => { problem.textContent = configurationProblem(entry.filter, text.value); };
    text.addEventListener('input', () => { entry.configuration = text.value; check(); });
    check();
    item.querySelectorAll('button').forEach((b) => b.addEventListener('click', () => {
      const act = b.dataset.act;
      if (act === 'remove') setup.chain.splice(i, 1);
      else {
        const j = act === 'up' ? i - 1 : i + 1;
        [setup.chain[i], setup.chain[j]] = [setup.chain[j], setup.chain[i]];
      }
      renderChain();
    }));
    list.append(item);
  });
}

function renderUpstreams(): void {
  const body = $('upstreams').querySelector('tbody')!;
  body.innerHTML = '';
  setup.upstreams.forEach((u, i) => {
    const row = document.createElement('tr');
    row.innerHTML = `<td><input aria-label="cluster name"></td><td><input type="number" min="100" max="599" aria-label="status"></td>
      <td><input aria-label="body"></td><td><button type="button" aria-label="remove cluster">remove</button></td>`;
    const [name, status, text] = [...row.querySelectorAll('input')];
    name.value = u.name; status.value = String(u.status); text.value = u.body;
    name.addEventListener('input', () => { u.name = name.value.trim(); });
    status.addEventListener('input', () => { u.status = Number(status.value) || 200; });
    text.addEventListener('input', () => { u.body = text.value; });
    row.querySelector('button')!.addEventListener('click', () => { setup.upstreams.splice(i, 1); renderUpstreams(); });
    body.append(row);
  });
}

const parseLabels = (text: string) => Object.fromEntries(text.split(',').map((p) => p.split('=').map((s) => s.trim())).filter(([k, v]) => k && v !== undefined));

function renderRequest(): void {
  const r = setup.request;
  ($('method') as HTMLSelectElement).value = r.method;
  ($('path') as HTMLInputElement).value = r.path;
  ($('headers') as HTMLTextAreaElement).value = r.headers.map(([k, v]) => `${k}: ${v}`).join('\n');
  ($('body') as HTMLTextAreaElement).value = r.body;
  ($('mtls') as HTMLInputElement).checked = r.caller !== undefined;
  if (r.caller) {
    ($('identity') as HTMLInputElement).value = r.caller.identity;
    ($('labels') as HTMLInputElement).value = Object.entries(r.caller.labels).map(([k, v]) => `${k}=${v}`).join(', ');
  }
  ($('count') as HTMLInputElement).value = String(setup.burst.count);
  ($('interval') as HTMLInputElement).value = String(setup.burst.intervalMs);
}

/** Reads the request and burst fields back into the setup. */
function readRequest(): void {
  const headers = ($('headers') as HTMLTextAreaElement).value.split('\n').filter((l) => l.includes(':'))
    .map((l) => { const at = l.indexOf(':', l.startsWith(':') ? 1 : 0); return [l.slice(0, at).trim(), l.slice(at + 1).trim()] as [string, string]; });
  setup.request = {
    method: ($('method') as HTMLSelectElement).value,
    path: ($('path') as HTMLInputElement).value || '/',
    headers,
    body: ($('body') as HTMLTextAreaElement).value,
    ...(($('mtls') as HTMLInputElement).checked
      ? { caller: { identity: ($('identity') as HTMLInputElement).value, labels: parseLabels(($('labels') as HTMLInputElement).value) } } : {}),
  };
  setup.burst = { count: Math.max(1, Math.min(1000, Number(($('count') as HTMLInputElement).value) || 1)), intervalMs: Math.max(0, Number(($('interval') as HTMLInputElement).value) || 0) };
}

function render(): void {
  renderChain();
  renderUpstreams();
  renderRequest();
}

function showOutcome(outcome: Outcome): void {
  $('summary').innerHTML = summarize(outcome).map((line) => `<li>${escape(line)}</li>`).join('');
  $('chart').innerHTML = outcome.exchanges.length > 1 ? burstChart(outcome.exchanges) : '';
  $('exchanges').querySelector('tbody')!.innerHTML = outcome.exchanges.slice(0, 200).map((e, i) =>
    `<tr><td>${i + 1}</td><td>${e.sentAt}</td><td>${e.status}</td><td>${escape(servedBy(e))}</td><td>${e.durationMs}</td></tr>`).join('');
  const last = outcome.exchanges.at(-1);
  $('response').textContent = last ? [`${last.status}`, ...last.headers.map(([k, v]) => `${k}: ${v}`), '', last.body].join('\n') : '';
  $('decisions').textContent = last ? last.filters.map(decision).join('\n') : '';
  $('upstream').textContent = last?.upstreamHeaders ? last.upstreamHeaders.map(([k, v]) => `${k}: ${v}`).join('\n') : '(nothing: it was answered before the upstream)';
  const byPlugin = new Map<string, string[]>();
  for (const l of outcome.logs) byPlugin.set(l.plugin, [...byPlugin.get(l.plugin) ?? [], `[${l.level}] ${l.message}`]);
  $('logs').textContent = [...byPlugin].map(([plugin, lines]) => `${plugin}:\n  ${lines.slice(-50).join('\n  ')}`).join('\n') || '(no log lines)';
  $('metrics').textContent = outcome.prometheus || '(no metrics)';
  for (const { filter, message } of outcome.loadErrors) {
    const problem = document.querySelector(`#chain li[data-filter="${CSS.escape(filter)}"] .problem`);
    if (problem) problem.textContent = `the filter refused it: ${message}`;
  }
}

async function moduleOf(filter: string): Promise<Uint8Array> {
  let bytes = modules.get(filter);
  if (!bytes) {
    const url = kitModules.get(filter);
    if (!url) throw new Error(`${filter} is not loaded: load its .wasm file again (links carry modules by name only)`);
    bytes = new Uint8Array(await (await fetch(url)).arrayBuffer());
    modules.set(filter, bytes);
  }
  return bytes;
}

async function run(): Promise<void> {
  readRequest();
  const button = $<HTMLButtonElement>('run');
  button.disabled = true;
  notice('running ...');
  try {
    for (const entry of setup.chain) await moduleOf(entry.filter);
    const outcome = await runSetup(setup, (filter) => modules.get(filter)!);
    showOutcome(outcome);
    notice(outcome.loadErrors.length ? 'a filter refused its configuration' : `ran ${outcome.exchanges.length} request(s)`, outcome.loadErrors.length > 0);
  } catch (e) {
    notice((e as Error).message, true);
  } finally {
    button.disabled = false;
    document.body.dataset.ran = String(Number(document.body.dataset.ran ?? 0) + 1);
  }
}

function load(next: Setup, source: string): void {
  setup = structuredClone(next);
  render();
  $('summary').innerHTML = '';
  notice(source);
}

function start(): void {
  const presets = $('presets');
  for (const p of PRESETS) {
    const b = document.createElement('button');
    b.type = 'button';
    b.dataset.preset = p.id;
    b.textContent = p.title;
    b.title = p.explains;
    b.addEventListener('click', () => load(p.setup, p.explains));
    presets.append(b);
  }
  const select = $<HTMLSelectElement>('add-filter');
  select.innerHTML = FILTERS.map((f) => `<option>${f}</option>`).join('');
  $('add').addEventListener('click', () => { setup.chain.push({ filter: select.value, configuration: '{}' }); renderChain(); });
  $<HTMLInputElement>('upload').addEventListener('change', async (event) => {
    const file = (event.target as HTMLInputElement).files?.[0];
    if (!file) return;
    modules.set(file.name, new Uint8Array(await file.arrayBuffer()));
    setup.chain.push({ filter: file.name, configuration: '{}' });
    renderChain();
  });
  $('add-upstream').addEventListener('click', () => { setup.upstreams.push({ name: `cluster-${setup.upstreams.length + 1}`, status: 200, body: 'ok' }); renderUpstreams(); });
  $('run').addEventListener('click', () => { void run(); });
  $('share').addEventListener('click', () => {
    readRequest();
    const link = `${location.origin}${location.pathname}${encodeSetup(setup)}`;
    $<HTMLInputElement>('share-link').value = link;
    history.replaceState(null, '', encodeSetup(setup));
    const uploaded = setup.chain.filter((e) => !kitModules.has(e.filter)).map((e) => e.filter);
    notice(uploaded.length ? `link ready; ${uploaded.join(', ')} must be loaded again by whoever opens it` : 'link ready');
  });
  // A link pasted into this tab changes only the hash: load its setup as on opening.
  window.addEventListener('hashchange', () => loadFromLink(false));
  loadFromLink(true);
}

/** Loads the setup the page's link carries; on opening without one, the first preset. */
function loadFromLink(opening: boolean): void {
  try {
    const shared = decodeSetup(location.hash);
    if (shared) load(shared, 'setup from the link');
    else if (opening) load(PRESETS[0].setup, PRESETS[0].explains);
  } catch (e) {
    if (opening) load(PRESETS[0].setup, '');
    notice((e as Error).message, true);
  }
}

start();
