'use strict'
// The CommonJS entry (dist/index.cjs after the build): `require('fastify-jwt-revoke')` gives the plugin itself, the
// way Fastify plugins are used from CommonJS, with `.default` and every named export on it too.
const esm = require('./index.js')
module.exports = esm.default
Object.assign(module.exports, esm)
