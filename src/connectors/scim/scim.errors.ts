/**
 * SCIM error responses (RFC 7644 §3.12). The SCIM endpoints answer in SCIM's own error format,
 * not Assay's `{code, message}`: identity providers parse `status`, `scimType` and `detail`.
 */

export const scimErrorSchema = 'urn:ietf:params:scim:api:messages:2.0:Error';

/** The `scimType` values of RFC 7644 table 9 that Assay uses. */
export type ScimType =
  | 'invalidFilter'
  | 'tooMany'
  | 'uniqueness'
  | 'mutability'
  | 'invalidSyntax'
  | 'invalidPath'
  | 'noTarget'
  | 'invalidValue'
  | 'invalidVers'
  | 'sensitive';

export class ScimError extends Error {
  readonly status: number;
  readonly scimType: ScimType | undefined;

  constructor(status: number, detail: string, scimType?: ScimType) {
    super(detail);
    this.name = 'ScimError';
    this.status = status;
    this.scimType = scimType;
  }

  /** The response body; `status` is a JSON string, as RFC 7644 §3.12 specifies. */
  body(): Record<string, unknown> {
    const body: Record<string, unknown> = { schemas: [scimErrorSchema], status: String(this.status) };
    if (this.scimType) body.scimType = this.scimType;
    body.detail = this.message;
    return body;
  }
}

export const badRequest = (scimType: ScimType, detail: string) => new ScimError(400, detail, scimType);
export const notFound = (detail: string) => new ScimError(404, detail);
export const conflict = (detail: string) => new ScimError(409, detail, 'uniqueness');

export function isScimError(value: unknown): value is ScimError {
  return value instanceof ScimError;
}
