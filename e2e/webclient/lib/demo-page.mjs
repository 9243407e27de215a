// demo-page.mjs drives the demo page (web/index.html, web/demo.js) as a
// person would, by its elements: signing in, the contact list, the call
// card. Shared by demo.test.mjs (the page against run.sh's gateway) and
// demo-script.test.mjs (the page of `make demo`).
import assert from 'node:assert/strict';
import path from 'node:path';
import { screenshotDir } from './harness.mjs';

export const DESKTOP = { width: 1280, height: 800 };
export const PHONE = { width: 390, height: 844 };

/** shot saves a screenshot of page as artifacts/screenshots/NAME.png (or under $ARTIFACTS_DIR). */
export async function shot(page, name) {
  await page.screenshot({ path: path.join(screenshotDir(), `${name}.png`) });
  // Every state fits the viewport's width: nothing to scroll sideways,
  // on a phone either.
  const { scrollWidth, innerWidth } = await page.evaluate(() => ({ scrollWidth: document.documentElement.scrollWidth, innerWidth: window.innerWidth }));
  if (scrollWidth > innerWidth) throw new Error(`${name}: the page is ${scrollWidth} px wide in a ${innerWidth} px viewport (see ${name}.png)`);
}

/** signedIn waits until the page shows the app, connected; resolves with the user's full JID. */
async function signedIn(page, timeout) {
  try {
    await page.locator('#app').waitFor({ state: 'visible', timeout });
    await page.locator('#conn[data-state="connected"]').waitFor({ timeout });
  } catch (e) {
    const why = await page.evaluate(() => `sign-in error "${document.getElementById('signin-error').textContent}", connection "${document.getElementById('conn').dataset.state}"`).catch(() => '');
    throw new Error(`not signed in within ${timeout} ms (${why}): ${e.message.split('\n')[0]}`);
  }
  return page.evaluate(() => document.getElementById('me-name').title);
}

/**
 * signInWithToken opens the page as /#token=TOKEN (any gateway, demo mode or
 * not) and waits until it is online; the token must leave the address bar.
 * Resolves with the user's full JID.
 */
export async function signInWithToken(page, origin, token, { timeout = 15000 } = {}) {
  await page.goto(`${origin}/#token=${encodeURIComponent(token)}`);
  const jid = await signedIn(page, timeout);
  assert.equal(new URL(page.url()).hash, '');
  return jid;
}

/**
 * signInByName signs in by typing a name and clicking "Sign in" (demo mode:
 * the page asks the gateway for a token, POST /demo/token). Resolves with the
 * user's full JID.
 */
export async function signInByName(page, origin, name, { timeout = 15000 } = {}) {
  await page.goto(`${origin}/`);
  await page.fill('#user', name);
  await page.click('#signin-form button[type="submit"]');
  return signedIn(page, timeout);
}

/** contactRow is the contact list's row of bare JID jid. */
export const contactRow = (page, jid) => page.locator(`#roster .contact[data-jid="${jid}"]`);

/** rosterText describes the contact list as the page shows it (for error messages). */
export const rosterText = (page) =>
  page
    .evaluate(() =>
      [...document.querySelectorAll('#roster .contact')]
        .map((li) => `${li.dataset.jid} (${li.querySelector('.presence').dataset.show}; ${li.querySelector('.status').textContent || li.querySelector('.jid').textContent})`)
        .join(', ') || 'no contacts',
    )
    .catch((e) => `unreadable: ${e.message}`);

/**
 * waitCallable waits until jid is in the contact list, online, able to do
 * video, with its video call button enabled.
 */
export async function waitCallable(page, jid, { timeout = 15000 } = {}) {
  const row = contactRow(page, jid);
  const steps = [
    ['in the contact list', row],
    ['online', row.locator('.presence[data-show="available"]')],
    ['able to do video', row.locator('.cap-video[data-on="true"]')],
    ['callable (its video call button enabled)', row.locator('.call-video:not([disabled])')],
  ];
  const end = Date.now() + timeout;
  for (const [what, loc] of steps) {
    try {
      await loc.first().waitFor({ timeout: Math.max(1, end - Date.now()) });
    } catch {
      throw new Error(`${jid} is not ${what} within ${timeout} ms; the contact list: ${await rosterText(page)}`);
    }
  }
  return row;
}

/** callState is the call card's state: idle, calling, ringing, connecting, active. */
export const callState = (page) => page.getAttribute('#call', 'data-state');

/** waitCallState waits until the call card is in one of states (a string or an array). */
export async function waitCallState(page, states, { timeout = 20000 } = {}) {
  const list = [].concat(states);
  try {
    await page.locator(list.map((s) => `#call[data-state="${s}"]`).join(', ')).waitFor({ timeout });
  } catch {
    const now = await page.evaluate(() => `${document.getElementById('call').dataset.state}: "${document.getElementById('call-state').textContent}"; toasts: ${[...document.querySelectorAll('.toast')].map((t) => t.textContent).join(' | ')}`).catch(() => '?');
    throw new Error(`the call is not ${list.join(' or ')} within ${timeout} ms (it is ${now})`);
  }
}
