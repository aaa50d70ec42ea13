/** Schema pieces the register routes share. */
import { type TSchema, Type } from 'typebox';

export const errors = { 400: Type.Ref('Error'), 404: Type.Ref('Error'), 409: Type.Ref('Error') };
export const Id = Type.String({ minLength: 1, maxLength: 200 });
export const Nullable = <T extends TSchema>(schema: T) => Type.Union([schema, Type.Null()]);
export const Str = (maxLength = 200) => Type.String({ maxLength });
export const Text = Type.String({ maxLength: 20_000 });
/** A calendar date (2026-03-31) or a date-time with a zone. */
export const When = Type.String({
  minLength: 10,
  maxLength: 40,
  description: 'date (2026-03-31) or date-time with a zone',
});
export const DateTime = Type.String({ format: 'date-time' });
export const StrList = Type.Array(Type.String({ maxLength: 200 }), { maxItems: 500 });
export const ControlList = Type.Array(Type.String({ maxLength: 40 }), {
  maxItems: 100,
  description: 'control template ids',
});

/** A body of optional fields, nothing else. */
export function Body(fields: Record<string, TSchema>) {
  return Type.Object(Object.fromEntries(Object.entries(fields).map(([k, v]) => [k, Type.Optional(v)])), {
    additionalProperties: false,
  });
}

export const iso = (d: Date | null | undefined) => (d ? d.toISOString() : null);
