// The official Backendless JS SDK (npm `backendless`, pinned in package.json) against the emulator.
//
// Run by tests/emulator/test_emu_jssdk.py: `node conformance.cjs` with BL_CONFORMANCE holding
// {"serverURL", "appId", "apiKey", "tokens": {...}} (provider tokens minted by the test), and
// "domain" to initialise the SDK in the domain form instead.
// Every case is one line of CASES: a name and an async function that throws when the SDK's
// answer is not what Backendless would give. The only output is one JSON line per case:
// {"case", "ok", "detail"}; anything else on stdout or stderr fails the test.
'use strict'

const Backendless = require('backendless')

const config = JSON.parse(process.env.BL_CONFORMANCE)
const tokens = config.tokens
const Users = () => Backendless.UserService

function check(condition, message) {
  if (!condition) throw new Error(message)
}

function isUser(user) {
  check(user && typeof user.objectId === 'string', `not a user: ${JSON.stringify(user)}`)
  return user
}

async function rejects(promise, code) {
  try {
    await promise
  } catch (error) {
    check(error.code === code, `expected code ${code}, got ${error.code}: ${error.message}`)
    return
  }
  throw new Error(`expected a rejection with code ${code}`)
}

const state = {}

// [name, async () => ...]: the calls of Backendless.UserService, in the order a program makes them.
const CASES = [
  ['initApp loads the app info', async () => {
    const info = await Backendless.appInfoPromise()
    check(info.appId === config.appId && Array.isArray(info.loggers), JSON.stringify(info))
  }],
  ['loginAsGuest', async () => {
    state.guest = isUser(await Users().loginAsGuest())
    check(state.guest.userStatus === 'GUEST', 'not a guest')
    check(typeof Users().getCurrentUserToken() === 'string', 'no user token')
  }],
  ['getCurrentUser (cached)', async () => {
    const user = await Users().getCurrentUser()
    check(user.objectId === state.guest.objectId, 'another user')
  }],
  ['getCurrentUser (reload)', async () => {
    const user = isUser(await Users().getCurrentUser(true))
    check(user.objectId === state.guest.objectId, 'another user')
  }],
  ['isValidLogin', async () => check(await Users().isValidLogin() === true, 'not valid')],
  ['loginWithOauth2 upgrades the guest', async () => {
    const user = isUser(await Users().loginWithOauth2('google', tokens.google, state.guest,
      { email: 'email' }))
    check(user.objectId === state.guest.objectId, 'the guest was not upgraded')
    check(user.email === 'ann@example.com' && user.userStatus === 'ENABLED', JSON.stringify(user))
  }],
  ['loginWithOauth2 with stayLoggedIn', async () => {
    const user = isUser(await Users().loginWithOauth2('github', tokens.github, true))
    check(user.email === 'ann@example.com', JSON.stringify(user))
    check(Users().loggedInUser() === user.objectId, 'not the current user')
  }],
  ['loginWithOauth1', async () => {
    const [token, secret] = tokens.twitter
    const user = isUser(await Users().loginWithOauth1('twitter', token, secret))
    check(user.socialAccount === 'TWITTER', JSON.stringify(user))
  }],
  ['loginWithFacebookSdk', async () => {
    const user = isUser(await Users().loginWithFacebookSdk(tokens.facebook, { email: 'email' }))
    check(user.socialAccount === 'FACEBOOK', JSON.stringify(user))
  }],
  ['loginWithGooglePlusSdk', async () => {
    const user = isUser(await Users().loginWithGooglePlusSdk(tokens.googleplus))
    check(user.email === 'ann@example.com', JSON.stringify(user))
  }],
  ['getAuthorizationUrlLink', async () => {
    const url = await Users().getAuthorizationUrlLink('google', { email: 'email' }, 'openid email',
      false, 'http://127.0.0.1:9/done')
    check(typeof url === 'string' && url.startsWith(config.serverURL + '/_providers/google/'), url)
    check(new URL(url).searchParams.get('scope') === 'openid email', url)
  }],
  ['loginWithOauth2 with a rejected token', async () => {
    await rejects(Users().loginWithOauth2('google', 'not-a-google-token'), 3060)
  }],
  ['logout', async () => {
    await Users().logout()
    check(Users().getCurrentUserToken() === null, 'still a token')
  }],
  ['isValidLogin after logout', async () => {
    check(await Users().isValidLogin() === false, 'still valid')
  }],
  ['logout without a session', async () => {
    await Users().loginAsGuest()
    Users().setCurrentUserToken('00000000-DEAD-TOKEN')
    await rejects(Users().logout(), 3064)
  }],
  // The password calls (register, login, restorePassword, ...) go here, one line each.
]

async function main() {
  if (config.domain) {
    Backendless.initApp(config.domain)
  } else {
    Backendless.initApp({ appId: config.appId, apiKey: config.apiKey, serverURL: config.serverURL })
  }
  const only = process.argv.slice(2)
  for (const [name, run] of CASES) {
    if (only.length && !only.includes(name)) continue
    let ok = true
    let detail = null
    try {
      await run()
    } catch (error) {
      ok = false
      detail = `${error.code === undefined ? '' : `code ${error.code}: `}${error.message}`
    }
    process.stdout.write(JSON.stringify({ case: name, ok, detail }) + '\n')
  }
}

main().catch(error => {
  process.stdout.write(JSON.stringify({ case: '(runner)', ok: false, detail: String(error) }) + '\n')
  process.exitCode = 1
})
