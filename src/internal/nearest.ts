/**
 * What the user may have meant: a body member (`tokn`: `token`) or, in the command line, an
 * option or a manifest field.
 *
 * @internal
 */

/** The one of `known` within two edits of `typo` (`--jsn`: `--json`), if no other is as near. */
export const nearest = (typo: string, known: ReadonlyArray<string>): string | undefined => {
  const edits = (a: string, b: string) => {
    let row = Array.from({ length: b.length + 1 }, (_, j) => j)
    for (let i = 1; i <= a.length; i++) {
      const next = [i]
      for (let j = 1; j <= b.length; j++) {
        next[j] = Math.min(
          row[j]! + 1,
          next[j - 1]! + 1,
          row[j - 1]! + (a[i - 1] === b[j - 1] ? 0 : 1)
        )
      }
      row = next
    }
    return row[b.length]!
  }
  const near = known
    .map((name) => [name, edits(typo, name)] as const)
    .filter(([, n]) => n <= 2)
    .sort((x, y) => x[1] - y[1])
  return near.length === 1 || (near.length > 1 && near[0]![1] < near[1]![1])
    ? near[0]![0]
    : undefined
}
