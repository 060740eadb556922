// A certified OpenID provider for the sign-in test: node oidc-provider in its default
// configuration, apart from what it cannot run without. Its own development login and consent
// pages are on (the default), and so is `conformIdTokenClaims` (the default): the ID token
// carries only `sub`, and the email comes from UserInfo.
//
//   node provider.mjs PORT DOCKET_URL
//
// Issuer http://127.0.0.1:PORT; one client, `docket` / `docket-test-secret`, sent back to
// DOCKET_URL/auth/callback. Any password signs in; the login `alice` is alice@example.com.
import Provider from "oidc-provider";

const [port, docket] = process.argv.slice(2);
if (!port || !docket) {
  console.error("usage: node provider.mjs PORT DOCKET_URL");
  process.exit(2);
}
const issuer = `http://127.0.0.1:${port}`;

// The accounts the login page signs in to, by the login typed there.
const accounts = {
  alice: { email: "alice@example.com", email_verified: true },
};

const provider = new Provider(issuer, {
  // Unavoidable: there are no clients by default. A web client with the code flow may use a
  // plain http redirect URI (only the implicit flow needs https), so nothing else is changed;
  // its token endpoint method stays the default, client_secret_basic.
  clients: [
    {
      client_id: "docket",
      client_secret: "docket-test-secret",
      redirect_uris: [`${docket}/auth/callback`],
    },
  ],
  // Unavoidable: by default only `openid` (sub) is defined, so there would be no email to
  // share. This is the standard `email` scope.
  claims: { email: ["email", "email_verified"] },
  // Unavoidable: the default account has no claims but `sub`.
  async findAccount(ctx, id) {
    const account = accounts[id];
    if (!account) return undefined;
    return { accountId: id, async claims() { return { sub: id, ...account }; } };
  },
});

// Which endpoints Docket used, for the test to check (UserInfo above all).
provider.on("userinfo.error", (ctx, error) => console.log("userinfo error: " + error.message));
provider.on("server_error", (ctx, error) => console.log("server error: " + error.stack));
provider.use(async (ctx, next) => {
  await next();
  console.log(`${ctx.method} ${ctx.path} ${ctx.status}`);
});

provider.listen(Number(port), "127.0.0.1", () => console.log("listening on " + issuer));
