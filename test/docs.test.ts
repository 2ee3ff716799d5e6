/**
 * Every TypeScript block of the README, of docs/ and of the source's JSDoc `@example`s compiles,
 * strictly, against the built package (as a user's project imports it: `effect-okta-connections`
 * resolves through the package's own exports to dist/), and no link between the documents dangles.
 */
import { describe, expect, it } from "@effect/vitest"
import { existsSync, mkdirSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs"
import { dirname, join, resolve } from "node:path"
import { fileURLToPath } from "node:url"
import ts from "typescript"

const root = fileURLToPath(new URL("..", import.meta.url))
const documents = [
  "README.md",
  "bench/README.md",
  ...readdirSync(join(root, "docs"))
    .filter((file) => file.endsWith(".md"))
    .map((file) => `docs/${file}`)
]

interface Snippet {
  readonly document: string
  readonly line: number
  readonly code: string
}

const snippets: ReadonlyArray<Snippet> = documents.flatMap((document) => {
  const text = readFileSync(join(root, document), "utf8")
  const found: Array<Snippet> = []
  for (const match of text.matchAll(/^```(ts|typescript)\n([\s\S]*?)^```$/gm)) {
    const line = text.slice(0, match.index).split("\n").length + 1
    found.push({ document, line, code: match[2]! })
  }
  return found
})

// The `@example` blocks of the source's JSDoc: what an editor shows on hover.
const sourceFiles = (dir: string): ReadonlyArray<string> =>
  readdirSync(join(root, dir), { withFileTypes: true }).flatMap((entry) =>
    entry.isDirectory()
      ? sourceFiles(`${dir}/${entry.name}`)
      : entry.name.endsWith(".ts")
        ? [`${dir}/${entry.name}`]
        : []
  )
const examples: ReadonlyArray<Snippet> = sourceFiles("src").flatMap((document) => {
  const text = readFileSync(join(root, document), "utf8")
  return [...text.matchAll(/^[ \t]*\* ```(ts|typescript)\n([\s\S]*?)^[ \t]*\* ```$/gm)].map(
    (match) => ({
      document,
      line: text.slice(0, match.index).split("\n").length + 1,
      code: match[2]!.replace(/^[ \t]*\* ?/gm, "")
    })
  )
})

describe("the TypeScript in the README and docs/, and the source's JSDoc examples", () => {
  it("is in complete modules (each imports what it uses)", () => {
    expect(snippets.length).toBeGreaterThan(10)
    expect(examples.length).toBeGreaterThan(100)
    for (const { document, line, code } of [...snippets, ...examples]) {
      expect(/^import /m.test(code), `${document}:${line} has no import`).toBe(true)
    }
  })

  it("compiles, strict, against the built package", () => {
    expect(
      existsSync(join(root, "dist/index.d.ts")),
      "dist/ is missing: npm test builds it first (npm run build)"
    ).toBe(true)
    // Inside the package, so that `effect-okta-connections` is the package itself (dist/).
    const dir = join(root, "test/.snippets")
    rmSync(dir, { recursive: true, force: true })
    mkdirSync(dir, { recursive: true })
    const all = [...snippets, ...examples]
    const files = all.map(({ document, line, code }) => {
      const file = join(dir, `${document.replace(/[/.]/g, "_")}_${line}.ts`)
      writeFileSync(file, code)
      return file
    })
    const program = ts.createProgram(files, {
      strict: true,
      exactOptionalPropertyTypes: true,
      noUncheckedIndexedAccess: true,
      noEmit: true,
      target: ts.ScriptTarget.ES2022,
      lib: ["lib.es2022.d.ts"],
      module: ts.ModuleKind.NodeNext,
      moduleResolution: ts.ModuleResolutionKind.NodeNext,
      types: ["node"],
      // As `tsc --init` writes them (TypeScript 5.9 on): a snippet importing a type without
      // `type`, or exporting a value whose type cannot be named in a .d.ts, fails in a new
      // user's project.
      declaration: true,
      verbatimModuleSyntax: true,
      isolatedModules: true,
      noUncheckedSideEffectImports: true,
      moduleDetection: ts.ModuleDetectionKind.Force,
      skipLibCheck: true
    })
    const problems = ts.getPreEmitDiagnostics(program).map((diagnostic) => {
      const message = ts.flattenDiagnosticMessageText(diagnostic.messageText, "\n")
      if (diagnostic.file === undefined) return message
      const { line } = diagnostic.file.getLineAndCharacterOfPosition(diagnostic.start ?? 0)
      const snippet = all[files.indexOf(resolve(diagnostic.file.fileName))]
      const where =
        snippet !== undefined
          ? `${snippet.document}:${snippet.line + line}`
          : diagnostic.file.fileName
      return `${where}: ${message}`
    })
    expect(problems).toEqual([])
  }, 120_000)
})

describe("links between the documents", () => {
  it("point at files that exist", () => {
    const dangling: Array<string> = []
    for (const document of documents) {
      const text = readFileSync(join(root, document), "utf8")
      for (const match of text.matchAll(/\]\(([^)#\s]+)(#[^)]*)?\)/g)) {
        const target = match[1]!
        if (/^[a-z]+:/.test(target)) continue
        if (!existsSync(resolve(join(root, dirname(document)), target))) {
          dangling.push(`${document} → ${target}`)
        }
      }
    }
    expect(dangling).toEqual([])
  })

  it("no document or source comment points outside the repository", () => {
    const offenders: Array<string> = []
    const scan = (dir: string) => {
      for (const entry of readdirSync(join(root, dir), { withFileTypes: true })) {
        const path = `${dir}/${entry.name}`
        if (entry.isDirectory()) {
          if (![".snippets", "fixtures", "node_modules"].includes(entry.name)) scan(path)
        } else if (/\.(ts|md|mjs)$/.test(entry.name)) {
          const text = readFileSync(join(root, path), "utf8")
          if (/\.\.\/shared\/|examples\/README\.md/.test(text)) offenders.push(path)
        }
      }
    }
    for (const dir of ["src", "test", "examples", "bench", "scripts", "docs"]) scan(dir)
    for (const file of ["README.md"]) {
      if (/\.\.\/shared\//.test(readFileSync(join(root, file), "utf8"))) offenders.push(file)
    }
    expect(offenders).toEqual([])
  })
})

describe("the metric tables", () => {
  // A user finds the metrics in two tables (the module's JSDoc, shown on hover, and
  // docs/resilience.md): each exported metric is in both, and nothing else is.
  it("list every exported metric, in the module's JSDoc and in docs/resilience.md", async () => {
    const OktaMetrics = await import("../src/metrics/OktaMetrics.js")
    const source = readFileSync(join(root, "src/metrics/OktaMetrics.ts"), "utf8")
    const declared = [
      ...source.matchAll(/^ {2}"(okta_connections_\w+)"|\("(okta_connections_\w+)"/gm)
    ]
      .map((match) => match[1] ?? match[2]!)
      .sort()
    expect(declared).toHaveLength(Object.keys(OktaMetrics).length)
    const tabled = (text: string) =>
      [...text.matchAll(/^[ *]*\| `(okta_connections_\w+)` +\|/gm)].map((match) => match[1]!).sort()
    expect(tabled(source)).toEqual(declared)
    expect(tabled(readFileSync(join(root, "docs/resilience.md"), "utf8"))).toEqual(declared)
  })
})
