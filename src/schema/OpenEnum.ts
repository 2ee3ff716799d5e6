/**
 * Open enumerations: the enum values Okta documents today, plus any string it adds tomorrow.
 */
import * as Schema from "effect/Schema"

/**
 * The type of an open enum: the known literals (kept for autocompletion and exhaustive `switch`
 * over what is documented) or any other string. `string & {}` stops TypeScript from collapsing
 * the union to plain `string`.
 */
export type OpenEnum<Known extends string> = Known | (string & {})

/**
 * A schema for an enum that Okta may extend: decoding accepts any string, so a value added to the
 * API later (or `UNKNOWN`, which real orgs return where the spec does not allow it) never breaks a
 * call; the value is kept verbatim as a string. Encoding is the identity.
 *
 * Why not `Schema.Literal`: a closed literal fails the *whole* response decode on a new value
 * which would turn a harmless Okta release into an outage.
 *
 * @example
 * ```ts
 * import { Schema } from "effect"
 * import { openEnum } from "effect-okta-connections"
 *
 * const Status = openEnum("ENABLED", "DISABLED")
 * Schema.decodeUnknownSync(Status)("SUSPENDED") // "SUSPENDED", no error
 * ```
 */
export const openEnum = <const Known extends ReadonlyArray<string>>(
  ...known: Known
): Schema.Schema<OpenEnum<Known[number]>, string> =>
  // The union keeps the known members in the AST, so generated arbitraries and JSON Schema show
  // them; the trailing `String` member is what makes the enum open.
  Schema.Union(Schema.Literal(...known), Schema.String) as unknown as Schema.Schema<
    OpenEnum<Known[number]>,
    string
  >
