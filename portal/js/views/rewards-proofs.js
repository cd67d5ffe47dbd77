// Proof files of a SPIFF claim: the shared proof field (../proofs.js) with the rewards API's upload slots
// (`POST /rewards/claims/uploads`), types and limits.
import { proofField as sharedProofField } from '../proofs.js';
import { PROOF_TYPES } from '../reference.js';
import { checkProofFile, PROOF_ACCEPT, proofContentType } from '../uploads.js';

// The rewards API takes the proof types MDF does (shared/proof_files.DocumentUploadBody): an invoice, a photo, an
// attendee list as CSV or Excel.
export const CLAIM_PROOF_ACCEPT = PROOF_ACCEPT;
export const CLAIM_PROOF_MAX_FILES = 10;
// RewardProofMaxBytes' default; the server's `max_bytes` replaces it once an upload slot names it.
const DEFAULT_MAX_BYTES = 10 * 1024 * 1024;

/** '' when the file may be uploaded, otherwise why not. */
export function checkClaimProof(file, maxBytes = DEFAULT_MAX_BYTES) {
  return checkProofFile(file, maxBytes);
}

function typeLabel(name) {
  const ext = String(name || '').toLowerCase().split('.').pop();
  return Object.hasOwn(PROOF_TYPES, ext) ? PROOF_TYPES[ext][1] : undefined;
}

/** The claim's proof field (see ../proofs.js for what it offers the form). */
export function proofField(ctx, { id, label = 'Proof files', kept = [], onChange = () => {} }) {
  return sharedProofField(ctx, {
    id,
    label,
    hint: `Choose one or more files; each is uploaded straight away. PDF, PNG, JPEG, CSV or Excel (.xlsx), up to ${CLAIM_PROOF_MAX_FILES} files.`,
    kept,
    onChange,
    slotPath: '/rewards/claims/uploads',
    accept: CLAIM_PROOF_ACCEPT,
    maxFiles: CLAIM_PROOF_MAX_FILES,
    maxBytes: DEFAULT_MAX_BYTES,
    contentType: proofContentType,
    check: checkClaimProof,
    typeLabel: (entry) => typeLabel(entry.name),
  });
}
