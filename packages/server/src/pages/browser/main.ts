/// <reference lib="dom" />
import { startAccountPage } from './account-page.ts';
import { startLoginPage } from './login-page.ts';

// The one script of the pages (served as /pages/pages.js under a CSP without 'unsafe-inline').
const page = document.body.dataset.page;
if (page === 'login') startLoginPage();
else if (page === 'account') startAccountPage();
