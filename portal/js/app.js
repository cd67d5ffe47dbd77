// The router: hash routes, the sign-in and agreement guards, the header and navigation.
import { ApiError, api, configureApi, path } from './api.js';
import * as auth from './auth.js';
import { loadConfig, programmeName } from './config.js';
import { errorPanel, h, loading } from './dom.js';
import { renderAgreement } from './views/agreement.js';
import { renderApply } from './views/apply.js';
import { renderContent } from './views/content.js';
import {
  renderContentAdmin,
  renderContentAssetAdmin,
  renderContentKitsAdmin,
  renderContentStatsAdmin,
} from './views/content-admin.js';
import { renderDeal } from './views/deal.js';
import { renderNewDeal } from './views/deal-new.js';
import { renderDeals } from './views/deals.js';
import { renderFunds } from './views/mdf.js';
import { renderMdfAdmin } from './views/mdf-admin.js';
import { renderMdfRequest } from './views/mdf-request.js';
import { renderNewMdfRequest } from './views/mdf-request-new.js';
import { renderMdfRequests } from './views/mdf-requests.js';
import { renderOrganisation } from './views/organisation.js';
import { renderProgramme } from './views/programme.js';
import { renderProgrammeAdmin } from './views/programme-admin.js';
import { renderRewards } from './views/rewards.js';
import {
  renderRewardsAdmin,
  renderRewardsAttentionAdmin,
  renderRewardsCatalogueAdmin,
  renderRewardsPayoutsAdmin,
} from './views/rewards-admin.js';
import { renderSignIn } from './views/signin.js';
import { renderTraining } from './views/training.js';
import { renderTrainingAdmin } from './views/training-admin.js';
import { renderTrainingCatalogueAdmin } from './views/training-catalogue-admin.js';
import { renderTrainingConnectionsAdmin } from './views/training-connections-admin.js';
import { renderUsers } from './views/users.js';

const RETURN_KEY = 'prm.returnTo';
const HOME = '/organisation';
const VENDOR_HOME = '/admin/mdf'; // vendor staff have no organisation page

const ROUTES = {
  '/apply': { title: 'Become a partner', render: renderApply, public: true },
  '/signin': { title: 'Sign in', render: renderSignIn, public: true, guestOnly: true },
  '/agreement': { title: 'Programme agreement', render: renderAgreement },
  '/organisation': { title: 'Organisation', render: renderOrganisation, nav: 'Organisation' },
  '/users': { title: 'Users', render: renderUsers, nav: 'Users' },
  '/deals': { title: 'Deals', render: renderDeals, nav: 'Deals' },
  '/deals/new': { title: 'Register a deal', render: renderNewDeal, section: '/deals' },
  '/mdf': { title: 'Market development funds', render: renderFunds, nav: 'MDF' },
  '/mdf/requests': { title: 'Fund requests', render: renderMdfRequests, section: '/mdf' },
  '/mdf/requests/new': { title: 'Request funds', render: renderNewMdfRequest, section: '/mdf' },
  '/programme': { title: 'Programme', render: renderProgramme, nav: 'Programme' },
  '/training': { title: 'Training', render: renderTraining, nav: 'Training' },
  '/rewards': { title: 'Rewards', render: renderRewards, nav: 'Rewards' },
  '/content': { title: 'Content library', render: renderContent, nav: 'Library', navId: 'content' },
  // Vendor-admin pages: no partner organisation (and so no agreement) needed.
  '/admin/mdf': {
    title: 'MDF administration',
    render: renderMdfAdmin,
    nav: 'MDF admin',
    navId: 'mdf-admin',
    vendorAdmin: true,
  },
  '/admin/training': {
    title: 'Training review',
    render: renderTrainingAdmin,
    nav: 'Training review',
    navId: 'training-admin',
    vendorAdmin: true,
  },
  '/admin/training/catalogue': {
    title: 'Training catalogue',
    render: renderTrainingCatalogueAdmin,
    nav: 'Training catalogue',
    navId: 'training-catalogue',
    vendorAdmin: true,
  },
  '/admin/training/connections': {
    title: 'LMS connections and imports',
    render: renderTrainingConnectionsAdmin,
    nav: 'LMS & imports',
    navId: 'training-connections',
    vendorAdmin: true,
  },
  '/admin/programme': {
    title: 'Programme administration',
    render: renderProgrammeAdmin,
    nav: 'Programme admin',
    navId: 'programme-admin',
    vendorAdmin: true,
  },
  '/admin/rewards': {
    title: 'Rewards administration',
    render: renderRewardsAdmin,
    nav: 'Rewards admin',
    navId: 'rewards-admin',
    vendorAdmin: true,
  },
  '/admin/rewards/attention': {
    title: 'Rewards needing attention',
    render: renderRewardsAttentionAdmin,
    section: '/admin/rewards',
    vendorAdmin: true,
  },
  '/admin/rewards/catalogue': {
    title: 'Rewards catalogue',
    render: renderRewardsCatalogueAdmin,
    section: '/admin/rewards',
    vendorAdmin: true,
  },
  '/admin/rewards/payouts': {
    title: 'Payouts and tax forms',
    render: renderRewardsPayoutsAdmin,
    section: '/admin/rewards',
    vendorAdmin: true,
  },
  '/admin/content': {
    title: 'Content administration',
    render: renderContentAdmin,
    nav: 'Content admin',
    navId: 'content-admin',
    vendorAdmin: true,
  },
  '/admin/content/kits': {
    title: 'Co-branded kits',
    render: renderContentKitsAdmin,
    section: '/admin/content',
    vendorAdmin: true,
  },
  '/admin/content/stats': {
    title: 'Content downloads',
    render: renderContentStatsAdmin,
    section: '/admin/content',
    vendorAdmin: true,
  },
};

