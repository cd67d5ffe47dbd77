// Reference data for the forms: ISO 3166-1 alpha-2 countries, ISO 4217 currencies (with their minor-unit
// exponent) and the programme's partner types and roles.

export const COUNTRIES = [
  ['AR', 'Argentina'], ['AU', 'Australia'], ['AT', 'Austria'], ['BE', 'Belgium'], ['BR', 'Brazil'],
  ['BG', 'Bulgaria'], ['CA', 'Canada'], ['CL', 'Chile'], ['CN', 'China'], ['CO', 'Colombia'],
  ['HR', 'Croatia'], ['CY', 'Cyprus'], ['CZ', 'Czechia'], ['DK', 'Denmark'], ['EG', 'Egypt'],
  ['EE', 'Estonia'], ['FI', 'Finland'], ['FR', 'France'], ['DE', 'Germany'], ['GR', 'Greece'],
  ['HK', 'Hong Kong'], ['HU', 'Hungary'], ['IS', 'Iceland'], ['IN', 'India'], ['ID', 'Indonesia'],
  ['IE', 'Ireland'], ['IL', 'Israel'], ['IT', 'Italy'], ['JP', 'Japan'], ['KE', 'Kenya'],
  ['KR', 'Korea, Republic of'], ['LV', 'Latvia'], ['LT', 'Lithuania'], ['LU', 'Luxembourg'],
  ['MY', 'Malaysia'], ['MT', 'Malta'], ['MX', 'Mexico'], ['MA', 'Morocco'], ['NL', 'Netherlands'],
  ['NZ', 'New Zealand'], ['NG', 'Nigeria'], ['NO', 'Norway'], ['PE', 'Peru'], ['PH', 'Philippines'],
  ['PL', 'Poland'], ['PT', 'Portugal'], ['QA', 'Qatar'], ['RO', 'Romania'], ['SA', 'Saudi Arabia'],
  ['RS', 'Serbia'], ['SG', 'Singapore'], ['SK', 'Slovakia'], ['SI', 'Slovenia'], ['ZA', 'South Africa'],
  ['ES', 'Spain'], ['SE', 'Sweden'], ['CH', 'Switzerland'], ['TW', 'Taiwan'], ['TH', 'Thailand'],
  ['TR', 'Türkiye'], ['UA', 'Ukraine'], ['AE', 'United Arab Emirates'], ['GB', 'United Kingdom'],
  ['US', 'United States'], ['VN', 'Viet Nam'],
].sort((a, b) => a[1].localeCompare(b[1], 'en'));

const COUNTRY_NAMES = new Map(COUNTRIES);

export function countryName(code) {
  if (!code) return '';
  return COUNTRY_NAMES.get(code) || code;
}

// [code, name, minor-unit digits] per ISO 4217; the currencies the API accepts (shared/money.py).
export const CURRENCIES = [
  ['USD', 'US dollar', 2], ['EUR', 'Euro', 2], ['GBP', 'Pound sterling', 2], ['JPY', 'Yen', 0],
  ['CHF', 'Swiss franc', 2], ['CAD', 'Canadian dollar', 2], ['AUD', 'Australian dollar', 2],
  ['NZD', 'New Zealand dollar', 2], ['SEK', 'Swedish krona', 2], ['NOK', 'Norwegian krone', 2],
  ['DKK', 'Danish krone', 2], ['PLN', 'Zloty', 2], ['CZK', 'Czech koruna', 2], ['INR', 'Indian rupee', 2],
  ['HUF', 'Forint', 2], ['CNY', 'Yuan renminbi', 2], ['HKD', 'Hong Kong dollar', 2],
  ['TWD', 'New Taiwan dollar', 2], ['SGD', 'Singapore dollar', 2], ['KRW', 'Won', 0],
  ['BRL', 'Brazilian real', 2], ['MXN', 'Mexican peso', 2], ['ZAR', 'Rand', 2], ['AED', 'UAE dirham', 2],
  ['SAR', 'Saudi riyal', 2], ['ILS', 'New Israeli sheqel', 2],
];

export const CURRENCY_DIGITS = Object.fromEntries(CURRENCIES.map(([code, , digits]) => [code, digits]));

export const PARTNER_TYPES = [
  ['reseller', 'Reseller', 'Buys our products and resells them to end customers.'],
  ['distributor', 'Distributor', 'Supplies our products to a network of resellers.'],
  ['isv', 'ISV', 'Builds software that integrates with our products.'],
  ['referral', 'Referral', 'Introduces customers to us and earns a referral fee.'],
];

