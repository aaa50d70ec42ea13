/**
 * The SCIM schemas Assay serves (RFC 7643 §4 User and Group, §4.3 enterprise User extension),
 * written once as data: they drive attribute-name canonicalisation, type checks and coercion of
 * what identity providers send, and they are what `/Schemas` returns.
 */

export const userSchemaUrn = 'urn:ietf:params:scim:schemas:core:2.0:User';
export const groupSchemaUrn = 'urn:ietf:params:scim:schemas:core:2.0:Group';
export const enterpriseUserSchemaUrn = 'urn:ietf:params:scim:schemas:extension:enterprise:2.0:User';
export const listResponseUrn = 'urn:ietf:params:scim:api:messages:2.0:ListResponse';
export const patchOpUrn = 'urn:ietf:params:scim:api:messages:2.0:PatchOp';
export const serviceProviderConfigUrn = 'urn:ietf:params:scim:schemas:core:2.0:ServiceProviderConfig';
export const resourceTypeUrn = 'urn:ietf:params:scim:schemas:core:2.0:ResourceType';
export const schemaUrn = 'urn:ietf:params:scim:schemas:core:2.0:Schema';

export type AttributeType = 'string' | 'boolean' | 'complex' | 'reference' | 'dateTime' | 'binary';

export interface AttributeDef {
  name: string;
  type: AttributeType;
  multiValued: boolean;
  description: string;
  required?: boolean;
  caseExact?: boolean;
  mutability?: 'readOnly' | 'readWrite' | 'immutable' | 'writeOnly';
  returned?: 'always' | 'never' | 'default' | 'request';
  uniqueness?: 'none' | 'server' | 'global';
  referenceTypes?: string[];
  canonicalValues?: string[];
  subAttributes?: AttributeDef[];
}

const str = (name: string, description: string, extra: Partial<AttributeDef> = {}): AttributeDef => ({
  name,
  type: 'string',
  multiValued: false,
  description,
  ...extra,
});

const bool = (name: string, description: string): AttributeDef => ({
  name,
  type: 'boolean',
  multiValued: false,
  description,
});

/** The usual shape of a multi-valued attribute: value, display, type, primary. */
function multi(
  name: string,
  description: string,
  valueType: AttributeType = 'string',
  types: string[] = [],
): AttributeDef {
  return {
    name,
    type: 'complex',
    multiValued: true,
    description,
    subAttributes: [
      { name: 'value', type: valueType, multiValued: false, description: `The ${name} value` },
      str('display', 'A human-readable name, primarily used for display purposes'),
      str('type', 'A label indicating the function', types.length > 0 ? { canonicalValues: types } : {}),
      bool('primary', 'Indicates the primary or preferred value'),
    ],
  };
}

export const userAttributes: AttributeDef[] = [
  str('userName', 'Unique identifier for the user, typically used to sign in', {
    required: true,
    uniqueness: 'server',
  }),
  {
    name: 'name',
    type: 'complex',
    multiValued: false,
    description: "The components of the user's name",
    subAttributes: [
      str('formatted', 'The full name, formatted for display'),
      str('familyName', 'The family name'),
      str('givenName', 'The given name'),
      str('middleName', 'The middle name(s)'),
      str('honorificPrefix', 'The honorific prefix(es)'),
      str('honorificSuffix', 'The honorific suffix(es)'),
    ],
  },
  str('displayName', 'The name of the user, suitable for display'),
  str('nickName', 'The casual way to address the user'),
  {
    ...str('profileUrl', "A URI of the user's online profile"),
    type: 'reference',
    referenceTypes: ['external'],
  },
  str('title', "The user's title, such as 'Vice President'"),
  str('userType', "The relationship between the organisation and the user, e.g. 'Employee', 'Contractor'"),
  str('preferredLanguage', "The user's preferred written or spoken language"),
  str('locale', "The user's default location"),
  str('timezone', "The user's time zone in the IANA Time Zone database format"),
  bool('active', "The user's administrative status: false means deactivated (deprovisioned)"),
  str('password', 'Never stored nor returned by Assay', { mutability: 'writeOnly', returned: 'never' }),
  multi('emails', 'Email addresses for the user', 'string', ['work', 'home', 'other']),
  multi('phoneNumbers', 'Phone numbers for the user', 'string', [
    'work',
    'home',
    'mobile',
    'fax',
    'pager',
    'other',
  ]),
  multi('ims', 'Instant messaging addresses for the user'),
  multi('photos', 'URLs of photos of the user', 'reference', ['photo', 'thumbnail']),
  {
    name: 'addresses',
    type: 'complex',
    multiValued: true,
    description: 'Physical mailing addresses for the user',
    subAttributes: [
      str('formatted', 'The full mailing address'),
      str('streetAddress', 'The street address'),
      str('locality', 'The city or locality'),
      str('region', 'The state or region'),
      str('postalCode', 'The zip code or postal code'),
      str('country', 'The country name'),
      str('type', 'A label indicating the function', { canonicalValues: ['work', 'home', 'other'] }),
      bool('primary', 'Indicates the primary mailing address'),
    ],
  },
  {
    name: 'groups',
    type: 'complex',
    multiValued: true,
    description: 'The groups the user belongs to, managed through the Group resource',
    mutability: 'readOnly',
    subAttributes: [
      str('value', 'The id of the group', { mutability: 'readOnly', caseExact: true }),
      {
        name: '$ref',
        type: 'reference',
        multiValued: false,
        description: 'The URI of the group',
        mutability: 'readOnly',
        referenceTypes: ['Group'],
      },
      str('display', 'The name of the group', { mutability: 'readOnly' }),
      str('type', 'direct or indirect membership', { mutability: 'readOnly' }),
    ],
  },
  multi('entitlements', 'Entitlements of the user'),
  multi('roles', 'Roles of the user'),
  multi('x509Certificates', 'Certificates of the user', 'binary'),
];

