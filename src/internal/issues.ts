/**
 * Describes a schema `ParseIssue` without ever printing the offending value.
 *
 * Effect's own formatters print `actual …`, which for a request body would put the target app's
 * API token or an Office 365 admin password into an error message. This walker keeps what helps
 * (the path and what was expected) and drops the values.
 *
 * @internal
 */
import type * as ParseResult from "effect/ParseResult"
import * as Redacted from "effect/Redacted"
import type * as AST from "effect/SchemaAST"
import { nearest } from "./nearest.js"

const formatPath = (path: ReadonlyArray<PropertyKey>): string =>
  path.length === 0
    ? ""
    : path
        .map((key) => (typeof key === "number" ? `[${key}]` : `.${String(key)}`))
        .join("")
        .replace(/^\./, "")

/** One leaf issue: where (`""` at the top) and what is wrong there. */
interface Leaf {
  readonly where: string
  readonly message: string
  /** For a value of the wrong type, what kind of value it was (never the value). */
  readonly got?: string | undefined
  /** The literal expected that the value is in another case (`"token"` for `"TOKEN"`). */
  readonly meant?: string | undefined
}

const literalsOf = (ast: AST.AST): ReadonlyArray<AST.LiteralValue> =>
  ast._tag === "Literal" ? [ast.literal] : ast._tag === "Union" ? ast.types.flatMap(literalsOf) : []

/** The string literal of `ast` that `actual` spells in another case, if any. */
const caseOf = (ast: AST.AST, actual: unknown): string | undefined => {
  if (typeof actual !== "string") return undefined
  const lower = actual.toLowerCase()
  return literalsOf(ast).find(
    (literal): literal is string => typeof literal === "string" && literal.toLowerCase() === lower
  )
}

/** How a literal is spelt, said of a value in another case. */
export const spelling = (literal: string): string =>
  literal === literal.toUpperCase()
    ? `in capitals: "${literal}"`
    : literal === literal.toLowerCase()
      ? `in lower case: "${literal}"`
      : `spelt "${literal}"`

/**
 * What a schema expected, short: a struct or an array by its kind (Effect prints its whole type,
 * kilobytes for a response), a union by its members' kinds, anything else as Effect prints it.
 */
const expectation = (ast: AST.AST): string => {
  switch (ast._tag) {
    case "TypeLiteral":
      return "an object"
    case "TupleType":
      return "an array"
    case "Union":
      return [...new Set(ast.types.map(expectation))].join(" | ")
    default:
      return String(ast)
  }
}

/**
 * The kind of a value, which says nothing of its content. A `Redacted` is named: the client's own
 * options take a token so, but a body member takes the string itself.
 */
const kindOf = (value: unknown): string => {
  if (value === null) return "null"
  if (Redacted.isRedacted(value)) return "a Redacted (give its string, Redacted.value(…))"
  if (Array.isArray(value)) return "an array"
  return typeof value === "object"
    ? "an object"
    : typeof value === "undefined"
      ? "undefined"
      : `a ${typeof value}`
}

/**
 * `members`: those of the struct the issue is in, for a member it does not have (`tokn`) to be
 * said with the one meant (`token`).
 */
const walk = (
  issue: ParseResult.ParseIssue,
  path: ReadonlyArray<PropertyKey>,
  out: Array<Leaf>,
  members: ReadonlyArray<string> = []
): void => {
  const at = (message: string) => out.push({ where: formatPath(path), message })
  switch (issue._tag) {
    case "Pointer": {
      const keys = Array.isArray(issue.path) ? issue.path : [issue.path as PropertyKey]
      walk(issue.issue, [...path, ...keys], out, members)
      return
    }
    case "Composite": {
      const issues = Array.isArray(issue.issues) ? issue.issues : [issue.issues]
      const inStruct =
        issue.ast._tag === "TypeLiteral"
          ? issue.ast.propertySignatures.map(({ name }) => String(name))
          : members
      for (const inner of issues as ReadonlyArray<ParseResult.ParseIssue>) {
        walk(inner, path, out, inStruct)
      }
      return
    }
    case "Refinement":
    case "Transformation":
      walk(issue.issue, path, out)
      return
    case "Missing":
      at("is missing")
      return
    case "Unexpected": {
      const name = String(path[path.length - 1])
      const meant = nearest(name, members)
      at(
        meant === undefined || meant === name
          ? "is not allowed"
          : `is not allowed (did you mean ${meant}?)`
      )
      return
    }
    case "Forbidden":
      at("could not be checked")
      return
    case "Type":
      // A custom message comes from this library's own filters and never includes the value.
      if (issue.message !== undefined) at(issue.message)
      else
        out.push({
          where: formatPath(path),
          message: `${EXPECTED}${expectation(issue.ast)}`,
          got: kindOf(issue.actual),
          meant: caseOf(issue.ast, issue.actual)
        })
      return
  }
}

const EXPECTED = "expected "

const below = (where: string, other: string) =>
  where === "" || other === where || other.startsWith(`${where}.`) || other.startsWith(`${where}[`)

/**
 * One line per place, `path: what is wrong`, at most `max` lines. The members of a union that
 * each expected something else at one place make one line, `expected A | B`.
 *
 * @internal
 */
export const describeIssue = (issue: ParseResult.ParseIssue, max = 8): string => {
  const leaves: Array<Leaf> = []
  walk(issue, [], leaves)
  // `optional(X)` is `X | undefined`; "expected undefined" beside the real expectation (at the
  // same path or below it) is noise.
  const kept = leaves.filter(
    (leaf) =>
      leaf.message !== `${EXPECTED}undefined` ||
      !leaves.some(
        (other) =>
          (other.where !== leaf.where || other.message !== leaf.message) &&
          below(leaf.where, other.where)
      )
  )
  // One line per place and message; what the members of a union expected at one place, in one.
  const lines = new Map<
    string,
    {
      where: string
      what: Set<string>
      expected: boolean
      got: string | undefined
      meant: string | undefined
    }
  >()
  for (const { got, meant, message, where } of kept) {
    const expected = message.startsWith(EXPECTED)
    const key = `${where}\0${expected ? EXPECTED : message}`
    const line = lines.get(key) ?? { where, what: new Set<string>(), expected, got, meant }
    for (const what of expected ? message.slice(EXPECTED.length).split(" | ") : [message]) {
      line.what.add(what)
    }
    line.meant ??= meant
    lines.set(key, line)
  }
  const unique = [...lines.values()].map(({ expected, got, meant, what, where }) => {
    // A string where only string literals fit: the kind says nothing the expectation does not.
    const obvious = got === "a string" && [...what].every((w) => w.startsWith('"'))
    const message = expected
      ? `${EXPECTED}${[...what].join(" | ")}${got !== undefined && !obvious ? `, got ${got}` : ""}${meant !== undefined ? ` (${spelling(meant)})` : ""}`
      : [...what].join("")
    return where === "" ? message : `${where}: ${message}`
  })
  const shown = unique.slice(0, max)
  if (unique.length > max) shown.push(`… and ${unique.length - max} more`)
  return shown.join("; ")
}
