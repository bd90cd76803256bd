/// <reference lib="dom" />
import { createTesseraClient, type TesseraClient } from '@tessera/client';

/** The pages' client: cookie transfer on this origin, coordinated with the other tabs. */
export function pageClient(): TesseraClient {
  return createTesseraClient({ authUrl: window.location.origin, transfer: 'cookie' });
}

export function byId<T extends HTMLElement = HTMLElement>(id: string): T {
  const element = document.getElementById(id);
  if (!element) throw new Error(`#${id} is missing from the page`);
  return element as T;
}

/** Shows a message in the page's alert box and moves the focus there. */
export function showError(message: string): void {
  const box = byId('form-error');
  box.textContent = message;
  box.hidden = false;
  box.focus();
}

export function clearError(): void {
  const box = byId('form-error');
  box.textContent = '';
  box.hidden = true;
}

/** Announces `message` in the polite live region. */
export function announce(message: string): void {
  byId('status').textContent = message;
}

/** The login page, telling it why the session ended and where to come back to. */
export function loginUrl(code: string, returnTo = window.location.pathname): string {
  const params = new URLSearchParams({ ended: code, return_to: returnTo });
  return `/login?${params.toString()}`;
}

/** Text for a problem `code` from the auth service. */
export function describeProblem(code: string, retryAfterSeconds?: number): string {
  switch (code) {
    case 'invalid_credentials':
      return 'Wrong username or password.';
    case 'rate_limited': {
      const wait = retryAfterSeconds ?? 60;
      return `Too many failed attempts. Try again in ${wait} ${wait === 1 ? 'second' : 'seconds'}.`;
    }
    case 'session_exists':
      return 'You are already signed in on another device. Sign out there first, or sign in here anyway.';
    case 'store_unavailable':
      return 'The service is unavailable right now. Try again in a moment.';
    case 'network_error':
      return 'The server could not be reached. Check your connection and try again.';
    case 'csrf':
      return 'This request was refused because it did not come from this site. Reload the page.';
    case 'session_revoked':
    case 'session_expired':
    case 'invalid_token':
    case 'token_expired':
      return 'Your session has ended. Sign in again.';
    default:
      return 'Something went wrong. Try again.';
  }
}