export const enterpriseUserAttributes: AttributeDef[] = [
  str('employeeNumber', 'Identifier assigned by the organisation (HR employee number)'),
  str('costCenter', 'Cost centre'),
  str('organization', 'Organisation'),
  str('division', 'Division'),
  str('department', 'Department'),
  {
    name: 'manager',
    type: 'complex',
    multiValued: false,
    description: "The user's manager",
    subAttributes: [
      str('value', 'The id of the SCIM resource representing the manager', { caseExact: true }),
      {
        name: '$ref',
        type: 'reference',
        multiValued: false,
        description: 'The URI of the manager',
        referenceTypes: ['User'],
      },
      str('displayName', "The manager's display name", { mutability: 'readOnly' }),
    ],
  },
];

export const groupAttributes: AttributeDef[] = [
  str('displayName', 'A human-readable name for the group', { required: true }),
  {
    name: 'members',
    type: 'complex',
    multiValued: true,
    description: 'The members of the group (users)',
    subAttributes: [
      str('value', 'The id of the member', { mutability: 'immutable', caseExact: true }),
      {
        name: '$ref',
        type: 'reference',
        multiValued: false,
        description: 'The URI of the member',
        mutability: 'immutable',
        referenceTypes: ['User'],
      },
      str('display', 'The name of the member', { mutability: 'immutable' }),
      str('type', 'The type of the member', { mutability: 'immutable', canonicalValues: ['User'] }),
    ],
  },
];

/** Finds an attribute definition by name, case-insensitively (RFC 7643 §2.1). */
export function findAttribute(
  defs: readonly AttributeDef[] | undefined,
  name: string,
): AttributeDef | undefined {
  if (!defs) return undefined;
  const lower = name.toLowerCase();
  return defs.find((def) => def.name.toLowerCase() === lower);
}

function schemaAttribute(def: AttributeDef): Record<string, unknown> {
  const out: Record<string, unknown> = {
    name: def.name,
    type: def.type,
    multiValued: def.multiValued,
    description: def.description,
    required: def.required ?? false,
    caseExact: def.caseExact ?? false,
    mutability: def.mutability ?? 'readWrite',
    returned: def.returned ?? 'default',
    uniqueness: def.uniqueness ?? 'none',
  };
  if (def.canonicalValues) out.canonicalValues = def.canonicalValues;
  if (def.referenceTypes) out.referenceTypes = def.referenceTypes;
  if (def.subAttributes) out.subAttributes = def.subAttributes.map(schemaAttribute);
  return out;
}

// ---------------------------------------------------------------------------------------------
// Discovery documents (RFC 7644 §4)

export function serviceProviderConfig(baseUrl: string) {
  return {
    schemas: [serviceProviderConfigUrn],
    documentationUri: 'https://github.com/assay/assay/blob/main/docs/connectors/scim.md',
    patch: { supported: true },
    bulk: { supported: false, maxOperations: 0, maxPayloadSize: 0 },
    filter: { supported: true, maxResults: maxPageSize },
    changePassword: { supported: false },
    sort: { supported: false },
    etag: { supported: true },
    authenticationSchemes: [
      {
        type: 'oauthbearertoken',
        name: 'Bearer token',
        description:
          'A workspace SCIM token from `assay scim token create`, sent as "Authorization: Bearer <token>"',
        primary: true,
      },
    ],
    meta: { resourceType: 'ServiceProviderConfig', location: `${baseUrl}/ServiceProviderConfig` },
  };
}

export const maxPageSize = 1000;

export function resourceTypes(baseUrl: string) {
  return [
    {
      schemas: [resourceTypeUrn],
      id: 'User',
      name: 'User',
      endpoint: '/Users',
      description: 'User account',
      schema: userSchemaUrn,
      schemaExtensions: [{ schema: enterpriseUserSchemaUrn, required: false }],
      meta: { resourceType: 'ResourceType', location: `${baseUrl}/ResourceTypes/User` },
    },
    {
      schemas: [resourceTypeUrn],
      id: 'Group',
      name: 'Group',
      endpoint: '/Groups',
      description: 'Group',
      schema: groupSchemaUrn,
      meta: { resourceType: 'ResourceType', location: `${baseUrl}/ResourceTypes/Group` },
    },
  ];
}

export function schemas(baseUrl: string) {
  const schema = (id: string, name: string, description: string, attributes: AttributeDef[]) => ({
    schemas: [schemaUrn],
    id,
    name,
    description,
    attributes: attributes.map(schemaAttribute),
    meta: { resourceType: 'Schema', location: `${baseUrl}/Schemas/${id}` },
  });
  return [
    schema(userSchemaUrn, 'User', 'User account', userAttributes),
    schema(enterpriseUserSchemaUrn, 'EnterpriseUser', 'Enterprise user', enterpriseUserAttributes),
    schema(groupSchemaUrn, 'Group', 'Group', groupAttributes),
  ];
}
