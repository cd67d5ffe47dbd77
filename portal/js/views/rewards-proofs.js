// Proof files of a SPIFF claim: the shared proof field (../proofs.js) with the rewards API's upload slots
// (`POST /rewards/claims/uploads`), types and limits.
import { proofField as sharedProofField } from '../proofs.js';
import { formatBytes } from '../uploads.js';

// The rewards API takes PDF, PNG and JPEG proofs (rewards/models/redemptions.py PROOF_TYPES).
const TYPES = { pdf: ['application/pdf', 'PDF'], png: ['image/png', 'PNG'], jpg: ['image/jpeg', 'JPEG'], jpeg: ['image/jpeg', 'JPEG'] };
export const CLAIM_PROOF_ACCEPT = '.pdf,.png,.jpg,.jpeg,application/pdf,image/png,image/jpeg';
export const CLAIM_PROOF_MAX_FILES = 10;
// RewardProofMaxBytes' default; the server's `max_bytes` replaces it once an upload slot names it.
const DEFAULT_MAX_BYTES = 10 * 1024 * 1024;

function typeOf(name) {
  const ext = String(name || '').toLowerCase().split('.').pop();
  return Object.hasOwn(TYPES, ext) ? TYPES[ext] : null;
}

/** '' when the file may be uploaded, otherwise why not. */
export function checkClaimProof(file, maxBytes = DEFAULT_MAX_BYTES) {
  if (!typeOf(file.name)) return 'Only PDF, PNG and JPEG files can be attached.';
  if (file.size === 0) return 'This file is empty.';
  if (file.size > maxBytes) return `Files can be at most ${formatBytes(maxBytes)}; this one is ${formatBytes(file.size)}.`;
  return '';
}

/** The claim's proof field (see ../proofs.js for what it offers the form). */
export function proofField(ctx, { id, label = 'Proof files', kept = [], onChange = () => {} }) {
  return sharedProofField(ctx, {
    id,
    label,
    hint: `Choose one or more files; each is uploaded straight away. PDF, PNG or JPEG, up to ${CLAIM_PROOF_MAX_FILES} files.`,
    kept,
    onChange,
    slotPath: '/rewards/claims/uploads',
    accept: CLAIM_PROOF_ACCEPT,
    maxFiles: CLAIM_PROOF_MAX_FILES,
    maxBytes: DEFAULT_MAX_BYTES,
    contentType: (name) => typeOf(name)?.[0] ?? null,
    check: checkClaimProof,
    typeLabel: (entry) => typeOf(entry.name)?.[1],
  });
}