// Routes with a parameter, tried after the exact routes above (so `/deals/new` is never a deal id).
const PATTERNS = [
  {
    pattern: /^\/deals\/([^/]{1,200})$/,
    params: ['dealId'],
    def: { title: 'Deal', render: renderDeal, section: '/deals' },
  },
  {
    pattern: /^\/admin\/content\/assets\/([^/]{1,200})$/,
    params: ['assetId'],
    def: { title: 'Asset', render: renderContentAssetAdmin, section: '/admin/content', vendorAdmin: true },
  },
  {
    pattern: /^\/mdf\/requests\/([^/]{1,200})$/,
    params: ['requestId'],
    // Vendor admins read any partner's request too (read-only, under their own section `vendorReads`).
    def: { title: 'Fund request', render: renderMdfRequest, section: '/mdf', vendorReads: '/admin/mdf' },
  },
];

/** The route definition and parameters for a path, or null. */
function resolve(target) {
  if (Object.hasOwn(ROUTES, target)) return { def: ROUTES[target], params: {} };
  for (const { pattern, def, params } of PATTERNS) {
    const match = pattern.exec(target);
    if (!match) continue;
    try {
      return { def, params: Object.fromEntries(params.map((name, i) => [name, decodeURIComponent(match[i + 1])])) };
    } catch {
      return null; // a malformed %-escape
    }
  }
  return null;
}

const state = { config: null, me: null, partner: null, partnerSeq: 0, flash: '', seq: 0, firstRender: true };

const main = document.getElementById('main');
const header = document.getElementById('site-header');
const nav = document.getElementById('site-nav');

