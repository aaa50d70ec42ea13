/**
 * One error type for the whole product. Every failure a user can cause or see carries a
 * stable `code`; `src/http/error-mapping.ts` maps codes to HTTP statuses and the CLI maps
 * them to exit codes. Messages name the place (file, line, field) and the reason.
 */
export const errorCodes = {
  // bad input (HTTP 400, CLI exit 2)
  validation_failed: 'bad_input',
  invalid_json: 'bad_input',
  unknown_category: 'bad_input',
  invalid_period: 'bad_input',
  import_rejected: 'bad_input',
  request_list_rejected: 'bad_input',
  package_unreadable: 'bad_input',
  unsupported_import_kind: 'bad_input',
  blob_hash_mismatch: 'bad_input',
  weak_password: 'bad_input',
  payload_too_large: 'too_large',
  unsupported_media_type: 'unsupported_media_type',
  // missing things (HTTP 404, CLI exit 2)
  workspace_not_found: 'not_found',
  parent_workspace_not_found: 'not_found',
  control_not_found: 'not_found',
  identity_not_found: 'not_found',
  finding_not_found: 'not_found',
  check_not_found: 'not_found',
  exception_not_found: 'not_found',
  policy_statement_not_found: 'not_found',
  system_not_found: 'not_found',
  evidence_not_found: 'not_found',
  blob_not_found: 'not_found',
  checkpoint_not_found: 'not_found',
  route_not_found: 'not_found',
  catalog_version_not_found: 'not_found',
  framework_not_found: 'not_found',
  user_not_found: 'not_found',
  member_not_found: 'not_found',
  token_not_found: 'not_found',
  sso_not_configured: 'not_found',
  register_record_not_found: 'not_found',
  notification_channel_not_found: 'not_found',
  connector_not_found: 'not_found',
  audit_period_not_found: 'not_found',
  audit_request_not_found: 'not_found',
  template_not_found: 'not_found',
  campaign_not_found: 'not_found',
  task_not_found: 'not_found',
  // conflicts (HTTP 409, CLI exit 2)
  workspace_exists: 'conflict',
  parent_not_msp: 'conflict',
  legal_hold_active: 'conflict',
  retention_not_elapsed: 'conflict',
  already_redacted: 'conflict',
  evidence_not_checkpointed: 'conflict',
  user_exists: 'conflict',
  last_owner: 'conflict',
  totp_already_enabled: 'conflict',
  identity_conflict: 'conflict',
  custom_check_exists: 'conflict',
  exception_exists: 'conflict',
  register_record_exists: 'conflict',
  register_transition_invalid: 'conflict',
  notification_channel_exists: 'conflict',
  connector_exists: 'conflict',
  audit_period_exists: 'conflict',
  template_exists: 'conflict',
  campaign_state_invalid: 'conflict',
  task_state_invalid: 'conflict',
  // auth (HTTP 401/403, CLI exit 1)
  unauthenticated: 'unauthenticated',
  forbidden: 'forbidden',
  bad_signature: 'unauthenticated',
  invalid_credentials: 'unauthenticated',
  mfa_required: 'forbidden',
  csrf_failed: 'forbidden',
  too_many_attempts: 'rate_limited',
  // integrity (HTTP 409/500 depending on context, CLI exit 1)
  ledger_verification_failed: 'integrity',
  package_verification_failed: 'integrity',
  data_directory_locked: 'unavailable',
  secret_key_missing: 'unavailable',
  secret_undecryptable: 'internal',
  smtp_not_configured: 'unavailable',
  notification_delivery_failed: 'unavailable',
  connector_pull_failed: 'unavailable',
  // everything unexpected (HTTP 500, CLI exit 1); message never leaks internals over HTTP
  internal: 'internal',
} as const;

export type ErrorCode = keyof typeof errorCodes;
export type ErrorKind = (typeof errorCodes)[ErrorCode];

export class AssayError extends Error {
  readonly code: ErrorCode;
  readonly details: Record<string, unknown> | undefined;

  constructor(code: ErrorCode, message: string, details?: Record<string, unknown>) {
    super(message);
    this.name = 'AssayError';
    this.code = code;
    this.details = details;
  }

  get kind(): ErrorKind {
    return errorCodes[this.code];
  }
}

export function isAssayError(value: unknown): value is AssayError {
  return value instanceof AssayError;
}
