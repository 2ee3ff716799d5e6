export * from "./OktaError.js"
