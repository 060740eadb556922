// The demo walkthrough in headless Chromium: alice requests a prod deploy (after a form with
// a bad version shows its error next to the field), her approve button is absent and a
// forged POST is refused, bob and carol approve from another browser, and alice's open page
// receives the approvals, the comment, the run's logs, the final state and her actions live.
// On the way: the catalog's cards and descriptions, a workflow's choices, a page that does not
// exist, steps not started yet, a phone that never scrolls sideways, and the audit page refused
// to alice and opened by switching to dana, the demo's admin. Screenshots of the main pages go
// to the folder given.
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
  const card = await page.locator(".card").first().boundingBox();
  check(card.width > 600, "a catalog card takes its row, not a quarter of it (" + Math.round(card.width) + "px)");
  check((await page.locator(".card code", { hasText: "current" }).count()) === 1, "descriptions show `code` as code");
  await page.screenshot({ path: join(shots, "catalog.png"), fullPage: true });

  await page.goto(base + "/workflows/deploy");
  check(/One of api, web, worker/.test(await page.textContent("main")), "the workflow page lists a choice's values");
  const missing = await page.goto(base + "/no/such/page");
  check(missing.status() === 404 && (await page.locator("#back").count()) === 1, "an unknown page says so, with the way back");

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
  check((await page.textContent("#note-1-0")) === "Not started", "a step not started says so");
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
    const sideways = await phone.evaluate(() => document.documentElement.scrollWidth - document.documentElement.clientWidth);
    check(sideways <= 0, "nothing overflows sideways on " + person + "'s phone (" + sideways + "px)");
    if (person === "bob") {
      await phone.screenshot({ path: join(shots, "ticket-phone.png"), fullPage: true });
      await phone.fill("#approve-comment", "diff looks right");
    }
    await Promise.all([phone.waitForURL(url), phone.click("#approve")]);
    check((await phone.locator("#flash").count()) === 0, person + " approved without a refusal");
    if (person === "bob") {
      // Alice's open page follows: the approval with its comment, the stage done, the next asked.
      await page.waitForFunction(() => /Bob Ruiz approved \(stage sre\)/.test(document.getElementById("side").textContent));
      check(/diff looks right/.test(await page.textContent("#side")), "bob's comment reached alice's open page");
      check((await page.locator(".stage.done").count()) === 1, "the sre stage shows approved on alice's open page");
      check(/security/.test(await page.textContent("#headline")), "the headline says security is next: " + (await page.textContent("#headline")));
    }
  }

  await page.waitForFunction(() => document.getElementById("state").dataset.state === "succeeded", null, { timeout: 30000 });
  const headline = await page.textContent("#headline");
  check(!/waiting/i.test(headline), "the succeeded badge never sits beside a waiting headline: " + headline.trim());
  await page.waitForFunction(() => !document.getElementById("cancel"));
  check((await page.locator("#approval-h").count()) === 1 && (await page.locator(".stage.done").count()) === 2,
    "both stages show approved, and alice's cancel button is gone");
  const lines = await page.locator("#runs pre.log span").allTextContents();
  check(lines.some((l) => /health check 3\/3/.test(l)), "the logs streamed into alice's open page (" + lines.length + " lines)");
  check((await page.evaluate(() => window.__docketMarker)) === "still here", "without a reload");
  await page.screenshot({ path: join(shots, "ticket-succeeded.png"), fullPage: true });

  const dark = await browser.newContext({ viewport: { width: 1280, height: 900 }, colorScheme: "dark" });
  const night = await dark.newPage();
  const audit = base + "/audit?ticket=" + id + "&verify=1";
  const refused = await night.goto(audit);
  check(refused.status() === 403 && (await night.textContent("#acting-as")) === "alice",
    "the audit page refuses alice inside the frame, banner and all");
  check(/dana/.test(await night.textContent("#hint")), "and says dana is the demo's admin");
  await night.selectOption("#demo-person", "dana");
  await Promise.all([night.waitForURL(audit), night.click("#demo-switch")]);
  check(/Intact/.test(await night.textContent("#chain")), "switching to dana opens it: the audit chain is intact");
  await night.screenshot({ path: join(shots, "audit.png"), fullPage: true });
  await night.goto(url);
  await night.screenshot({ path: join(shots, "ticket-dark.png"), fullPage: true });
  console.log("walkthrough passed for " + id);
} finally {
  await browser.close();
}
