/**
 * What PostgreSQL can store from a pushed JSON body: jsonb refuses NUL characters and lone UTF-16
 * surrogates, and deep nesting is refused before it costs anything. Checked before a push is
 * written, so such input is a clear 400 and never a failed insert.
 */
const LONE_SURROGATE = /[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/;

/** Why `value` cannot be stored (naming where), or undefined when it can. */
export function unstorable(value: unknown, where = 'body', maxDepth = 64, depth = 0): string | undefined {
  if (depth > maxDepth) return `${where}: nested more than ${maxDepth} levels deep`;
  if (typeof value === 'string') {
    return value.includes('\u0000') || LONE_SURROGATE.test(value)
      ? `${where}: contains a NUL character or malformed Unicode`
      : undefined;
  }
  if (Array.isArray(value)) {
    for (const item of value) {
      const reason = unstorable(item, where, maxDepth, depth + 1);
      if (reason) return reason;
    }
    return undefined;
  }
  if (typeof value === 'object' && value !== null) {
    for (const [key, item] of Object.entries(value)) {
      const reason =
        unstorable(key, where, maxDepth, depth + 1) ??
        unstorable(item, `${where}.${key.slice(0, 60)}`, maxDepth, depth + 1);
      if (reason) return reason;
    }
  }
  return undefined;
}
