/**
 * Who may do what. Deny by default: a caller holds exactly the permissions listed for their roles
 * in a workspace (or granted to their API token), nothing else. Routes name the permission they
 * need in their options (`config: { access: { permission: 'controls:write' } }`), and one hook in
 * `src/http/access.ts` enforces it.
 */

/** Permissions inside one workspace. `:read` permissions never change anything. */
export const workspacePermissions = [
  'workspace:read',
  'scope:read',
  'scope:write',
  'controls:read',
  'controls:write',
  'evidence:read',
  'evidence:write',
  'events:read',
  'events:ingest',
  'identities:read',
  'identities:write',
  'checks:run',
  'findings:read',
  'findings:write',
  'exceptions:decide',
  'reviews:sign',
  'policies:acknowledge',
  'audits:read',
  'audits:manage',
  'exports:create',
  'connectors:manage',
  'members:read',
  'members:manage',
  'tokens:read',
  'tokens:manage',
  'security:manage',
  'audit_trail:read',
] as const;

/** Permissions over the whole installation: only platform admins hold them. */
export const platformPermissions = ['workspaces:create'] as const;

export type WorkspacePermission = (typeof workspacePermissions)[number];
export type PlatformPermission = (typeof platformPermissions)[number];
export type Permission = WorkspacePermission | PlatformPermission;

export const roles = [
  'owner',
  'admin',
  'compliance_manager',
  'control_owner',
  'reviewer',
  'employee',
  'auditor',
] as const;
export type Role = (typeof roles)[number];

/** Roles whose holders must have signed in with a second factor before the role takes effect. */
export const rolesRequiringMfa: readonly Role[] = ['owner', 'admin'];

const all = workspacePermissions;

export const rolePermissions: Record<Role, readonly WorkspacePermission[]> = {
  // Owners and admins run the workspace; only an owner may grant or remove the owner role
  // (checked where memberships change).
  owner: all,
  admin: all,
  compliance_manager: [
    'workspace:read',
    'scope:read',
    'scope:write',
    'controls:read',
    'controls:write',
    'evidence:read',
    'evidence:write',
    'events:read',
    'events:ingest',
    'identities:read',
    'identities:write',
    'checks:run',
    'findings:read',
    'findings:write',
    'exceptions:decide',
    'reviews:sign',
    'policies:acknowledge',
    'audits:read',
    'audits:manage',
    'exports:create',
    'members:read',
    'audit_trail:read',
  ],
  control_owner: [
    'workspace:read',
    'scope:read',
    'controls:read',
    'evidence:read',
    'evidence:write',
    'events:read',
    'identities:read',
    'findings:read',
    'findings:write',
    'reviews:sign',
    'policies:acknowledge',
  ],
  reviewer: [
    'workspace:read',
    'controls:read',
    'evidence:read',
    'identities:read',
    'findings:read',
    'reviews:sign',
    'policies:acknowledge',
  ],
  employee: ['workspace:read', 'policies:acknowledge'],
  // External auditors read, for one audit period, until their access expires.
  auditor: [
    'workspace:read',
    'scope:read',
    'controls:read',
    'evidence:read',
    'events:read',
    'identities:read',
    'findings:read',
    'audits:read',
    'audit_trail:read',
  ],
};

export function isRole(value: string): value is Role {
  return (roles as readonly string[]).includes(value);
}

export function isWorkspacePermission(value: string): value is WorkspacePermission {
  return (workspacePermissions as readonly string[]).includes(value);
}

export function isPlatformPermission(value: string): value is PlatformPermission {
  return (platformPermissions as readonly string[]).includes(value);
}

/** A read permission changes nothing: the suffix is the contract the matrix test holds routes to. */
export function isReadPermission(permission: Permission): boolean {
  return permission.endsWith(':read');
}

export function permissionsOfRoles(held: Iterable<Role>): Set<WorkspacePermission> {
  const out = new Set<WorkspacePermission>();
  for (const role of held) for (const p of rolePermissions[role]) out.add(p);
  return out;
}