function currentPath() {
  const raw = location.hash.replace(/^#/, '').split('?')[0];
  return raw.startsWith('/') ? raw : '';
}

function go(target, { replace = false } = {}) {
  if (currentPath() === target) {
    route();
  } else if (replace) {
    location.replace(`#${target}`);
  } else {
    location.hash = target;
  }
}

function resetSession() {
  state.me = null;
  state.partner = null;
}

function signOut(message = 'You have signed out.') {
  auth.signOut();
  resetSession();
  sessionStorage.removeItem(RETURN_KEY);
  state.flash = message;
  go('/signin');
}

function sessionEnded(message) {
  const here = currentPath();
  auth.signOut();
  resetSession();
  if (here && !resolve(here)?.def.public) sessionStorage.setItem(RETURN_KEY, here);
  state.flash = message || 'Your session has ended. Please sign in again.';
  go('/signin', { replace: true });
}

function takeReturnPath() {
  const target = sessionStorage.getItem(RETURN_KEY);
  sessionStorage.removeItem(RETURN_KEY);
  const found = target && resolve(target);
  return found && !found.def.public ? target : HOME;
}

function isPartnerAdmin() {
  return (state.me?.roles || []).includes('partner-admin');
}

function isVendorAdmin() {
  return (state.me?.roles || []).includes('vendor-admin');
}

/** Where "home" is for the signed-in user: vendor staff without an organisation start on their admin page. */
function homeFor() {
  return state.me && !state.me.partner_id && isVendorAdmin() ? VENDOR_HOME : HOME;
}

/**
 * Whether this page is read as vendor staff: by a vendor admin on a page that allows it (`vendorReads`), always
 * without an organisation, otherwise when opened from the admin page (`?partner=` in the hash).
 */
function readsAsVendor(def) {
  return Boolean(def?.vendorReads && isVendorAdmin() && (!state.me?.partner_id || hashQuery().has('partner')));
}

/** Navigation entries this user may follow: partner pages need an organisation, vendor pages the group. */
function canSee(def) {
  if (def.vendorAdmin) return isVendorAdmin();
  return Boolean(state.me?.partner_id);
}

/** The caller's organisation; `fresh` re-reads it unless it was already read for this same page view. */
async function getPartner({ fresh = false } = {}, seq = state.seq) {
  if (!state.partner || (fresh && state.partnerSeq !== seq)) {
    state.partner = await api.get(path`/partners/${state.me.partner_id}`);
    state.partnerSeq = seq;
    renderHeader();
  }
  return state.partner;
}

// ------------------------------------------------------------------ header and navigation

function renderHeader(activePath = currentPath()) {
  const footer = document.querySelector('[data-programme]');
  if (footer) footer.textContent = programmeName();
  const activeDef = resolve(activePath)?.def;
  const activeSection = (readsAsVendor(activeDef) ? activeDef.vendorReads : activeDef?.section) || activePath;
  const signedIn = auth.isSignedIn();
  const email = state.me?.email || auth.currentUser()?.email || '';
  header.replaceChildren(
    h(
      'div',
      { class: 'container header-inner' },
      h(
        'p',
        { class: 'brand' },
        h('span', { class: 'brand-mark', 'aria-hidden': 'true' }),
        h('a', { href: signedIn ? `#${homeFor()}` : '#/signin', class: 'brand-link' }, programmeName()),
      ),
      signedIn
        ? h(
            'div',
            { class: 'account' },
            state.partner?.company_name
              ? h('span', { class: 'org-name', 'data-testid': 'header-org-name' }, state.partner.company_name)
              : null,
            h('span', { class: 'user-email', 'data-testid': 'header-user-email' }, email),
            h(
              'button',
              { type: 'button', id: 'sign-out', class: 'button button-small', onclick: () => signOut() },
              'Sign out',
            ),
          )
        : null,
    ),
  );
  const showNav = Boolean(
    signedIn && (state.me?.partner_id || isVendorAdmin()) && !state.me?.agreement?.required,
  );
  nav.hidden = !showNav;
  nav.replaceChildren(
    showNav
      ? h(
          'div',
          { class: 'container' },
          h(
            'ul',
            {},
            Object.entries(ROUTES)
              .filter(([, def]) => def.nav && canSee(def))
              .map(([target, def]) =>
                h(
                  'li',
                  {},
                  h(
                    'a',
                    {
                      href: `#${target}`,
                      // The section's entry is current on its sub-pages too (a deal, the registration form).
                      'aria-current': target === activePath ? 'page' : target === activeSection ? 'true' : null,
                      'data-testid': `nav-${def.navId || target.slice(1)}`,
                    },
                    def.nav,
                  ),
                ),
              ),
          ),
        )
      : [],
  );
}

// ------------------------------------------------------------------ routing

function setTitle(title) {
  document.title = `${title} · ${programmeName()}`;
}

function show(...nodes) {
  main.replaceChildren(...nodes);
  main.removeAttribute('aria-busy');
}

async function route() {
  const seq = ++state.seq;
  const isCurrent = () => seq === state.seq;
  const target = currentPath();
  const found = resolve(target);
  const def = found?.def;
  if (!def) {
    go(auth.isSignedIn() ? HOME : '/signin', { replace: true });
    return;
  }

  if (!state.config) {
    try {
      state.config = await loadConfig();
    } catch (error) {
      if (!isCurrent()) return;
      renderHeader();
      show(errorPanel(error.message, () => route(), { title: 'The portal could not start' }));
      return;
    }
    auth.configureAuth(state.config);
    configureApi(state.config, { onUnauthorized: sessionEnded });
  }

  if (def.public) {
    if (def.guestOnly && auth.isSignedIn()) {
      go(HOME, { replace: true });
      return;
    }
    return mount(def, seq, found.params);
  }

  if (!auth.isSignedIn()) {
    sessionStorage.setItem(RETURN_KEY, target);
    go('/signin', { replace: true });
    return;
  }

  if (!state.me) {
    main.setAttribute('aria-busy', 'true');
    show(loading());
    try {
      state.me = await api.get('/me');
    } catch (error) {
      if (!isCurrent() || error.status === 401) return;
      renderHeader();
      show(errorPanel(`We could not load your account. ${error.message}`, () => route()));
      return;
    }
    if (!isCurrent()) return;
  }

  if (def.vendorAdmin) {
    if (isVendorAdmin()) return mount(def, seq, found.params);
    renderHeader(target);
    setTitle(def.title);
    show(
      h(
        'section',
        { class: 'page page-narrow' },
        h('h1', { tabindex: '-1' }, def.title),
        h(
          'p',
          { class: 'notice', 'data-testid': 'not-vendor-admin' },
          'This page is for the vendor’s programme administrators.',
        ),
      ),
    );
    return;
  }

  // Vendor staff read a partner's record without the partner's guards (they accept no partner agreement).
  if (readsAsVendor(def)) return mount(def, seq, found.params);

  if (!state.me.partner_id && isVendorAdmin()) {
    go(VENDOR_HOME, { replace: true });
    return;
  }

  if (!state.me.partner_id) {
    renderHeader(target);
    setTitle('Partner portal');
    show(
      h(
        'section',
        { class: 'page page-narrow' },
        h('h1', { tabindex: '-1' }, 'Partner portal'),
        h(
          'p',
          { class: 'notice', 'data-testid': 'no-partner' },
          'Your account is not linked to a partner organisation, so there is nothing to show here. ' +
            'Vendor staff administer the programme through the vendor tools.',
        ),
      ),
    );
    return;
  }

  // The agreement gate: until the current agreement is accepted every route leads to #/agreement.
  if (state.me.agreement?.required && target !== '/agreement') {
    sessionStorage.setItem(RETURN_KEY, target);
    go('/agreement', { replace: true });
    return;
  }

  if (!state.me.agreement?.required && !state.partner) {
    try {
      await getPartner({}, seq);
    } catch (error) {
      // The header simply goes without the organisation name; the pages report their own failures.
      if (error.code === 'agreement_required') return agreementRequired();
      if (error.status === 401) return;
    }
    if (!isCurrent()) return;
  }
  return mount(def, seq, found.params);
}

function agreementRequired() {
  if (state.me) state.me = { ...state.me, agreement: { ...state.me.agreement, required: true } };
  state.partner = null;
  const here = currentPath();
  if (here !== '/agreement') sessionStorage.setItem(RETURN_KEY, here);
  go('/agreement', { replace: true });
}

/** The query part of the hash (`#/deals?status=approved` -> status=approved). */
function hashQuery() {
  const raw = location.hash.replace(/^#/, '');
  const at = raw.indexOf('?');
  return new URLSearchParams(at === -1 ? '' : raw.slice(at + 1));
}

async function mount(def, seq, params = {}) {
  const focusHeading = !state.firstRender;
  state.firstRender = false;
  renderHeader();
  setTitle(def.title);
  show();
  const ctx = {
    main,
    config: state.config,
    me: state.me,
    params,
    query: hashQuery(),
    /** The page is read by vendor staff (see readsAsVendor): no partner actions, the way back to their page. */
    vendorView: readsAsVendor(def),
    /** Record the page's own state in the hash query without a new route (no re-render, no history entry). */
    setQuery(values) {
      const query = new URLSearchParams(
        Object.entries(values).filter(([, value]) => value !== null && value !== undefined && value !== ''),
      ).toString();
      history.replaceState(history.state, '', `#${currentPath()}${query ? `?${query}` : ''}`);
    },
    isCurrent: () => seq === state.seq,
    rerender: () => route(),
    setTitle,
    go,
    isPartnerAdmin,
    getPartner: (options) => getPartner(options, seq),
    setPartner(partner) {
      state.partner = partner;
      renderHeader();
    },
    takeFlash() {
      const message = state.flash;
      state.flash = '';
      return message;
    },
    setFlash(message) {
      state.flash = message;
    },
    async signedIn() {
      resetSession();
      go(takeReturnPath());
    },
    async agreementAccepted() {
      state.me = null;
      state.partner = null;
      go(takeReturnPath());
    },
    /** Redirects for 401/agreement_required; returns true when the error was handled that way. */
    handleAuthErrors(error) {
      if (!(error instanceof ApiError)) return false;
      if (error.status === 401) return true;
      if (error.code === 'agreement_required') {
        agreementRequired();
        return true;
      }
      return false;
    },
  };
  try {
    await def.render(ctx);
  } catch (error) {
    console.error(error);
    if (seq === state.seq) {
      show(errorPanel('This page could not be shown. Please try again.', () => route()));
    }
    return;
  }
  if (focusHeading && seq === state.seq) {
    const heading = main.querySelector('h1');
    if (heading && !main.contains(document.activeElement)) heading.focus({ preventScroll: false });
  }
}

// ------------------------------------------------------------------ start

document.querySelector('[data-skip-link]')?.addEventListener('click', (event) => {
  event.preventDefault();
  main.focus();
});
window.addEventListener('hashchange', () => route());
route();
