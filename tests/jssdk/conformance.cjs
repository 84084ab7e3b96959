// The official Backendless JS SDK (npm `backendless`, pinned in package.json) against the emulator.
//
// Run by tests/emulator/test_emu_jssdk.py: `node conformance.cjs [CASE ...]` with BL_CONFORMANCE
// holding {"serverURL", "appId", "apiKey", "tokens": {...}} (provider tokens minted by the test),
// "cloudCodeKey" (for a second app, as server code holds it: the calls Backendless allows only
// from CloudCode), "adminToken" (to read the emulator's outbox), "locale" (the browser language
// the SDK sends as blUserLocale), and "domain" to initialise the SDK in the domain form instead.
// The emulator must have email confirmation on and a custom role "Pro".
// Every case is one line of CASES: a name and an async function that throws when the SDK's
// answer is not what Backendless would give. The only output is one JSON line per case:
// {"case", "ok", "detail"}; anything else on stdout or stderr fails the test.
// A case the test also makes with our SDK (to compare the requests) sends exactly one request to
// the Backendless routes, and depends only on cases the test also makes; a case that goes
// through the server app (and only such a case) has a name ending in "(CloudCode key)".
'use strict'

const Backendless = require('backendless')

const config = JSON.parse(process.env.BL_CONFORMANCE)
const tokens = config.tokens
const Users = () => Backendless.UserService
// Server code: a standalone app on the CloudCode key, always in the keyed form.
let serverApp = null
const ServerUsers = () => serverApp.UserService

// The SDK sends blUserLocale from navigator.languages[0]; browsers and Node >= 21 have a
// navigator, Node 20 has none. One is given here so that register sends what a browser sends,
// whatever Node's version.
Object.defineProperty(globalThis, 'navigator', {
  value: { languages: [config.locale] }, configurable: true, writable: true,
})

const BOB = 'bob@example.com'
const PASSWORD = 'Bob pass 1'
const CARL = 'carl@example.com'

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

