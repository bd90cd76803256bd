import type { SessionRecord } from '@tessera/core';
import { describeUserAgent, fullTime, timeAgo } from './describe-session.ts';
import { html, type SafeHtml } from './html.ts';
import type { PageAssets } from './page-assets.ts';

interface Layout {
  title: string;
  page: 'login' | 'account';
  state?: string;
  assets: PageAssets;
  main: SafeHtml;
}

function layout({ title, page, state, assets, main }: Layout): string {
  return html`<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>${title} · Tessera</title>
<link rel="icon" href="/pages/icon.svg?v=${assets.icon.hash}" type="image/svg+xml">
<link rel="stylesheet" href="/pages/pages.css?v=${assets.style.hash}">
<script type="module" src="/pages/pages.js?v=${assets.script.hash}"></script>
</head>
<body data-page="${page}"${state ? html` data-state="${state}"` : ''}>
<header class="bar"><span class="brand"><img src="/pages/icon.svg?v=${assets.icon.hash}" alt="" width="24" height="24">Tessera</span></header>
${main}
</body>
</html>
`.value;
}

/** Why the login page is shown, from `?ended=` (only these codes; nothing else is echoed). */
const ENDED_MESSAGES: Record<string, string> = {
  session_revoked: 'Your session was ended from another device or tab. Sign in again.',
  session_expired: 'Your session has expired. Sign in again.',
  logged_out: 'You are signed out.',
};

export function endedMessage(code: unknown): string | undefined {
  return typeof code === 'string' && Object.hasOwn(ENDED_MESSAGES, code) ? ENDED_MESSAGES[code] : undefined;
}

export function renderLoginPage(assets: PageAssets, returnTo: string, notice: string | undefined): string {
  return layout({
    title: 'Sign in',
    page: 'login',
    assets,
    main: html`<main id="main" class="narrow">
<h1>Sign in</h1>
<p id="status" class="status" role="status" aria-live="polite">${notice ?? ''}</p>
<div id="form-error" class="alert" role="alert" tabindex="-1" hidden></div>
<form id="login" method="post" novalidate data-return-to="${returnTo}">
<div class="field">
<label for="username">Username</label>
<input id="username" name="username" type="text" autocomplete="username" autocapitalize="none" spellcheck="false" required aria-describedby="username-error">
<p id="username-error" class="field-error" hidden></p>
</div>
<div class="field">
<label for="password">Password</label>
<input id="password" name="password" type="password" autocomplete="current-password" required aria-describedby="password-error">
<p id="password-error" class="field-error" hidden></p>
</div>
<button id="sign-in" type="submit">Sign in</button>
<button id="sign-in-anyway" type="button" class="secondary" hidden>Sign in here anyway</button>
</form>
<noscript><p class="alert">Signing in needs JavaScript: the page keeps your credentials in cookies that scripts cannot read.</p></noscript>
</main>`,
  });
}

function sessionRow(session: SessionRecord, currentId: string, now: number, index: number): SafeHtml {
  const current = session.id === currentId;
  const nameId = `session-${index}-name`;
  const time = (ms: number) =>
    html`<time datetime="${new Date(ms).toISOString()}" title="${fullTime(ms)}">${timeAgo(ms, now)}</time>`;
  return html`<li class="session${current ? ' current' : ''}" data-session-id="${session.id}" data-current="${current ? 'true' : 'false'}">
<div class="what"><h2 id="${nameId}">${describeUserAgent(session.userAgent)}</h2>${current ? html`<span class="badge">This device</span>` : ''}</div>
<dl>
<div><dt>IP</dt><dd>${session.ip || 'unknown'}</dd></div>
<div><dt>Created</dt><dd>${time(session.createdAt)}</dd></div>
<div><dt>Last seen</dt><dd>${time(session.lastSeenAt)}</dd></div>
</dl>
<button type="button" class="secondary" data-action="sign-out" aria-describedby="${nameId}">Sign out</button>
</li>`;
}

export interface AccountView {
  username: string;
  currentId: string;
  sessions: SessionRecord[];
  now: number;
}

export function renderAccountPage(assets: PageAssets, view: AccountView | undefined): string {
  if (!view) {
    return layout({
      title: 'Your sessions',
      page: 'account',
      state: 'renew',
      assets,
      main: html`<main id="main">
<h1 id="sessions-heading" tabindex="-1">Your sessions</h1>
<p id="status" class="status" role="status" aria-live="polite">Checking your session…</p>
<div id="form-error" class="alert" role="alert" tabindex="-1" hidden></div>
<noscript><p class="alert">This page needs JavaScript. <a href="/login?return_to=/account">Sign in</a></p></noscript>
</main>`,
    });
  }
  // The current session first, then the others, newest first.
  const ordered = [...view.sessions].sort(
    (a, b) => Number(b.id === view.currentId) - Number(a.id === view.currentId) || b.createdAt - a.createdAt,
  );
  const others = ordered.filter((s) => s.id !== view.currentId).length;
  return layout({
    title: 'Your sessions',
    page: 'account',
    assets,
    main: html`<main id="main">
<div class="heading">
<h1 id="sessions-heading" tabindex="-1">Your sessions</h1>
<p class="who">Signed in as <strong>${view.username}</strong></p>
</div>
<p id="status" class="status" role="status" aria-live="polite"></p>
<div id="form-error" class="alert" role="alert" tabindex="-1" hidden></div>
<ul class="sessions" aria-labelledby="sessions-heading">
${ordered.map((session, i) => sessionRow(session, view.currentId, view.now, i))}
</ul>
<div class="actions">
<button type="button" id="sign-out-others" data-action="sign-out-others"${others === 0 ? html` disabled` : ''}>Sign out everywhere else</button>
</div>
</main>`,
  });
}
