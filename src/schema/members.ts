/**
 * The members of an object schema that the contract leaves open (JWK members, link members).
 *
 * @internal
 */
import * as Schema from "effect/Schema"

/**
 * The open rest of an object schema whose declared members are `fields`: any other member, kept
 * and typed `unknown`. Not a declared name: the schema's own member decodes it, and a rest that
 * took it too would let `Arbitrary.make` generate a declared member of any value (a JWK with
 * `n: []`), which the schema then refuses. Not `__proto__`: `JSON.parse` makes it an own member,
 * and a decoder that copies it with `output[key] = value` (Effect's does) would make its value
 * the decoded object's prototype, so that `key.alg` could read a value the key does not hold. A
 * name this refuses is left out of the rest, as a member nobody declared.
 *
 * @internal
 */
export const otherMembers = (fields: Schema.Struct.Fields) => {
  const declared = new Set(Object.keys(fields))
  return Schema.Record({
    key: Schema.String.pipe(Schema.filter((name) => name !== "__proto__" && !declared.has(name))),
    value: Schema.Unknown
  })
}
