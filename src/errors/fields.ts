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

/**
 * How many requests the call sent before it failed, when it sent more than one (it was retried);
 * absent after a single attempt. @internal
 */
export const Attempts = Schema.optional(Schema.Number)

/** `, after 3 attempts`, or nothing after one. @internal */
export const afterAttempts = (e: { readonly attempts?: number | undefined }): string =>
  e.attempts !== undefined && e.attempts > 1 ? `, after ${e.attempts} attempts` : ""

/** @internal */
export const where = (e: {
  readonly operation: string
  readonly method: string
  readonly path: string
}) => `${e.operation} (${e.method} ${e.path})`

/**
 * Failed under a span, an error leaves Effect wrapped in a `Proxy`, which Chai's inspector
 * (Vitest's `expect`) does not take for an Error; it asks the error's Node inspector instead,
 * which answers with the error itself, and recurses until the stack overflows: a failed
 * `expect(error)` said "Maximum call stack size exceeded". Chai's own hook comes first: these
 * classes answer it with their tag and message.
 *
 * @internal
 */
export const inspectableByChai = (
  classes: ReadonlyArray<{
    readonly prototype: { readonly _tag: string; readonly message: string }
  }>
): void => {
  for (const error of classes) {
    Object.defineProperty(error.prototype, Symbol.for("chai/inspect"), {
      value(this: { readonly _tag: string; readonly message: string }) {
        return `${this._tag}: ${this.message}`
      }
    })
  }
}
