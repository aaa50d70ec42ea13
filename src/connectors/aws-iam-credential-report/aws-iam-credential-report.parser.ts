/**
 * AWS IAM credential report importer (`aws-iam-credential-report`).
 *
 * Accepts the CSV `aws iam get-credential-report` returns (base64-decoded `Content`), gzipped or
 * not. Each row becomes one identity fact in system `aws-iam:<account id>`, observed at the
 * `observedAt` option (the report's generation time is not in the CSV; the CLI passes the import
 * time). The `<root_account>` row is the account's root user: type `root`, user name `root`.
 */
import type {
  AccessKey,
  IdentityFact,
  ImportRecord,
  RecordPosition,
} from '../../domains/events/event.model.ts';
import { FieldError, type ImportContext } from '../shared/import-context.ts';
import { compact, csvImporter } from '../shared/importer.ts';
import { emailOrUndefined, parseIsoDateTime } from '../shared/values.ts';

const REQUIRED_COLUMNS = [
  'user',
  'arn',
  'user_creation_time',
  'password_enabled',
  'password_last_used',
  'password_last_changed',
  'mfa_active',
  'access_key_1_active',
  'access_key_1_last_rotated',
  'access_key_2_active',
  'access_key_2_last_rotated',
] as const;

const ROOT_USER = '<root_account>';
const IAM_ARN = /^arn:aws[\w-]*:iam::(\d{12}):(root|user\/.+)$/;

/** `N/A`, `no_information` and `not_supported` all mean "no value" here. */
function isAbsent(text: string): boolean {
  const value = text.trim();
  return value === '' || value === 'N/A' || value === 'no_information' || value === 'not_supported';
}

function headerIndex(fields: string[]): Map<string, number> {
  const index = new Map<string, number>();
  // Headers are matched case-insensitively: some reports start with "User".
  fields.forEach((name, position) => {
    index.set(name.trim().toLowerCase(), position);
  });
  for (const column of REQUIRED_COLUMNS) {
    if (!index.has(column)) {
      throw new FieldError(
        column,
        `missing from the header; is this an IAM credential report? (header: ${fields.slice(0, 4).join(',')}…)`,
      );
    }
  }
  return index;
}

function rowNormalizer(header: string[], _position: RecordPosition, ctx: ImportContext) {
  const index = headerIndex(header);
  const seen = new Map<string, number>();

  return (fields: string[], position: RecordPosition): ImportRecord[] => {
    if (fields.length !== header.length) {
      throw new FieldError(
        undefined,
        `expected ${header.length} columns as in the header, found ${fields.length}`,
      );
    }
    const cell = (column: string): string | undefined => {
      const at = index.get(column);
      if (at === undefined) return undefined;
      const value = fields[at] ?? '';
      return isAbsent(value) ? undefined : value.trim();
    };
    const bool = (column: string): boolean | undefined => {
      const value = cell(column);
      if (value === undefined) return undefined;
      const lower = value.toLowerCase();
      if (lower === 'true') return true;
      if (lower === 'false') return false;
      throw new FieldError(column, `expected true or false, found "${value}"`);
    };
    const time = (column: string): string | undefined => {
      const value = cell(column);
      if (value === undefined) return undefined;
      const iso = parseIsoDateTime(value);
      if (iso === undefined) throw new FieldError(column, `not an ISO date-time: "${value}"`);
      return iso;
    };

    const user = cell('user');
    if (!user) throw new FieldError('user', 'required but missing');
    const arn = cell('arn');
    if (!arn) throw new FieldError('arn', 'required but missing');
    const arnMatch = IAM_ARN.exec(arn);
    if (!arnMatch) throw new FieldError('arn', `not an IAM user or root ARN: "${arn}"`);
    const account = arnMatch[1]!;
    const isRoot = arnMatch[2] === 'root';
    if (isRoot !== (user === ROOT_USER)) {
      throw new FieldError('arn', `"${arn}" does not belong to user "${user}"`);
    }
    const firstLine = seen.get(arn);
    if (firstLine !== undefined) {
      // Two differing rows for one account at one instant cannot both be true.
      throw new FieldError('user', `"${user}" appears twice in the report (first on line ${firstLine})`);
    }
    seen.set(arn, position.line ?? 0);

    const accessKeys: AccessKey[] = [];
    for (const slot of [1, 2]) {
      const active = bool(`access_key_${slot}_active`) ?? false;
      const lastRotatedAt = time(`access_key_${slot}_last_rotated`);
      if (!lastRotatedAt) {
        if (active)
          throw new FieldError(`access_key_${slot}_last_rotated`, 'missing for an active access key');
        continue; // no key in this slot
      }
      accessKeys.push(
        compact({
          slot,
          active,
          lastRotatedAt,
          lastUsedAt: time(`access_key_${slot}_last_used_date`),
          lastUsedRegion: cell(`access_key_${slot}_last_used_region`),
          lastUsedService: cell(`access_key_${slot}_last_used_service`),
        }),
      );
    }
    const certificates: AccessKey[] = [];
    for (const slot of [1, 2]) {
      const active = bool(`cert_${slot}_active`) ?? false;
      const lastRotatedAt = time(`cert_${slot}_last_rotated`);
      if (lastRotatedAt) certificates.push({ slot, active, lastRotatedAt });
    }

    const passwordEnabled = bool('password_enabled');
    const passwordLastUsedAt = time('password_last_used');
    const hasActiveKey = accessKeys.some((key) => key.active) || certificates.some((cert) => cert.active);
    // A console password means someone signs in interactively; keys alone suggest a workload.
    const isHumanHint = isRoot ? undefined : passwordEnabled ? true : hasActiveKey ? false : undefined;

    const identity: IdentityFact = compact({
      source: 'aws-iam-credential-report',
      system: `aws-iam:${account}`,
      externalId: arn,
      userName: isRoot ? 'root' : user,
      email: isRoot ? undefined : emailOrUndefined(user),
      displayName: isRoot ? ROOT_USER : undefined,
      type: isRoot ? 'root' : 'user',
      status: 'active',
      isHumanHint,
      mfaEnabled: bool('mfa_active'),
      passwordEnabled,
      lastLoginAt: passwordLastUsedAt,
      passwordLastUsedAt,
      passwordLastChangedAt: time('password_last_changed'),
      createdAt: time('user_creation_time'),
      accessKeys,
      certificates: certificates.length > 0 ? certificates : undefined,
      observedAt: ctx.observedAt,
    } satisfies IdentityFact);
    return [{ type: 'identity', position, identity }];
  };
}

export const parseAwsIamCredentialReport = csvImporter({
  kind: 'aws-iam-credential-report',
  header: rowNormalizer,
});
