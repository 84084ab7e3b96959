// The official Backendless JS SDK (npm `backendless`, pinned in package.json) against the emulator,
// in Node: the cases of cases.js (the same cases a browser page runs).
//
// Run by tests/emulator/test_emu_jssdk.py: `node conformance.cjs [CASE ...]` with BL_CONFORMANCE
// holding the config cases.js describes, plus "adminToken" (to read the emulator's outbox: Node
// calls the admin routes itself). The only output is one JSON line per case:
// {"case", "ok", "detail"}; anything else on stdout or stderr fails the test.
'use strict'

const Backendless = require('backendless')
const { runConformance } = require('./cases.js')

const config = JSON.parse(process.env.BL_CONFORMANCE)

// The SDK sends blUserLocale from navigator.languages[0]; browsers and Node >= 21 have a
// navigator, Node 20 has none. One is given here so that register sends what a browser sends,
// whatever Node's version.
Object.defineProperty(globalThis, 'navigator', {
  value: { languages: [config.locale] }, configurable: true, writable: true,
})

// The emulator's admin routes, with the admin token.
async function admin(method, path, body) {
  const headers = { 'X-Admin-Token': config.adminToken }
  if (body !== undefined) headers['Content-Type'] = 'application/json'
  const answer = await fetch(`${config.serverURL}${path}`,
    { method, headers, body: body === undefined ? undefined : JSON.stringify(body) })
  if (!answer.ok) throw new Error(`admin ${method} ${path}: HTTP ${answer.status}`)
  return answer.json()
}

function emit(result) {
  process.stdout.write(JSON.stringify(result) + '\n')
}

runConformance(Backendless, config, admin, process.argv.slice(2), emit).catch(error => {
  emit({ case: '(runner)', ok: false, detail: String(error) })
  process.exitCode = 1
})
