// The demo walkthrough in headless Chromium: alice requests a prod deploy (after a form with
// a bad version shows its error next to the field), her approve button is absent and a
// forged POST is refused, bob and carol approve from another browser, and alice's open page
// receives the run's logs and the final state live. Screenshots of the main pages go to the
// folder given.
//
//   node walkthrough.mjs http://127.0.0.1:PORT path/to/screenshots
import { chromium } from "playwright-core";
import { join } from "node:path";

const [base, shots] = process.argv.slice(2);
if (!base || !shots) {
  console.error("usage: node walkthrough.mjs BASE_URL SCREENSHOT_DIR");
  process.exit(2);
}

function check(ok, what) {
  if (!ok) throw new Error("check failed: " + what);
  console.log("ok - " + what);
}

// Playwright starts Chromium with a fresh temporary profile (--user-data-dir) of its own and
// removes it on close; it refuses the flag given by hand.
const browser = await chromium.launch({
  executablePath: process.env.CHROMIUM || "/usr/bin/chromium",
  headless: true,
  timeout: 30000,
  args: ["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run", "--disable-background-networking",
    "--disable-component-update", "--disable-sync"],
});

try {
  const alice = await browser.newContext({ viewport: { width: 1280, height: 900 } });
  alice.setDefaultTimeout(15000);
  const page = await alice.newPage();

  await page.goto(base + "/");
  check((await page.textContent("#acting-as")) === "alice", "the demo signs in as alice under its banner");
  await page.screenshot({ path: join(shots, "home.png"), fullPage: true });

  await page.goto(base + "/catalog");
  await page.screenshot({ path: join(shots, "catalog.png"), fullPage: true });

  await page.goto(base + "/workflows/deploy/new");
  await page.selectOption("#f-service", "api");
  await page.fill("#f-version", "1.4");
  await page.selectOption("#f-environment", "prod");
  await page.click("button[type=submit].primary");
  await page.waitForSelector(".field.invalid #f-version");
  const error = await page.textContent("#e-version");
  check(/does not match/.test(error), "a bad version shows its error next to the field: " + error.trim());
  check((await page.inputValue("#f-version")) === "1.4", "the typed value is kept");
  check((await page.inputValue("#f-environment")) === "prod", "the other values are kept");
  await page.screenshot({ path: join(shots, "request-form-error.png"), fullPage: true });

  await page.fill("#f-version", "1.4.2");
  await Promise.all([page.waitForURL(/\/tickets\/[A-Z]+-\d+$/), page.click("button[type=submit].primary")]);
  const url = page.url();
  const id = url.split("/").pop();
  check((await page.getAttribute("#state", "data-state")) === "awaiting_approval", id + " waits for approval");
  check((await page.locator("#approve").count()) === 0, "alice's own approve button is absent");
  const digest = await page.evaluate(async (id) => {
    const r = await fetch("/tickets/" + id); const t = await r.text();
    return (t.match(/title="([0-9a-f]{64})"/) || [])[1];
  }, id);
  const forged = await page.request.post(base + "/tickets/" + id + "/approve", { form: { digest }, maxRedirects: 0 });
  check(forged.status() === 403, "a forged POST (no CSRF token) is refused with " + forged.status());
  await page.reload();
  check((await page.getAttribute("#state", "data-state")) === "awaiting_approval", "and changed nothing");
  await page.screenshot({ path: join(shots, "ticket-awaiting.png"), fullPage: true });
  // Alice keeps the page open; a marker shows it is never reloaded from here on.
  await page.evaluate(() => { window.__docketMarker = "still here"; });

  const approvers = await browser.newContext({ viewport: { width: 390, height: 844 }, isMobile: true, hasTouch: true });
  approvers.setDefaultTimeout(15000);
  const phone = await approvers.newPage();
  for (const person of ["bob", "carol"]) {
    await phone.goto(base + "/");
    await phone.selectOption("#demo-person", person);
    await Promise.all([phone.waitForURL(base + "/"), phone.click("#demo-switch")]);
    check((await phone.textContent("#acting-as")) === person, "switched to " + person);
    await phone.goto(url);
    if (person === "bob") await phone.screenshot({ path: join(shots, "ticket-phone.png"), fullPage: true });
    await Promise.all([phone.waitForURL(url), phone.click("#approve")]);
    check((await phone.locator("#flash").count()) === 0, person + " approved without a refusal");
  }

  await page.waitForFunction(() => document.getElementById("state").dataset.state === "succeeded", null, { timeout: 30000 });
  const lines = await page.locator("#runs pre.log span").allTextContents();
  check(lines.some((l) => /health check 3\/3/.test(l)), "the logs streamed into alice's open page (" + lines.length + " lines)");
  check((await page.evaluate(() => window.__docketMarker)) === "still here", "without a reload");
  await page.screenshot({ path: join(shots, "ticket-succeeded.png"), fullPage: true });

  const dark = await browser.newContext({ viewport: { width: 1280, height: 900 }, colorScheme: "dark" });
  const night = await dark.newPage();
  await night.goto(base + "/");
  await night.selectOption("#demo-person", "dana");
  await Promise.all([night.waitForURL(base + "/"), night.click("#demo-switch")]);
  await night.goto(url);
  await night.screenshot({ path: join(shots, "ticket-dark.png"), fullPage: true });
  await night.goto(base + "/audit?ticket=" + id + "&verify=1");
  check(/Intact/.test(await night.textContent("#chain")), "the audit chain is intact");
  await night.screenshot({ path: join(shots, "audit.png"), fullPage: true });
  console.log("walkthrough passed for " + id);
} finally {
  await browser.close();
}
