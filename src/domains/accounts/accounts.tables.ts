import type { ColumnType, Generated } from 'kysely';
import type { Role } from '../access/permissions.ts';

type CreatedAt = ColumnType<Date, never, never>;

/** A person who signs in. Platform-level: a person may belong to many workspaces. */
export interface UsersTable {
  id: Generated<string>;
  email: string;
  display_name: Generated<string>;
  /** Self-describing scrypt string (`$scrypt$ln=17,r=8,p=1$salt$hash`); null: SSO only. */
  password_hash: string | null;
  password_changed_at: Date | null;
  platform_admin: Generated<boolean>;
  /** TOTP seed, sealed with the secrets helper; null until enrolment is confirmed. */
  totp_secret: string | null;
  totp_pending_secret: string | null;
  totp_enabled_at: Date | null;
  /** The last accepted TOTP time step: a code is accepted once (RFC 6238 §5.2). */
  totp_last_step: number | null;
  disabled_at: Date | null;
  created_at: CreatedAt;
}

export interface UserRecoveryCodesTable {
  id: Generated<string>;
  user_id: string;
  code_hash: string;
  used_at: Date | null;
  created_at: CreatedAt;
}

/** A person's account at an OpenID provider, linked to their Assay user. */
export interface UserIdentitiesTable {
  id: Generated<string>;
  user_id: string;
  issuer: string;
  subject: string;
  created_at: CreatedAt;
}

export type SessionStage = 'mfa' | 'full';

export interface SessionsTable {
  id: Generated<string>;
  token_hash: string;
  csrf_hash: string;
  user_id: string;
  /** `mfa`: the password (or SSO) step passed and a TOTP code is still due. */
  stage: SessionStage;
  /** Whether a second factor was verified in this session. */
  mfa: boolean;
  /** Sessions begun through a workspace's SSO connection reach that workspace only. */
  sso_workspace_id: string | null;
  ip: string;
  user_agent: string;
  created_at: CreatedAt;
  last_seen_at: Date;
  expires_at: Date;
  revoked_at: Date | null;
}

export interface AuthThrottleTable {
  key: string;
  failures: number;
  window_started_at: Date;
  locked_until: Date | null;
}

export interface MembershipsTable {
  id: Generated<string>;
  workspace_id: string;
  user_id: string;
  role: Role;
  /** On an MSP workspace: the client workspaces this membership also reaches. */
  client_workspace_ids: ColumnType<string[], string[] | undefined, string[]>;
  /** Auditors: the one audit period they may see. */
  audit_period_start: string | null;
  audit_period_end: string | null;
  expires_at: Date | null;
  created_by: string;
  created_at: CreatedAt;
}

export interface ApiTokensTable {
  id: Generated<string>;
  workspace_id: string;
  name: string;
  secret_hash: string;
  permissions: string[];
  created_by_type: string;
  created_by_id: string;
  /** The person who created it; removing them from the workspace revokes it. */
  created_by_user_id: string | null;
  created_at: CreatedAt;
  expires_at: Date;
  revoked_at: Date | null;
  last_used_at: Date | null;
}

export interface OidcConnectionsTable {
  workspace_id: string;
  issuer: string;
  client_id: string;
  /** Sealed with the secrets helper; never returned by the API. */
  client_secret: string;
  /** When set, unknown people with a verified email join with this role on first sign-in. */
  jit_role: Role | null;
  created_at: CreatedAt;
  updated_at: Date;
}

export interface WorkspaceSecurityPoliciesTable {
  workspace_id: string;
  require_mfa: boolean;
  updated_at: Date;
}

export interface AccountTables {
  users: UsersTable;
  user_recovery_codes: UserRecoveryCodesTable;
  user_identities: UserIdentitiesTable;
  sessions: SessionsTable;
  auth_throttle: AuthThrottleTable;
  memberships: MembershipsTable;
  api_tokens: ApiTokensTable;
  oidc_connections: OidcConnectionsTable;
  workspace_security_policies: WorkspaceSecurityPoliciesTable;
}
