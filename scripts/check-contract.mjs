// Compares the contract fixture with another copy of Okta's spec, byte for byte:
//   npm run check:contract -- path/to/application-connections.openapi.yaml
import { readFileSync } from "node:fs"

const [other] = process.argv.slice(2)
if (other === undefined) {
  console.error("usage: npm run check:contract -- <path to application-connections.openapi.yaml>")
  process.exit(2)
}
const fixture = readFileSync(
  new URL("../test/fixtures/application-connections.openapi.yaml", import.meta.url)
)
if (!fixture.equals(readFileSync(other))) {
  console.error(`test/fixtures/application-connections.openapi.yaml differs from ${other}`)
  process.exit(1)
}
console.log(`the contract fixture is ${other}, unchanged`)
