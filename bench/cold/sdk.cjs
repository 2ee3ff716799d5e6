// Cold start of the official SDK: require it, build the client, make one call.
const okta = require("@okta/okta-sdk-nodejs")

const [url, token, appId] = process.argv.slice(2)
new okta.Client({ orgUrl: url, token }).applicationApi
  .getDefaultProvisioningConnectionForApplication({ appId })
  .then(() => console.log(JSON.stringify({ maxRSS: process.resourceUsage().maxRSS })))
