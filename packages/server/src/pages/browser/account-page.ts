/// <reference lib="dom" />
import { TesseraClientError } from '@tessera/client';
import { announce, byId, clearError, describeProblem, loginUrl, pageClient, showError } from './dom.ts';

/** `/account`: sign-out buttons, and the login page as soon as the session ends anywhere. */
export function startAccountPage(): void {
  const client = pageClient();
  let leaving = false;
  const leave = (code: string) => {
    if (leaving) return;
    leaving = true;
    client.close();
    window.location.replace(loginUrl(code));
  };
  client.onSignedOut(({ code }) => leave(code));
  // Leaving the page closes its stream: no probe or refresh from a page that is going away.
  window.addEventListener('pagehide', () => client.close());
  window.addEventListener('pageshow', (event) => {
    if (event.persisted) window.location.reload(); // back from the page cache: the list may be stale
  });

  if (document.body.dataset.state === 'renew') {
    // The server saw no usable access cookie: refresh (once for every tab) and render again.
    client
      .fetch('/v1/session')
      .then((response) => {
        if (response.ok) window.location.reload();
        else leave('session_expired');
      })
      .catch(() => showError(describeProblem('network_error')));
    return;
  }
  client.watchSession();

  const fail = (error: unknown) => {
    const code = error instanceof TesseraClientError ? error.code : 'network_error';
    showError(describeProblem(code));
  };

  async function signOutSession(button: HTMLButtonElement): Promise<void> {
    const row = button.closest<HTMLElement>('[data-session-id]');
    const id = row?.dataset.sessionId;
    if (!row || !id) return;
    clearError();
    if (row.dataset.current === 'true') {
      await client.logout(); // tells every tab; `leave` runs from onSignedOut
      return;
    }
    button.disabled = true;
    const response = await client.fetch(`/v1/sessions/${encodeURIComponent(id)}`, { method: 'DELETE' });
    if (!response.ok && response.status !== 404) {
      button.disabled = false;
      throw new TesseraClientError(response.status, 'http_error', 'sign-out failed');
    }
    const name = row.querySelector('h2')?.textContent ?? 'The session';
    row.remove();
    announce(`${name} was signed out.`);
    byId('sessions-heading').focus();
    updateOthersButton();
  }

  async function signOutOthers(button: HTMLButtonElement): Promise<void> {
    clearError();
    button.disabled = true;
    const rows = Array.from(document.querySelectorAll<HTMLElement>('[data-session-id]')).filter(
      (row) => row.dataset.current !== 'true',
    );
    for (const row of rows) {
      const id = row.dataset.sessionId as string;
      const response = await client.fetch(`/v1/sessions/${encodeURIComponent(id)}`, { method: 'DELETE' });
      if (!response.ok && response.status !== 404) {
        button.disabled = false;
        throw new TesseraClientError(response.status, 'http_error', 'sign-out failed');
      }
      row.remove();
    }
    announce(
      rows.length === 1
        ? 'One other session was signed out.'
        : `${rows.length} other sessions were signed out.`,
    );
    byId('sessions-heading').focus();
    updateOthersButton();
  }

  function updateOthersButton(): void {
    const others = document.querySelectorAll('[data-session-id]:not([data-current="true"])').length;
    byId<HTMLButtonElement>('sign-out-others').disabled = others === 0;
  }

  document.addEventListener('click', (event) => {
    const button = (event.target as Element | null)?.closest<HTMLButtonElement>('button[data-action]');
    if (!button) return;
    const action = button.dataset.action === 'sign-out-others' ? signOutOthers : signOutSession;
    action(button).catch(fail);
  });
}
