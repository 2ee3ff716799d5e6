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

const walk = (
  issue: ParseResult.ParseIssue,
  path: ReadonlyArray<PropertyKey>,
  out: Array<string>
): void => {
  const at = (message: string) => {
    const where = formatPath(path)
    out.push(where === "" ? message : `${where}: ${message}`)
  }
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

/**
 * One line per leaf issue, `path: what is wrong`, deduplicated, at most `max` lines.
 *
 * @internal
 */
export const describeIssue = (issue: ParseResult.ParseIssue, max = 8): string => {
  const lines: Array<string> = []
  walk(issue, [], lines)
  // `optional(X)` is `X | undefined`; "expected undefined" beside the real expectation (at the
  // same path or below it) is noise.
  const unique = [...new Set(lines)].filter((line, _, all) => {
    if (!line.endsWith("expected undefined")) return true
    const path = line.slice(0, -"expected undefined".length).replace(/: $/, "")
    return !all.some(
      (other) =>
        other !== line &&
        (path === "" ||
          other.startsWith(`${path}:`) ||
          other.startsWith(`${path}.`) ||
          other.startsWith(`${path}[`))
    )
  })
  const shown = unique.slice(0, max)
  if (unique.length > max) shown.push(`… and ${unique.length - max} more`)
  return shown.join("; ")
}
