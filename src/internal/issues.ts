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
}

const walk = (
  issue: ParseResult.ParseIssue,
  path: ReadonlyArray<PropertyKey>,
  out: Array<Leaf>
): void => {
  const at = (message: string) => out.push({ where: formatPath(path), message })
  switch (issue._tag) {
    case "Pointer": {
      const keys = Array.isArray(issue.path) ? issue.path : [issue.path as PropertyKey]
      walk(issue.issue, [...path, ...keys], out)
      return
    }
    case "Composite": {
      const issues = Array.isArray(issue.issues) ? issue.issues : [issue.issues]
      for (const inner of issues as ReadonlyArray<ParseResult.ParseIssue>) walk(inner, path, out)
      return
    }
    case "Refinement":
    case "Transformation":
      walk(issue.issue, path, out)
      return
    case "Missing":
      at("is missing")
      return
    case "Unexpected":
      at("is not allowed")
      return
    case "Forbidden":
      at("could not be checked")
      return
    case "Type":
      // A custom message comes from this library's own filters and never includes the value.
      at(issue.message ?? `expected ${String(issue.ast)}`)
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
  const lines = new Map<string, { where: string; what: Set<string>; expected: boolean }>()
  for (const { message, where } of kept) {
    const expected = message.startsWith(EXPECTED)
    const key = `${where}\0${expected ? EXPECTED : message}`
    const line = lines.get(key) ?? { where, what: new Set<string>(), expected }
    line.what.add(expected ? message.slice(EXPECTED.length) : message)
    lines.set(key, line)
  }
  const unique = [...lines.values()].map(({ expected, what, where }) => {
    const message = expected ? `${EXPECTED}${[...what].join(" | ")}` : [...what].join("")
    return where === "" ? message : `${where}: ${message}`
  })
  const shown = unique.slice(0, max)
  if (unique.length > max) shown.push(`… and ${unique.length - max} more`)
  return shown.join("; ")
}
