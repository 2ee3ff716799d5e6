/**
 * `npm run bench`: every benchmark, printed as a Markdown table (paste it into the README with the
 * date). Figures are ratios against a baseline measured in the same run.
 */
import { Effect } from "effect"
import { resilience, type Row } from "./resilience.js"

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
  print(yield* resilience())
})

Effect.runPromise(main).catch((error: unknown) => {
  console.error(error)
  process.exitCode = 1
})
