import type { Lang } from '../../../flows/types';
import { translate, type MessageKey } from '../../i18n';
import type { Msg, Param } from '../../../flows/types';
import type { StaffMember } from '../../services/staff';
import type { Flash } from './session';

/** Markup that is already safe. Everything else put into `html` is escaped. */
export class Html {
  constructor(readonly value: string) {}
  toString(): string {
    return this.value;
  }
}

const ESC: Record<string, string> = { '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' };

function esc(v: unknown): string {
  if (v instanceof Html) return v.value;
  if (Array.isArray(v)) return v.map(esc).join('');
  if (v === null || v === undefined || v === false) return '';
  return String(v).replace(/[&<>"']/g, (c) => ESC[c] as string);
}

/** A template whose interpolations are HTML-escaped (arrays joined, null/false/undefined omitted). */
export function html(strings: TemplateStringsArray, ...values: unknown[]): Html {
  let out = strings[0] ?? '';
  values.forEach((v, i) => {
    out += esc(v) + (strings[i + 1] ?? '');
  });
  return new Html(out);
}

/** What every page needs: the language, the signed-in staff member, the CSRF token, where we are. */
export interface PageCtx {
  lang: Lang;
  staff: StaffMember | null;
  csrf: string;
  /** The URL to come back to after switching language (a GET page), else the home page. */
  here: string;
  flash?: Flash;
}

export const tr = (lang: Lang, key: MessageKey, params?: Record<string, Param>): string => translate(lang, { key, ...(params ? { params } : {}) });
export const trMsg = (lang: Lang, m: Msg): string => translate(lang, m);

export const csrfField = (ctx: PageCtx) => html`<input type="hidden" name="_csrf" value="${ctx.csrf}">`;

/** A one-button form (POST with the CSRF token). */
export function postButton(ctx: PageCtx, action: string, label: string, fields: Record<string, string> = {}, cls = ''): Html {
  return html`<form method="post" action="${action}" class="inline">${csrfField(ctx)}${Object.entries(fields).map(([k, v]) => html`<input type="hidden" name="${k}" value="${v}">`)}<button type="submit"${cls ? html` class="${cls}"` : ''}>${label}</button></form>`;
}

/** An error summary, announced by screen readers (role=alert) and reachable by keyboard. */
export function errorBox(lang: Lang, messages: string[]): Html | '' {
  if (messages.length === 0) return '';
  return html`<div class="error" role="alert" tabindex="-1" id="errors"><h2>${tr(lang, 'staff.error_title')}</h2>${messages.map((m) => html`<p>${m}</p>`)}</div>`;
}

function flashBox(ctx: PageCtx): Html | '' {
  if (!ctx.flash) return '';
  const text = tr(ctx.lang, ctx.flash.key, ctx.flash.params);
  return ctx.flash.level === 'error' ? errorBox(ctx.lang, [text]) : html`<div class="ok" role="status"><p>${text}</p></div>`;
}

function nav(ctx: PageCtx): Html | '' {
  const s = ctx.staff;
  if (!s) return '';
  const t = (k: MessageKey) => tr(ctx.lang, k);
  const links: Array<[string, string]> = [['/staff/find', t('staff.nav.find')], ['/staff/phone-changes', t('staff.nav.changes')]];
  if (s.role !== 'agent') links.push(['/staff/audit', t('staff.nav.audit')]);
  if (s.role === 'admin') links.push(['/staff/admin/staff', t('staff.nav.admin')]);
  links.push(['/staff/password', t('staff.nav.password')]);
  return html`<nav aria-label="${t('staff.nav.label')}"><ul>${links.map(([href, label]) => html`<li><a href="${href}">${label}</a></li>`)}</ul></nav>
<div class="who"><span>${tr(ctx.lang, 'staff.signed_in_as', { name: s.name, role: tr(ctx.lang, `staff.role.${s.role}` as MessageKey), centre: s.centreName })}</span> ${postButton(ctx, '/staff/logout', t('staff.nav.logout'), {}, 'link')}</div>`;
}

function langSwitch(ctx: PageCtx): Html {
  const link = (to: Lang, label: string) =>
    to === ctx.lang ? html`<strong lang="${to}" aria-current="true">${label}</strong>` : html`<a lang="${to}" hreflang="${to}" href="/staff/lang?to=${to}&amp;back=${encodeURIComponent(ctx.here)}">${label}</a>`;
  return html`<p class="lang"><span>${tr(ctx.lang, 'staff.lang.label')}:</span> ${link('en', 'English')} | ${link('sw', 'Kiswahili')}</p>`;
}

/** The whole document: small, no script, one cached stylesheet. */
export function page(ctx: PageCtx, title: string, body: Html | Html[], errors: string[] = []): string {
  return html`<!doctype html>
<html lang="${ctx.lang}">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>${title} - Simu</title>
<link rel="stylesheet" href="/staff/assets/staff.css">
</head>
<body>
<a class="skip" href="#main">${tr(ctx.lang, 'staff.skip')}</a>
<header>
<p class="brand">${tr(ctx.lang, 'staff.app_title')}</p>
${langSwitch(ctx)}
${nav(ctx)}
</header>
<main id="main" tabindex="-1">
<h1>${title}</h1>
${errorBox(ctx.lang, errors)}
${flashBox(ctx)}
${body}
</main>
</body>
</html>
`.value;
}

/** A text field with its label, hint and error tied together for assistive technology. */
export function field(opts: {
  name: string; label: string; type?: string; value?: string; hint?: string; error?: boolean; autocomplete?: string;
  inputmode?: string; required?: boolean; pattern?: string; maxlength?: number; autofocus?: boolean;
}): Html {
  const id = `f-${opts.name}`;
  const described = opts.hint ? `${id}-hint` : '';
  return html`<div class="field">
<label for="${id}">${opts.label}</label>
${opts.hint ? html`<span class="hint" id="${described}">${opts.hint}</span>` : ''}
<input id="${id}" name="${opts.name}" type="${opts.type ?? 'text'}"${opts.value ? html` value="${opts.value}"` : ''}${described ? html` aria-describedby="${described}"` : ''}${opts.error ? html` aria-invalid="true"` : ''}${opts.autocomplete ? html` autocomplete="${opts.autocomplete}"` : ''}${opts.inputmode ? html` inputmode="${opts.inputmode}"` : ''}${opts.required ? html` required` : ''}${opts.pattern ? html` pattern="${opts.pattern}"` : ''}${opts.maxlength ? html` maxlength="${opts.maxlength}"` : ''}${opts.autofocus ? html` autofocus` : ''}>
</div>`;
}

export function select(opts: { name: string; label: string; options: Array<[string, string]>; value?: string; any?: string; required?: boolean }): Html {
  const id = `f-${opts.name}`;
  return html`<div class="field"><label for="${id}">${opts.label}</label>
<select id="${id}" name="${opts.name}"${opts.required ? html` required` : ''}>${opts.any !== undefined ? html`<option value="">${opts.any}</option>` : ''}${opts.options.map(([v, l]) => html`<option value="${v}"${v === opts.value ? html` selected` : ''}>${l}</option>`)}</select></div>`;
}

/** '2026-11-25 14:05' in Nairobi. */
export function when(d: Date | null): string {
  if (!d) return '';
  const p: Record<string, string> = {};
  for (const { type, value } of new Intl.DateTimeFormat('en-GB', { timeZone: 'Africa/Nairobi', hourCycle: 'h23', year: 'numeric', month: '2-digit', day: '2-digit', hour: '2-digit', minute: '2-digit' }).formatToParts(d)) p[type] = value;
  return `${p.year}-${p.month}-${p.day} ${p.hour}:${p.minute}`;
}

/** '14:05' in Nairobi. */
export const clock = (d: Date | null): string => when(d).slice(11);

/**
 * One small stylesheet, cached by the browser for a day: readable on a low-end counter PC, large
 * click targets, a visible focus ring for keyboard use, and no web fonts or images to download.
 */
export const STYLESHEET = `
*{box-sizing:border-box}
body{margin:0;font:16px/1.5 system-ui,-apple-system,"Segoe UI",Roboto,Arial,sans-serif;color:#111;background:#fff}
header{background:#0b3d2e;color:#fff;padding:.5rem 1rem;display:flex;flex-wrap:wrap;gap:.5rem 1.5rem;align-items:center}
header a,header .link{color:#fff}
.brand{font-weight:700;margin:0}
.lang{margin:0}
nav ul{list-style:none;margin:0;padding:0;display:flex;flex-wrap:wrap;gap:1rem}
.who{margin-left:auto;display:flex;gap:.5rem;align-items:center}
main{max-width:60rem;padding:1rem}
h1{font-size:1.5rem;margin:.5rem 0 1rem}
h2{font-size:1.2rem;margin:1.5rem 0 .5rem}
.skip{position:absolute;left:-999px}
.skip:focus{left:1rem;top:1rem;background:#ff0;color:#000;padding:.5rem;z-index:1}
a{color:#0645ad}
:focus{outline:3px solid #fd0;outline-offset:2px}
.field{margin:0 0 1rem}
label{display:block;font-weight:600}
.hint{display:block;color:#444;font-size:.9rem}
input[type=text],input[type=password],input[type=date],input[type=tel],select{font:inherit;padding:.4rem;border:2px solid #333;min-width:16rem;max-width:100%}
input[aria-invalid=true]{border-color:#b00}
.check{display:flex;gap:.5rem;align-items:flex-start;margin:0 0 1rem}
.check label{font-weight:400}
button{font:inherit;padding:.45rem 1rem;border:2px solid #0b3d2e;background:#0b3d2e;color:#fff;cursor:pointer}
button.secondary{background:#fff;color:#0b3d2e}
button.link{background:none;border:none;padding:0;text-decoration:underline;color:inherit}
form.inline{display:inline}
.actions{display:flex;flex-wrap:wrap;gap:.75rem;align-items:center;margin:1rem 0}
.error{border:3px solid #b00;padding:.5rem 1rem;margin:0 0 1rem}
.error h2{margin:.25rem 0;color:#b00}
.ok{border-left:6px solid #0a7a3e;background:#eef8f1;padding:.5rem 1rem;margin:0 0 1rem}
table{border-collapse:collapse;width:100%;margin:.5rem 0 1rem}
th,td{border-bottom:1px solid #bbb;text-align:left;padding:.35rem .5rem;vertical-align:top}
caption{text-align:left;font-weight:600}
dl{display:grid;grid-template-columns:max-content 1fr;gap:.25rem 1rem}
dt{font-weight:600}
dd{margin:0}
code.token{display:block;padding:.5rem;background:#f3f3f3;word-break:break-all}
.filters{display:flex;flex-wrap:wrap;gap:0 1rem;align-items:flex-end}
.filters input,.filters select{min-width:10rem}
`;