export function partnerTypeLabel(value) {
  const found = PARTNER_TYPES.find(([v]) => v === value);
  return found ? found[1] : value || '';
}

export const ROLES = [
  ['partner-user', 'Partner user'],
  ['partner-admin', 'Partner admin'],
];

export function roleLabel(value) {
  const found = ROLES.find(([v]) => v === value);
  return found ? found[1] : value || '';
}

export function statusTone(status) {
  switch (status) {
    case 'active':
    case 'approved':
    case 'won':
    case 'paid':
    case 'open':
      return 'ok';
    case 'pending':
    case 'invited':
    case 'submitted':
    case 'under_review':
    case 'claimed':
      return 'pending';
    case 'suspended':
    case 'expired':
    case 'lapsed':
    case 'returned':
    case 'win_reversed':
      return 'warn';
    case 'rejected':
    case 'terminated':
    case 'claim_rejected':
      return 'bad';
    default:
      return 'neutral';
  }
}

// Statuses whose generic label would read wrongly.
const STATUS_LABELS = { win_reversed: 'Win reversed' };

export function statusLabel(status) {
  if (!status) return 'Unknown';
  if (Object.hasOwn(STATUS_LABELS, status)) return STATUS_LABELS[status];
  return status.charAt(0).toUpperCase() + status.slice(1).replaceAll('_', ' ');
}

// Deal registration (docs/api.md, "Deal registration").
export const DEAL_STATUSES = [
  'submitted',
  'under_review',
  'approved',
  'rejected',
  'won',
  'win_reversed',
  'lost',
  'expired',
];

export const DEAL_STAGES = [
  ['qualification', 'Qualification'],
  ['proposal', 'Proposal'],
  ['negotiation', 'Negotiation'],
  ['commit', 'Commit'],
];

export function stageLabel(value) {
  const found = DEAL_STAGES.find(([v]) => v === value);
  return found ? found[1] : value ? statusLabel(value) : '';
}

// Market development funds (docs/mdf.md).
export const MDF_REQUEST_STATUSES = [
  'submitted',
  'under_review',
  'approved',
  'rejected',
  'expired',
  'claimed',
  'paid',
  'claim_rejected',
  'lapsed',
];

export const MDF_ACTIVITY_TYPES = [
  ['event', 'Event'],
  ['digital_campaign', 'Digital campaign'],
  ['webinar', 'Webinar'],
  ['print', 'Print'],
  ['other', 'Other'],
];

export function activityLabel(value) {
  const found = MDF_ACTIVITY_TYPES.find(([v]) => v === value);
  return found ? found[1] : value ? statusLabel(value) : '';
}

/** Claim statuses read differently from request statuses ("approved" claim = paid). */
export function claimStatusLabel(status) {
  switch (status) {
    case 'submitted':
      return 'Claim submitted';
    case 'approved':
      return 'Claim approved';
    case 'rejected':
      return 'Claim rejected';
    case 'returned':
      return 'More proof needed';
    default:
      return status ? statusLabel(status) : 'No claim';
  }
}

export function claimStatusTone(status) {
  return status === 'returned' ? 'warn' : statusTone(status);
}

// Ledger entry kinds: label, and the sign of the entry's effect on the fund ("paid" leaves the reserve).
export const LEDGER_KINDS = {
  allocated: ['Allocated', 1, 'Added to available'],
  accrued: ['Accrued', 1, 'Credited from a won deal'],
  accrual_reversed: ['Accrual reversed', -1, 'Taken back: the vendor reversed the deal’s win'],
  reserved: ['Reserved', -1, 'Moved from available to reserved'],
  released: ['Released', 1, 'Moved from reserved back to available'],
  paid: ['Paid', -1, 'Paid out of reserved'],
  expired: ['Expired', -1, 'Unused funds expired'],
  adjusted: ['Adjusted', 0, 'Correction by the vendor'],
};

// Proof of performance files the claim accepts: extension -> [content type, label].
export const PROOF_TYPES = {
  pdf: ['application/pdf', 'PDF'],
  png: ['image/png', 'PNG image'],
  jpg: ['image/jpeg', 'JPEG image'],
  jpeg: ['image/jpeg', 'JPEG image'],
  csv: ['text/csv', 'CSV'],
  xlsx: ['application/vnd.openxmlformats-officedocument.spreadsheetml.sheet', 'Excel workbook'],
};
