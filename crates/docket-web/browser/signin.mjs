// Signing in to Docket through a real OpenID provider in headless Chromium: Docket sends the
// browser to the provider's own login page, alice logs in there (and consents when asked),
// and the browser lands on Docket's home page signed in as her; then she signs out.
//
//   node signin.mjs DOCKET_URL PROVIDER_URL
import { chromium } from "playwright-core";

const [base, issuer] = process.argv.slice(2);
if (!base || !issuer) {
  console.error("usage: node signin.mjs DOCKET_URL PROVIDER_URL");
  process.exit(2);
}

function check(ok, what) {
  if (!ok) throw new Error("check failed: " + what);
  console.log("ok - " + what);
}

// Sends the form on the page and waits for wherever it leads.
async function submit(page) {
  const before = page.url();
  await Promise.all([page.waitForURL((url) => url.href !== before), page.click("button[type=submit]")]);
}

const browser = await chromium.launch({
  executablePath: process.env.CHROMIUM || "/usr/bin/chromium",
  headless: true,
  timeout: 30000,
  args: ["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run", "--disable-background-networking",
    "--disable-component-update", "--disable-sync"],
});

try {
  const context = await browser.newContext({ viewport: { width: 1280, height: 900 } });
  context.setDefaultTimeout(15000);
  // Only the two local servers: the provider's pages also ask for a web font.
  await context.route((url) => url.hostname !== "127.0.0.1", (route) => route.abort());
  const page = await context.newPage();

  await page.goto(base + "/");
  check(page.url().startsWith(issuer + "/interaction/"), "Docket sent the browser to the provider: " + page.url());
  check((await page.locator("input[name=login]").count()) === 1, "the provider shows its own login page");
  await page.fill("input[name=login]", "alice");
  await page.fill("input[name=password]", "any password");
  await submit(page);
  // The provider asks for consent the first time; its page has one button.
  for (let i = 0; i < 3 && page.url().startsWith(issuer); i++) {
    const prompt = await page.locator("input[name=prompt]").getAttribute("value");
    console.log("the provider asks: " + prompt);
    await submit(page);
  }
  await page.waitForURL((url) => url.href.startsWith(base));
  const landed = page.url() === base + "/" ? "" : " (" + (await page.textContent("main, body")).trim().replace(/\s+/g, " ") + ")";
  check(landed === "", "back on Docket's home page: " + page.url() + landed);
  const who = page.locator(".who").first();
  check((await who.getAttribute("title")) === "alice" && (await who.textContent()) === "Alice Ng",
    "signed in to Docket as alice (Alice Ng)");

  await Promise.all([page.waitForURL(base + "/logout"), page.click("form[action='/logout'] button")]);
  check((await page.textContent("body")).includes("You are signed out of Docket."), "signed out");
  const after = await page.request.get(base + "/tickets", { maxRedirects: 0 });
  check(after.status() === 303 && after.headers().location.startsWith("/login"),
    "after signing out, Docket asks the browser to sign in again");
  console.log("sign-in passed");
} finally {
  await browser.close();
}
