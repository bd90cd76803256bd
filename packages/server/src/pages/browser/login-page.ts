/// <reference lib="dom" />
import { TesseraClientError } from '@tessera/client';
import { byId, clearError, describeProblem, pageClient, showError } from './dom.ts';

function fieldError(input: HTMLInputElement, message: string | undefined): void {
  const note = byId(`${input.id}-error`);
  note.textContent = message ?? '';
  note.hidden = message === undefined;
  if (message === undefined) input.removeAttribute('aria-invalid');
  else input.setAttribute('aria-invalid', 'true');
}

/** `/login`: signs in with cookie transfer and goes to the (server-checked) `return_to`. */
export function startLoginPage(): void {
  const form = byId<HTMLFormElement>('login');
  const username = byId<HTMLInputElement>('username');
  const password = byId<HTMLInputElement>('password');
  const submit = byId<HTMLButtonElement>('sign-in');
  const force = byId<HTMLButtonElement>('sign-in-anyway');
  const returnTo = form.dataset.returnTo ?? '/account';
  const client = pageClient();

  async function signIn(forceLogin: boolean): Promise<void> {
    clearError();
    const missing: HTMLInputElement[] = [];
    for (const [input, label] of [
      [username, 'Username'],
      [password, 'Password'],
    ] as const) {
      const empty = input.value.trim() === '';
      fieldError(input, empty ? `Enter your ${label.toLowerCase()}.` : undefined);
      if (empty) missing.push(input);
    }
    if (missing[0]) {
      missing[0].focus();
      return;
    }
    submit.disabled = true;
    form.setAttribute('aria-busy', 'true');
    try {
      await client.login(username.value.trim(), password.value, forceLogin ? { force: true } : {});
      window.location.assign(returnTo);
    } catch (error) {
      const code = error instanceof TesseraClientError ? error.code : 'error';
      const wait = error instanceof TesseraClientError ? error.retryAfterSeconds : undefined;
      force.hidden = code !== 'session_exists';
      if (code === 'invalid_credentials') password.value = '';
      showError(describeProblem(code, wait));
      submit.disabled = false;
      form.removeAttribute('aria-busy');
    }
  }

  form.addEventListener('submit', (event) => {
    event.preventDefault();
    void signIn(false);
  });
  force.addEventListener('click', () => {
    void signIn(true);
  });
}
