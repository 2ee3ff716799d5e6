/**
 * `npm run bench`: every benchmark, printed as a Markdown table (paste it into the README with the
 * date). Figures are ratios against a baseline measured in the same run.
 */
import { Effect } from "effect"
import { coldStart } from "./coldstart.js"
import { overhead } from "./overhead.js"
import { resilience, type Row } from "./resilience.js"
import { shared } from "./shared.js"

const print = (rows: ReadonlyArray<Row>) => {
  console.log("| scenario | result | target | detail |")
  console.log("|---|---|---|---|")
  for (const row of rows)
    console.log(`| ${row.scenario} | ${row.figure} | ${row.target} | ${row.detail} |`)
}

const main = Effect.gen(function* () {
  console.log(
    `Benchmarks, ${new Date().toISOString().slice(0, 10)}, Node ${process.versions.node}\n`
  )
  // Which groups to run: `npm run bench -- overhead cold resilience shared` (default all).
  const groups = process.argv.slice(2)
  const wants = (name: string) => groups.length === 0 || groups.includes(name)
  const rows: Array<Row> = []
  if (wants("overhead")) rows.push(...(yield* Effect.promise(() => overhead())))
  if (wants("cold")) rows.push(...(yield* Effect.promise(() => coldStart())))
  if (wants("resilience")) rows.push(...(yield* resilience()))
  if (wants("shared")) rows.push(...(yield* shared()))
  print(rows)
})

Effect.runPromise(main).catch((error: unknown) => {
  console.error(error)
  process.exitCode = 1
})
