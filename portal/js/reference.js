// Reference data for the forms: ISO 3166-1 alpha-2 countries, ISO 4217 currencies (with their minor-unit
// exponent) and the programme's partner types and roles.

// Every ISO 3166-1 alpha-2 code the API accepts (shared/countries.py COUNTRY_CODES; tests/unit/test_portal_countries.py
// fails when the two differ), with its English short name, sorted by name.
export const COUNTRIES = [
  ['AD', 'Andorra'], ['AE', 'United Arab Emirates'], ['AF', 'Afghanistan'], ['AG', 'Antigua and Barbuda'],
  ['AI', 'Anguilla'], ['AL', 'Albania'], ['AM', 'Armenia'], ['AO', 'Angola'], ['AQ', 'Antarctica'],
  ['AR', 'Argentina'], ['AS', 'American Samoa'], ['AT', 'Austria'], ['AU', 'Australia'], ['AW', 'Aruba'],
  ['AX', 'Åland Islands'], ['AZ', 'Azerbaijan'], ['BA', 'Bosnia and Herzegovina'], ['BB', 'Barbados'],
  ['BD', 'Bangladesh'], ['BE', 'Belgium'], ['BF', 'Burkina Faso'], ['BG', 'Bulgaria'], ['BH', 'Bahrain'],
  ['BI', 'Burundi'], ['BJ', 'Benin'], ['BL', 'Saint Barthélemy'], ['BM', 'Bermuda'], ['BN', 'Brunei'],
  ['BO', 'Bolivia'], ['BQ', 'Bonaire, Sint Eustatius and Saba'], ['BR', 'Brazil'], ['BS', 'Bahamas'],
  ['BT', 'Bhutan'], ['BV', 'Bouvet Island'], ['BW', 'Botswana'], ['BY', 'Belarus'], ['BZ', 'Belize'],
  ['CA', 'Canada'], ['CC', 'Cocos (Keeling) Islands'], ['CD', 'Congo, Democratic Republic of the'],
  ['CF', 'Central African Republic'], ['CG', 'Congo'], ['CH', 'Switzerland'], ['CI', 'Côte d\'Ivoire'],
  ['CK', 'Cook Islands'], ['CL', 'Chile'], ['CM', 'Cameroon'], ['CN', 'China'], ['CO', 'Colombia'],
  ['CR', 'Costa Rica'], ['CU', 'Cuba'], ['CV', 'Cabo Verde'], ['CW', 'Curaçao'], ['CX', 'Christmas Island'],
  ['CY', 'Cyprus'], ['CZ', 'Czechia'], ['DE', 'Germany'], ['DJ', 'Djibouti'], ['DK', 'Denmark'], ['DM', 'Dominica'],
  ['DO', 'Dominican Republic'], ['DZ', 'Algeria'], ['EC', 'Ecuador'], ['EE', 'Estonia'], ['EG', 'Egypt'],
  ['EH', 'Western Sahara'], ['ER', 'Eritrea'], ['ES', 'Spain'], ['ET', 'Ethiopia'], ['FI', 'Finland'],
  ['FJ', 'Fiji'], ['FK', 'Falkland Islands (Malvinas)'], ['FM', 'Micronesia'], ['FO', 'Faroe Islands'],
  ['FR', 'France'], ['GA', 'Gabon'], ['GB', 'United Kingdom'], ['GD', 'Grenada'], ['GE', 'Georgia'],
  ['GF', 'French Guiana'], ['GG', 'Guernsey'], ['GH', 'Ghana'], ['GI', 'Gibraltar'], ['GL', 'Greenland'],
  ['GM', 'Gambia'], ['GN', 'Guinea'], ['GP', 'Guadeloupe'], ['GQ', 'Equatorial Guinea'], ['GR', 'Greece'],
  ['GS', 'South Georgia and the South Sandwich Islands'], ['GT', 'Guatemala'], ['GU', 'Guam'],
  ['GW', 'Guinea-Bissau'], ['GY', 'Guyana'], ['HK', 'Hong Kong'], ['HM', 'Heard Island and McDonald Islands'],
  ['HN', 'Honduras'], ['HR', 'Croatia'], ['HT', 'Haiti'], ['HU', 'Hungary'], ['ID', 'Indonesia'], ['IE', 'Ireland'],
  ['IL', 'Israel'], ['IM', 'Isle of Man'], ['IN', 'India'], ['IO', 'British Indian Ocean Territory'], ['IQ', 'Iraq'],
  ['IR', 'Iran'], ['IS', 'Iceland'], ['IT', 'Italy'], ['JE', 'Jersey'], ['JM', 'Jamaica'], ['JO', 'Jordan'],
  ['JP', 'Japan'], ['KE', 'Kenya'], ['KG', 'Kyrgyzstan'], ['KH', 'Cambodia'], ['KI', 'Kiribati'], ['KM', 'Comoros'],
  ['KN', 'Saint Kitts and Nevis'], ['KP', 'Korea, Democratic People\'s Republic of'], ['KR', 'Korea, Republic of'],
  ['KW', 'Kuwait'], ['KY', 'Cayman Islands'], ['KZ', 'Kazakhstan'], ['LA', 'Laos'], ['LB', 'Lebanon'],
  ['LC', 'Saint Lucia'], ['LI', 'Liechtenstein'], ['LK', 'Sri Lanka'], ['LR', 'Liberia'], ['LS', 'Lesotho'],
  ['LT', 'Lithuania'], ['LU', 'Luxembourg'], ['LV', 'Latvia'], ['LY', 'Libya'], ['MA', 'Morocco'], ['MC', 'Monaco'],
  ['MD', 'Moldova'], ['ME', 'Montenegro'], ['MF', 'Saint Martin (French part)'], ['MG', 'Madagascar'],
  ['MH', 'Marshall Islands'], ['MK', 'North Macedonia'], ['ML', 'Mali'], ['MM', 'Myanmar'], ['MN', 'Mongolia'],
  ['MO', 'Macao'], ['MP', 'Northern Mariana Islands'], ['MQ', 'Martinique'], ['MR', 'Mauritania'],
  ['MS', 'Montserrat'], ['MT', 'Malta'], ['MU', 'Mauritius'], ['MV', 'Maldives'], ['MW', 'Malawi'], ['MX', 'Mexico'],
  ['MY', 'Malaysia'], ['MZ', 'Mozambique'], ['NA', 'Namibia'], ['NC', 'New Caledonia'], ['NE', 'Niger'],
  ['NF', 'Norfolk Island'], ['NG', 'Nigeria'], ['NI', 'Nicaragua'], ['NL', 'Netherlands'], ['NO', 'Norway'],
  ['NP', 'Nepal'], ['NR', 'Nauru'], ['NU', 'Niue'], ['NZ', 'New Zealand'], ['OM', 'Oman'], ['PA', 'Panama'],
  ['PE', 'Peru'], ['PF', 'French Polynesia'], ['PG', 'Papua New Guinea'], ['PH', 'Philippines'], ['PK', 'Pakistan'],
  ['PL', 'Poland'], ['PM', 'Saint Pierre and Miquelon'], ['PN', 'Pitcairn'], ['PR', 'Puerto Rico'],
  ['PS', 'Palestine, State of'], ['PT', 'Portugal'], ['PW', 'Palau'], ['PY', 'Paraguay'], ['QA', 'Qatar'],
  ['RE', 'Réunion'], ['RO', 'Romania'], ['RS', 'Serbia'], ['RU', 'Russia'], ['RW', 'Rwanda'], ['SA', 'Saudi Arabia'],
  ['SB', 'Solomon Islands'], ['SC', 'Seychelles'], ['SD', 'Sudan'], ['SE', 'Sweden'], ['SG', 'Singapore'],
  ['SH', 'Saint Helena, Ascension and Tristan da Cunha'], ['SI', 'Slovenia'], ['SJ', 'Svalbard and Jan Mayen'],
  ['SK', 'Slovakia'], ['SL', 'Sierra Leone'], ['SM', 'San Marino'], ['SN', 'Senegal'], ['SO', 'Somalia'],
  ['SR', 'Suriname'], ['SS', 'South Sudan'], ['ST', 'São Tomé and Príncipe'], ['SV', 'El Salvador'],
  ['SX', 'Sint Maarten (Dutch part)'], ['SY', 'Syria'], ['SZ', 'Eswatini'], ['TC', 'Turks and Caicos Islands'],
  ['TD', 'Chad'], ['TF', 'French Southern Territories'], ['TG', 'Togo'], ['TH', 'Thailand'], ['TJ', 'Tajikistan'],
  ['TK', 'Tokelau'], ['TL', 'Timor-Leste'], ['TM', 'Turkmenistan'], ['TN', 'Tunisia'], ['TO', 'Tonga'],
  ['TR', 'Türkiye'], ['TT', 'Trinidad and Tobago'], ['TV', 'Tuvalu'], ['TW', 'Taiwan'], ['TZ', 'Tanzania'],
  ['UA', 'Ukraine'], ['UG', 'Uganda'], ['UM', 'United States Minor Outlying Islands'], ['US', 'United States'],
  ['UY', 'Uruguay'], ['UZ', 'Uzbekistan'], ['VA', 'Holy See (Vatican City)'],
  ['VC', 'Saint Vincent and the Grenadines'], ['VE', 'Venezuela'], ['VG', 'Virgin Islands (British)'],
  ['VI', 'Virgin Islands (U.S.)'], ['VN', 'Viet Nam'], ['VU', 'Vanuatu'], ['WF', 'Wallis and Futuna'],
  ['WS', 'Samoa'], ['YE', 'Yemen'], ['YT', 'Mayotte'], ['ZA', 'South Africa'], ['ZM', 'Zambia'], ['ZW', 'Zimbabwe'],
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
