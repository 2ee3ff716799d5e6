/**
 * What every error says about the request it belongs to.
 *
 * @internal
 */
import * as Schema from "effect/Schema"

/** @internal */
export const IDENTIFIER = "effect-okta-connections"

/** Where a request was going: the operation and the path (never the query, which may hold an OAuth code). @internal */
export const RequestFields = {
  operation: Schema.String,
  method: Schema.String,
  path: Schema.String
}

/** @internal */
export const where = (e: {
  readonly operation: string
  readonly method: string
  readonly path: string
}) => `${e.operation} (${e.method} ${e.path})`
