// A real OpenID Connect server for the tests: panva's oidc-provider, configured from a JSON
// file, listening on 127.0.0.1 on a free port. It prints one line of JSON on stdout,
// {"issuer": ..., "port": ...}, once it accepts connections, and stops on SIGTERM.
//
// usage: node provider.mjs config.json
// config: {"clients": [oidc-provider client metadata...],
//          "accounts": {"<login>": {"email": ..., "name": ...}}}
// The sign-in pages are oidc-provider's own development pages (any login, any password;
// then a consent page). Every client must use PKCE (S256).
import fs from 'node:fs';
import http from 'node:http';

import Provider from 'oidc-provider';

const config = JSON.parse(fs.readFileSync(process.argv[2], 'utf8'));
const accounts = config.accounts || {};

const server = http.createServer();
server.listen(0, '127.0.0.1', () => {
  const { port } = server.address();
  const issuer = `http://127.0.0.1:${port}`;
  const provider = new Provider(issuer, {
    clients: config.clients,
    pkce: { methods: ['S256'], required: () => true },
    features: {
      devInteractions: { enabled: true },
      revocation: { enabled: true },
    },
    scopes: ['openid', 'email', 'profile'],
    claims: { openid: ['sub'], email: ['email', 'email_verified'], profile: ['name'] },
    cookies: { keys: ['oidc-provider-test-only-cookie-key'] },
    async findAccount(ctx, id) {
      const known = accounts[id] || { email: `${id}@oidc.example`, name: id };
      return {
        accountId: id,
        async claims() {
          return { sub: id, email: known.email, email_verified: true, name: known.name };
        },
      };
    },
  });
  server.on('request', provider.callback());
  process.stdout.write(`${JSON.stringify({ issuer, port })}\n`);
});

process.on('SIGTERM', () => server.close(() => process.exit(0)));
