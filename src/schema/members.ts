/**
 * The members of an object schema that the contract leaves open (JWK members, link members).
 *
 * @internal
 */
import * as Schema from "effect/Schema"

/**
 * A member name an open object keeps. Not `__proto__`: `JSON.parse` makes it an own member, and a
 * decoder that copies it with `output[key] = value` (Effect's does) would make its value the
 * decoded object's prototype, so that `key.alg` could read a value the key does not hold. A name
 * this refuses is left out of the decoded object, as a member nobody declared.
 */
const MemberName = Schema.String.pipe(Schema.filter((name) => name !== "__proto__"))

/** The open rest of an object schema: any other member, kept and typed `unknown`. @internal */
export const OtherMembers = Schema.Record({ key: MemberName, value: Schema.Unknown })
