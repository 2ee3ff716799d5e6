/**
 * The shape of the engine: no import cycle in `src/`, nothing in `src/internal/` importing the
 * public layers or services above it, and no source file over 400 lines.
 */
import { describe, expect, it } from "@effect/vitest"
import { readdirSync, readFileSync } from "node:fs"
import { dirname, join, relative, resolve } from "node:path"
import { fileURLToPath } from "node:url"

const root = resolve(dirname(fileURLToPath(import.meta.url)), "../src")
const files = (dir: string): Array<string> =>
  readdirSync(dir, { withFileTypes: true }).flatMap((entry) =>
    entry.isDirectory()
      ? files(join(dir, entry.name))
      : entry.name.endsWith(".ts")
        ? [join(dir, entry.name)]
        : []
  )
const sources = files(root)
const importsOf = (file: string): Array<string> =>
  [...readFileSync(file, "utf8").matchAll(/from "(\.{1,2}\/[^"]+)\.js"/g)].map((m) =>
    resolve(dirname(file), `${m[1]}.ts`)
  )
const graph = new Map(sources.map((file) => [file, importsOf(file)]))
const name = (file: string) => relative(root, file)

describe("the structure of src/", () => {
  it("has no import cycle", () => {
    const cycles: Array<string> = []
    const state = new Map<string, "visiting" | "done">()
    const visit = (file: string, path: Array<string>) => {
      if (state.get(file) === "done") return
      if (state.get(file) === "visiting") {
        cycles.push([...path.slice(path.indexOf(file)), file].map(name).join(" → "))
        return
      }
      state.set(file, "visiting")
      for (const next of graph.get(file) ?? []) visit(next, [...path, file])
      state.set(file, "done")
    }
    for (const file of sources) visit(file, [])
    expect(cycles).toEqual([])
  })

  it("keeps internal/ below the public modules", () => {
    const upward = sources
      .filter((file) => name(file).startsWith("internal/"))
      .flatMap((file) =>
        (graph.get(file) ?? [])
          .filter((target) => /^(layers|services|testing)\//.test(name(target)))
          .map((target) => `${name(file)} → ${name(target)}`)
      )
    expect(upward).toEqual([])
  })

  it("has no file over 400 lines", () => {
    const long = sources
      .map((file) => [name(file), readFileSync(file, "utf8").split("\n").length - 1] as const)
      .filter(([file, lines]) => !file.startsWith("testing/") && lines > 400)
    expect(long).toEqual([])
  })
})
