// #/organisation: the partner's profile; partner admins can edit phone and description. Below it the brand profile
// co-branded kits use (brand.js).
import { api, path } from '../api.js';
import { announce, badge, errorPanel, h, loading, timeEl } from '../dom.js';
import { LIMITS, bindForm, field, formAlert, maxLength } from '../forms.js';
import { countryName, partnerTypeLabel, statusLabel, statusTone } from '../reference.js';
import { brandSection } from './brand.js';

const PHONE = /^[0-9+() .-]+$/; // what the API accepts; plus at least five digits

export async function renderOrganisation(ctx) {
  const heading = h('h1', { tabindex: '-1', id: 'organisation-title' }, 'Organisation');
  const content = h('div', {}, loading('Loading your organisation…'));
  ctx.main.append(h('section', { class: 'page', 'aria-labelledby': 'organisation-title' }, heading, content));

  let partner;
  try {
    partner = await ctx.getPartner({ fresh: true });
  } catch (error) {
    if (!ctx.handleAuthErrors(error)) {
      content.replaceChildren(errorPanel(`We could not load your organisation. ${error.message}`, ctx.rerender));
    }
    return;
  }
  if (!ctx.isCurrent()) return;
  heading.textContent = partner.company_name || 'Organisation';
  render(ctx, content, partner);
}

function render(ctx, content, partner, { saved = false } = {}) {
  const isAdmin = ctx.isPartnerAdmin();
  const contact = partner.primary_contact || {};
  const row = (label, key, value) => [h('dt', {}, label), h('dd', { 'data-testid': `profile-${key}` }, value ?? '—')];
  const contactCard = h(
    'section',
    { class: 'card', 'aria-labelledby': 'contact-heading' },
    h('h2', { id: 'contact-heading' }, 'Contact'),
    saved ? h('p', { class: 'notice notice-ok', role: 'status', 'data-testid': 'profile-saved' }, 'Changes saved.') : null,
    h(
      'dl',
      { class: 'summary' },
      row(
        'Primary contact',
        'primary_contact',
        contact.name || contact.email ? `${contact.name || ''}${contact.email ? ` <${contact.email}>` : ''}`.trim() : null,
      ),
      row('Phone', 'phone', partner.phone || null),
      row('Description', 'description', partner.description ? h('span', { class: 'pre' }, partner.description) : null),
    ),
  );
  if (isAdmin) {
    const editButton = h(
      'button',
      {
        type: 'button',
        class: 'button',
        'data-testid': 'edit-profile',
        onclick: () => {
          const form = editForm(ctx, content, partner, () => {
            form.replaceWith(editButton);
            editButton.focus();
          });
          editButton.replaceWith(form);
          form.querySelector('#phone').focus();
        },
      },
      'Edit phone and description',
    );
    contactCard.append(editButton);
  } else {
    contactCard.append(
      h('p', { class: 'muted' }, 'Partner admins in your organisation can change the phone number and description.'),
    );
  }
  content.replaceChildren(
    h(
      'div',
      { class: 'status-line' },
      badge(statusLabel(partner.status), statusTone(partner.status), 'profile-status'),
      h('span', { class: 'muted' }, ' Tier '),
      h('strong', { 'data-testid': 'profile-tier' }, partner.tier || '—'),
    ),
    h(
      'div',
      { class: 'grid-2' },
      h(
        'section',
        { class: 'card', 'aria-labelledby': 'company-heading' },
        h('h2', { id: 'company-heading' }, 'Company'),
        h(
          'dl',
          { class: 'summary' },
          row('Company name', 'company_name', partner.company_name),
          row('Domain', 'domain', partner.domain),
          row('Website', 'website', partner.website),
          row('Country', 'country', partner.country ? `${countryName(partner.country)} (${partner.country})` : null),
          row('Partner type', 'partner_type', partnerTypeLabel(partner.partner_type)),
          row('Partner since', 'onboarded_at', timeEl(partner.onboarded_at, { dateOnly: true })),
          row('Partner ID', 'partner_id', h('code', {}, partner.partner_id)),
        ),
      ),
      contactCard,
    ),
    brandSection(ctx),
  );
}

function editForm(ctx, content, partner, close) {
  const form = h(
    'form',
    { class: 'form', novalidate: true, 'data-testid': 'profile-form', 'aria-labelledby': 'edit-heading' },
    h('h3', { id: 'edit-heading' }, 'Edit phone and description'),
    formAlert(),
    field({
      id: 'phone',
      label: 'Phone',
      type: 'tel',
      optional: true,
      hint: 'International format, for example +44 20 7946 0000.',
      attrs: { autocomplete: 'tel', value: partner.phone || '' },
    }),
    field({
      id: 'description',
      label: 'Description',
      control: 'textarea',
      optional: true,
      hint: `What your company does, in up to ${LIMITS.description} characters.`,
      attrs: { rows: 4, value: partner.description || '' },
    }),
    h(
      'div',
      { class: 'actions' },
      h('button', { type: 'submit', class: 'button button-primary' }, 'Save changes'),
      h('button', { type: 'button', class: 'button button-link', onclick: () => close() }, 'Cancel'),
    ),
  );
  const controller = bindForm(form, {
    validators: {
      phone: (v) => {
        const value = v.trim();
        if (!value) return '';
        return (
          maxLength(value, LIMITS.phone, 'Phone') ||
          (PHONE.test(value) && value.replace(/\D/g, '').length >= 5
            ? ''
            : 'Enter a phone number such as +44 20 7946 0000.')
        );
      },
      description: (v) => maxLength(v, LIMITS.description, 'Description'),
    },
    busyLabel: 'Saving…',
    onSubmit: async () => {
      const changes = {};
      const phone = form.elements.phone.value.trim() || null;
      const description = form.elements.description.value.trim() || null;
      if (phone !== (partner.phone || null)) changes.phone = phone;
      if (description !== (partner.description || null)) changes.description = description;
      if (!Object.keys(changes).length) {
        controller.showAlert('Nothing to save: the details are unchanged.', 'info');
        return;
      }
      const body = JSON.stringify(changes);
      try {
        const updated = await api.patch(path`/partners/${partner.partner_id}`, body);
        ctx.setPartner(updated);
        render(ctx, content, updated, { saved: true });
        content.querySelector('[data-testid="edit-profile"]')?.focus();
        announce('Changes saved.');
      } catch (error) {
        if (ctx.handleAuthErrors(error)) return;
        if (error.fieldErrors?.length) controller.showServerErrors(error, { phone: 'phone', description: 'description' });
        else controller.showAlert(error.isNetwork || error.status >= 500 ? `${error.message} Select “Save changes” to try again.` : error.message);
      }
    },
  });
  return form;
}