// The emails the emulator would have sent, read from its admin route (not a Backendless call).
async function outbox(to, kind) {
  const query = new URLSearchParams({ to, kind })
  const answer = await fetch(`${config.serverURL}/_emulator/outbox?${query}`,
    { headers: { 'X-Admin-Token': config.adminToken } })
  check(answer.ok, `outbox: HTTP ${answer.status}`)
  return answer.json()
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
  ['register', async () => {
    const user = isUser(await Users().register({ email: BOB, password: PASSWORD, name: 'Bob' }))
    state.bob = user.objectId
    check(user.email === BOB && user.userStatus === 'EMAIL_CONFIRMATION_PENDING',
      JSON.stringify(user))
    check(user.blUserLocale === config.locale.slice(0, 2), `blUserLocale ${user.blUserLocale}`)
    check(!('password' in user) && !user['user-token'], 'a password or a session in the answer')
    check(Users().getCurrentUserToken() === null, 'the registration logged in')
    const [mail] = await outbox(BOB, 'confirmation')
    check(mail && mail.objectId === user.objectId, 'no confirmation email')
  }],
  ['register a taken identity', async () => {
    await rejects(Users().register({ email: 'BOB@example.com', password: 'other pass' }), 3033)
  }],
  ['register without a password', async () => {
    await rejects(Users().register({ email: 'dee@example.com' }), 3011)
  }],
  ['register with an invalid email', async () => {
    await rejects(Users().register({ email: 'not an address', password: PASSWORD }), 3040)
  }],
  ['login before the confirmation', async () => {
    await rejects(Users().login(BOB, PASSWORD), 3087)
  }],
  ['createEmailConfirmationURL', async () => {
    const answer = await Users().createEmailConfirmationURL(BOB)
    const url = answer && answer.confirmationURL
    check(typeof url === 'string' && url.startsWith(`${config.serverURL}/api/users/`),
      JSON.stringify(answer))
  }],
  ['resendEmailConfirmation', async () => {
    await Users().resendEmailConfirmation(BOB)
    check((await outbox(BOB, 'confirmation')).length === 2, 'no second confirmation email')
  }],
  ['the confirmation link from the outbox', async () => {
    const mail = (await outbox(BOB, 'confirmation')).pop()
    const page = await fetch(mail.link)
    check(page.ok && (await page.text()).includes('Email confirmed'), `HTTP ${page.status}`)
  }],
  ['login with a wrong password', async () => {
    await rejects(Users().login(BOB, 'not the password'), 3003)
    check(Users().getCurrentUserToken() === null, 'a session after a failed login')
  }],
  ['login', async () => {
    const user = isUser(await Users().login(BOB, PASSWORD))
    check(user.objectId === state.bob && user.userStatus === 'ENABLED', JSON.stringify(user))
    check(typeof user['user-token'] === 'string', 'no user token')
    check(Users().getCurrentUserToken() === user['user-token'], 'not the current session')
  }],
  ['update', async () => {
    const user = isUser(await Users().update({ objectId: state.bob, name: 'Bobby' }))
    check(user.objectId === state.bob && user.name === 'Bobby' && user.email === BOB,
      JSON.stringify(user))
  }],
  ['update with the logged-in user', async () => {
    const current = await Users().getCurrentUser() // the login's answer, cached: no request
    current.name = 'Bobby'
    current.age = 42
    const user = isUser(await Users().update(current))
    check(user.objectId === state.bob && user.age === 42 && user.name === 'Bobby',
      JSON.stringify(user))
    check(user.userStatus === 'ENABLED' && user.email === BOB, JSON.stringify(user))
  }],
  ['getUserRoles', async () => {
    const roles = await Users().getUserRoles()
    check(Array.isArray(roles) && roles.includes('AuthenticatedUser'), JSON.stringify(roles))
  }],
  ['describeUserClass', async () => {
    const columns = await Users().describeUserClass()
    const email = columns.find(column => column.name === 'email')
    check(email && email.identity === true && email.type === 'STRING' && email.required === true,
      JSON.stringify(email))
    check(columns.some(column => column.name === 'name'), 'no name column')
  }],
  ['restorePassword', async () => {
    await Users().restorePassword(BOB)
    const [mail] = await outbox(BOB, 'password-reset')
    check(mail && mail.link.startsWith(`${config.serverURL}/api/users/`), 'no reset email')
  }],
  ['verifyPassword needs the CloudCode key', async () => {
    await rejects(Users().verifyPassword(PASSWORD), 3122)
  }],
  ['logout of the password user', async () => {
    await Users().logout()
    check(Users().getCurrentUserToken() === null, 'still a token')
  }],
  ['login (CloudCode key)', async () => {
    const user = isUser(await ServerUsers().login(BOB, PASSWORD))
    check(user.objectId === state.bob, JSON.stringify(user))
    check(ServerUsers().getCurrentUserToken() === user['user-token'], 'not the current session')
  }],
  ['verifyPassword (CloudCode key)', async () => {
    check(await ServerUsers().verifyPassword(PASSWORD) === true, 'the password is not valid')
  }],
  ['verifyPassword with a wrong password (CloudCode key)', async () => {
    check(await ServerUsers().verifyPassword('not the password') === false, 'valid')
  }],
  ['login by objectId needs the CloudCode key', async () => {
    await rejects(Users().login(state.bob), 2014)
  }],
  ['login by objectId (CloudCode key)', async () => {
    const user = isUser(await ServerUsers().login(state.bob))
    check(user.objectId === state.bob && typeof user['user-token'] === 'string',
      JSON.stringify(user))
  }],
  ['logout (CloudCode key)', async () => {
    await ServerUsers().logout()
    check(ServerUsers().getCurrentUserToken() === null, 'still a token')
  }],
  ['assignRole from a client', async () => {
    await rejects(Users().assignRole(BOB, 'Pro'), 2011)
  }],
  ['assignRole (CloudCode key)', async () => {
    await ServerUsers().assignRole(BOB, 'Pro')
  }],
  ['assignRole to a social user (CloudCode key)', async () => {
    await ServerUsers().assignRole('ann@example.com', 'Pro')
  }],
  ['getUserRoles of another user (CloudCode key)', async () => {
    const roles = await ServerUsers().getUserRoles(state.bob)
    check(roles.includes('AuthenticatedUser') && roles.includes('Pro'), JSON.stringify(roles))
  }],
  ['findByRole', async () => {
    const query = Backendless.DataQueryBuilder.create()
      .setWhereClause("email LIKE '%@example.com'")
      .setProperties(['email', 'name'])
      .setSortBy(['email DESC'])
      .setPageSize(1)
      .setOffset(1)
    const users = await Users().findByRole('Pro', true, query)
    check(users.length === 1, JSON.stringify(users))
    const [ann] = users
    check(ann.email === 'ann@example.com' && ann.roles.includes('SocialUser') &&
      ann.roles.includes('Pro') && !('socialAccount' in ann), JSON.stringify(ann))
  }],
  ['unassignRole (CloudCode key)', async () => {
    await ServerUsers().unassignRole(BOB, 'Pro')
  }],
  ['findByRole after unassignRole', async () => {
    const users = await Users().findByRole('Pro')
    check(users.length === 1 && users[0].email === 'ann@example.com', JSON.stringify(users))
  }],
  ['findByRole with a system role', async () => {
    await rejects(Users().findByRole('AuthenticatedUser', true, { pageSize: 5 }), 2005)
  }],
  ['disableUser from a client', async () => {
    await rejects(Users().disableUser(state.bob), 3054)
  }],
  ['disableUser (CloudCode key)', async () => {
    await ServerUsers().disableUser(state.bob)
  }],
  ['login of a disabled user', async () => {
    await rejects(Users().login(BOB, PASSWORD), 3090)
  }],
  ['enableUser (CloudCode key)', async () => {
    await ServerUsers().enableUser(state.bob)
  }],
  ['updateUserStatus (CloudCode key)', async () => {
    await ServerUsers().updateUserStatus(state.bob, 'DISABLED')
  }],
  ['updateUserStatus needs the CloudCode key', async () => {
    await rejects(Users().updateUserStatus(state.bob, 'ENABLED'), 3054)
  }],
  ['register upgrades the guest', async () => {
    const guest = isUser(await Users().loginAsGuest())
    const user = isUser(await Users().register({ email: CARL, password: 'Carl pass 1' }))
    check(user.objectId === guest.objectId && user.email === CARL, JSON.stringify(user))
    check(user.userStatus === 'EMAIL_CONFIRMATION_PENDING', JSON.stringify(user))
    await Users().logout()
  }],
]

async function main() {
  if (config.domain) {
    Backendless.initApp(config.domain)
  } else {
    Backendless.initApp({ appId: config.appId, apiKey: config.apiKey, serverURL: config.serverURL })
  }
  serverApp = Backendless.initApp({
    appId: config.appId, apiKey: config.cloudCodeKey, serverURL: config.serverURL, standalone: true,
  })
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
