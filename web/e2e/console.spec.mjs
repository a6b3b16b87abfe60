// The console and GraphiQL, clicked through like a user would, against a
// real Hookline. Run: npm run test:e2e (needs Go and /usr/bin/chromium).
import { after, before, describe, it } from "node:test";
import assert from "node:assert/strict";
import { adminKey, launchBrowser, screenshotDir, shot as screenshot, startHookline, startReceiver, unnamed, waitUntil, watch } from "./harness.mjs";

const timeout = 20_000;

/** shot checks that every control in view has a name, then saves a screenshot. */
async function shot(page, name) {
  assert.deepEqual(await unnamed(page), [], `${name}: controls without an accessible name`);
  await screenshot(page, name);
}

describe("console", { timeout: 240_000 }, () => {
  let hl, receiver, browser, admin;
  const pages = [];
  let webhookPath = "";
  let shareURL = "";
  let partner;

  before(async () => {
    [hl, receiver] = await Promise.all([startHookline(), startReceiver()]);
    browser = await launchBrowser();
    admin = await browser.newContext({ viewport: { width: 1280, height: 800 } });
  });

  after(async () => {
    for (const { page, problems } of pages) {
      assert.deepEqual(problems, [], `${page.url()}: ${problems.join("\n")}`);
    }
    await browser?.close();
    await receiver?.close();
    await hl?.stop();
    console.log(`screenshots: ${screenshotDir}`);
  });

  async function open(context, path = "/") {
    const page = await context.newPage();
    page.setDefaultTimeout(timeout);
    pages.push({ page, problems: watch(page, hl.baseURL) });
    await page.goto(hl.baseURL + path);
    return page;
  }

  async function signIn(page, key = adminKey) {
    await page.getByLabel("API key").fill(key);
    await page.getByRole("button", { name: "Sign in" }).click();
    await page.getByRole("heading", { name: "Webhooks", level: 1 }).waitFor();
  }

  it("refuses a wrong key with the server's message", async () => {
    const page = await open(admin);
    await shot(page, "01-sign-in");
    await page.getByLabel("API key").fill("hkl_not_a_real_key");
    await page.getByRole("button", { name: "Sign in" }).click();
    await page.getByRole("alert").filter({ hasText: "invalid or revoked API key" }).waitFor();
    await page.getByLabel("API key").waitFor();
    await page.close();
  });

  it("signs in and creates a webhook, with errors next to their field", async () => {
    const page = await open(admin);
    await signIn(page);
    assert.equal(new URL(page.url()).pathname, "/webhooks");
    await page.getByRole("link", { name: "New webhook" }).click();
    await page.getByRole("heading", { name: "New webhook" }).waitFor();
    await page.getByLabel("URL", { exact: true }).fill("ftp://example.com/x");
    await page.getByLabel("Events").fill("order.created");
    await page.getByRole("button", { name: "Create webhook" }).click();
    await page.getByLabel("URL", { exact: true }).and(page.locator("[aria-invalid=true]")).waitFor();
    await shot(page, "02-webhook-form-error");
    await page.getByLabel("URL", { exact: true }).fill(receiver.url);
    await page.getByLabel("Description").fill("Orders to the test receiver");
    await page.getByLabel("Filters (JSON)").fill('{"region": ["eu"]}');
    await page.getByRole("button", { name: "Add header" }).click();
    await page.getByRole("group", { name: "Header 1" }).getByLabel("Name").fill("X-Team");
    await page.getByRole("group", { name: "Header 1" }).getByLabel("Value").fill("logistics");
    await page.getByRole("button", { name: "Create webhook" }).click();
    await page.getByRole("heading", { name: "Webhook created" }).waitFor();
    const secret = await page.getByRole("region", { name: "Signing secret" }).locator("code").textContent();
    assert.match(secret, /^whsec_/);
    await page.getByRole("link", { name: "Open the webhook" }).click();
    await page.getByRole("heading", { name: receiver.url }).waitFor();
    webhookPath = new URL(page.url()).pathname;
    await page.getByRole("link", { name: "Webhooks", exact: true }).first().click();
    await page.getByRole("link", { name: receiver.url }).waitFor();
    await shot(page, "03-webhooks");
    await page.close();
  });

  it("shows a test event's attempt in Live and in the webhook's deliveries without reloading", async () => {
    const live = await open(admin);
    await signIn(live);
    await live.getByRole("link", { name: "Live", exact: true }).click();
    await live.getByRole("heading", { name: "Live" }).waitFor();
    await live.getByText("Streaming").waitFor();

    const detail = await open(admin);
    await signIn(detail);
    await detail.getByRole("link", { name: receiver.url }).click();
    await detail.getByRole("heading", { name: "Recent deliveries" }).waitFor();
    await detail.getByText("No deliveries.").waitFor();

    const sender = await open(admin);
    await signIn(sender);
    await sender.getByRole("link", { name: "Events" }).click();
    await sender.getByText("Send test event").click();
    await sender.getByLabel("Event type").fill("order.created");
    await sender.getByLabel("Payload (JSON)").fill('{"region": "eu", "order": 42}');
    await sender.getByRole("button", { name: "Send event" }).click();
    await sender.getByText("Sent order.created: 1 delivery.").waitFor();
    await shot(sender, "06-events");

    const row = live.getByRole("button", { name: /order\.created/ });
    await row.waitFor();
    await live.getByRole("listitem").getByText("success").waitFor();
    await shot(live, "04-live");
    await detail.getByRole("table", { name: /This webhook's deliveries/ }).getByText("succeeded").waitFor();
    await shot(detail, "05-webhook-detail");
    assert.equal(receiver.received.length, 1, "the receiver got the delivery once");

    await row.click();
    const panel = live.getByRole("region", { name: "Attempt" });
    await panel.getByRole("table", { name: "Request headers" }).getByText("X-Team").waitFor();
    await panel.getByLabel("Response body").getByText('"received": true').waitFor();
    await panel.getByLabel("Request body").getByText('"order": 42').waitFor();
    await shot(live, "07-live-attempt");
    await Promise.all([live.close(), sender.close()]);

    // The delivery's own page, its timeline and redelivery.
    await detail.getByRole("link", { name: /Delivery of order\.created/ }).click();
    await detail.getByRole("heading", { name: "Delivery of order.created" }).waitFor();
    await detail.getByRole("button", { name: /#1 .* success/ }).click();
    await detail.getByRole("table", { name: "Response headers" }).waitFor();
    await detail.getByRole("button", { name: "Redeliver now" }).click();
    await detail.getByRole("button", { name: /#2 .* success/ }).waitFor();
    await shot(detail, "08-delivery");
    await detail.getByRole("link", { name: "Deliveries", exact: true }).first().click();
    await detail.getByRole("heading", { name: "Deliveries", level: 1 }).waitFor();
    await shot(detail, "09-deliveries");
    await detail.close();
  });

  it("catches up in Live after a gap in the stream and after a SLOW_SUBSCRIBER drop", async () => {
    const page = await admin.newPage();
    page.setDefaultTimeout(timeout);
    pages.push({ page, problems: watch(page, hl.baseURL) });
    // The page's websockets go through here, to be cut, refused or tampered with.
    let refuse = false;
    let drop = null;
    const dropped = [];
    const sockets = [];
    await page.routeWebSocket(/\/graphql$/, (ws) => {
      if (refuse) return ws.close({ code: 1013, reason: "try again later" });
      const server = ws.connectToServer();
      const subs = new Map();
      ws.onMessage((m) => {
        const msg = JSON.parse(m);
        if (msg.type === "subscribe") subs.set(msg.payload.operationName, msg.id);
        server.send(m);
      });
      server.onMessage((m) => {
        const msg = JSON.parse(m);
        if (drop && msg.id === drop) dropped.push(msg);
        else ws.send(m);
      });
      sockets.push({ ws, server, subs });
    });
    const publish = (order) =>
      fetch(`${hl.baseURL}/graphql`, {
        method: "POST",
        headers: { Authorization: `Bearer ${adminKey}`, "Content-Type": "application/json" },
        body: JSON.stringify({ query: `mutation { publishEvent(input: {type: "order.created", payload: {region: "eu", order: ${order}}}) { id } }` }),
      }).then((r) => assert.equal(r.status, 200));
    const shown = async () => Number((await page.getByText(/^\d+ attempts?/).textContent()).match(/\d+/)[0]);

    await page.goto(`${hl.baseURL}/live`);
    await page.getByLabel("API key").fill(adminKey);
    await page.getByRole("button", { name: "Sign in" }).click();
    await page.getByText("Streaming").waitFor();
    await waitUntil("the backfill", async () => (await shown()) > 0);
    let count = await shown();

    // A gap: the socket drops, reconnecting is refused meanwhile, and an attempt is made.
    refuse = true;
    let before = receiver.received.length;
    await sockets.at(-1).ws.close({ code: 1001, reason: "going away" }); // as a restarting server does
    await page.getByText("Reconnecting…").waitFor();
    await publish(43);
    await waitUntil("the receiver to get order 43", () => receiver.received.length > before);
    refuse = false;
    await page.getByText("Reconnected and caught up: 1 missed attempt loaded.").waitFor();
    assert.equal(await shown(), count + 1);
    count += 1;

    // A drop: the server's messages stop, then it ends the subscription as too slow.
    const s = await (async () => {
      await waitUntil("the resubscription", () => sockets.at(-1).subs.has("LiveAttempts"));
      return sockets.at(-1);
    })();
    drop = s.subs.get("LiveAttempts");
    before = receiver.received.length;
    await publish(44);
    await waitUntil("the attempt to be held back", () => dropped.some((m) => m.payload?.data?.deliveryAttempts));
    s.ws.send(JSON.stringify({ id: drop, type: "next", payload: { errors: [{ message: "subscriber too slow", extensions: { code: "SLOW_SUBSCRIBER" } }] } }));
    s.ws.send(JSON.stringify({ id: drop, type: "complete" }));
    s.server.send(JSON.stringify({ id: drop, type: "complete" }));
    await page.getByText("Caught up after a gap: 1 missed attempt loaded.").waitFor();
    assert.equal(await shown(), count + 1);
    await shot(page, "15-live-caught-up");
    await page.close();
  });

  it("rotates the secret and pings the webhook", async () => {
    // A deep link opens its view once signed in.
    const page = await open(admin, webhookPath);
    await page.getByLabel("API key").fill(adminKey);
    await page.getByRole("button", { name: "Sign in" }).click();
    await page.getByRole("heading", { name: receiver.url }).waitFor();
    await page.getByRole("img", { name: /Attempts per minute: \d+ attempts? in the last hour: \d+ succeeded, 0 failed/ }).waitFor();
    await page.getByRole("button", { name: "Rotate secret" }).click();
    await page.getByRole("button", { name: "Yes, rotate secret" }).click();
    const secret = await page.getByRole("region", { name: "New signing secret" }).locator("code").textContent();
    assert.match(secret, /^whsec_/);
    await page.getByRole("button", { name: "Ping" }).click();
    await page.getByText(/Ping: HTTP 200 in \d+ ms, health healthy/).waitFor();
    await shot(page, "10-webhook-actions");
    await page.close();
  });

  it("edits, disables, trims the events of and deletes a webhook", async () => {
    const page = await open(admin);
    await signIn(page);
    await page.getByRole("link", { name: "New webhook" }).click();
    await page.getByLabel("URL", { exact: true }).fill(`${receiver.url}/second`);
    await page.getByLabel("Events").fill("invoice.paid, invoice.void");
    await page.getByLabel("Bearer token").fill("eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9.eyJzdWIiOiJ4In0.c2ln");
    await page.getByRole("button", { name: "Create webhook" }).click();
    await page.getByRole("link", { name: "Open the webhook" }).click();
    await page.getByRole("heading", { name: `${receiver.url}/second` }).waitFor();

    // Edit: a server-side error lands next to its field, then a good change saves.
    await page.getByRole("link", { name: "Edit" }).click();
    await page.getByRole("heading", { name: "Edit webhook" }).waitFor();
    await page.getByText("Set. Type a new one to replace it.").waitFor(); // the bearer token, write-only
    await page.getByLabel("Filters (JSON)").fill('{"awb": "not a list"}');
    await page.getByRole("button", { name: "Save changes" }).click();
    await page.getByLabel("Filters (JSON)").and(page.locator("[aria-invalid=true]")).waitFor();
    await shot(page, "16-webhook-edit-error");
    await page.getByLabel("Filters (JSON)").fill("");
    await page.getByLabel("Description").fill("Invoices");
    await page.getByRole("button", { name: "Save changes" }).click();
    await page.getByText("Invoices", { exact: true }).waitFor();

    await page.getByRole("button", { name: "Disable" }).click();
    await page.getByText("disabled", { exact: true }).waitFor();
    await page.getByRole("button", { name: "Enable" }).click();
    await page.getByText("disabled", { exact: true }).waitFor({ state: "detached" });

    await page.getByLabel("invoice.void").check();
    await page.getByRole("button", { name: "Remove event" }).click();
    await page.getByLabel("invoice.void").waitFor({ state: "detached" });
    await page.getByLabel("invoice.paid").waitFor();

    await page.getByRole("button", { name: "Delete" }).click();
    await page.getByRole("button", { name: "Yes, delete" }).click();
    await page.getByRole("heading", { name: "Webhooks", level: 1 }).waitFor();
    await page.getByRole("link", { name: receiver.url, exact: true }).waitFor();
    assert.equal(await page.getByRole("link", { name: `${receiver.url}/second` }).count(), 0);
    await page.close();
  });

  it("shares a partner link, switches owner, and signs the partner out on revocation", async () => {
    const page = await open(admin);
    await signIn(page);
    await page.getByRole("link", { name: "API keys" }).click();
    await page.getByRole("heading", { name: "API keys" }).waitFor();
    await page.getByLabel("Partner (owner)").fill("acme-cargo");
    await page.getByRole("button", { name: "Create share link" }).click();
    shareURL = await page.getByLabel("Share link URL").inputValue();
    assert.match(shareURL, /\/#key=hkl_/);
    await shot(page, "11-api-keys");

    // The admin acts as the partner's owner: none of admin's webhooks show.
    await page.getByLabel("Owner", { exact: true }).selectOption("acme-cargo");
    await page.getByRole("link", { name: "Webhooks", exact: true }).click();
    await page.getByText("No webhooks yet.").waitFor();
    await page.getByLabel("Owner", { exact: true }).selectOption("admin");
    await page.getByRole("link", { name: receiver.url }).waitFor();

    // The partner opens the link in a browser of their own.
    partner = await browser.newContext({ viewport: { width: 390, height: 844 } });
    const p = await open(partner, new URL(shareURL).pathname + new URL(shareURL).hash);
    await p.getByRole("heading", { name: "Webhooks", level: 1 }).waitFor();
    assert.equal(new URL(p.url()).hash, "", "the key is removed from the address bar");
    await p.getByText("acme-cargo").first().waitFor();
    assert.equal(await p.getByRole("link", { name: "API keys" }).count(), 0, "a member sees no API keys view");
    await p.getByText("Connected").waitFor(); // the socket that hears of the revocation
    await shot(p, "12-partner-phone");

    // Revoking the partner's key signs their console out at once.
    await page.getByRole("link", { name: "API keys" }).click();
    await page.getByRole("row", { name: /acme-cargo/ }).getByRole("button", { name: "Revoke" }).click();
    await page.getByRole("button", { name: "Yes, revoke" }).click();
    await page.getByRole("row", { name: /acme-cargo/ }).waitFor({ state: "detached" });
    await p.getByLabel("API key").waitFor();
    await p.getByRole("alert").filter({ hasText: /revoked/i }).waitFor();
    await shot(p, "13-partner-signed-out");
    await page.close();
  });
});

describe("GraphiQL", { timeout: 120_000 }, () => {
  let hl, browser;
  before(async () => {
    hl = await startHookline();
    browser = await launchBrowser();
  });
  after(async () => {
    await browser?.close();
    await hl?.stop();
  });

  it("loads with no network, sends the key from the Headers tab, and shows the schema's docs", async () => {
    const context = await browser.newContext({ viewport: { width: 1280, height: 800 } });
    const page = await context.newPage();
    page.setDefaultTimeout(timeout);
    const problems = watch(page, hl.baseURL);
    await page.goto(`${hl.baseURL}/graphiql`);
    await page.locator(".graphiql-container").waitFor();
    await page.getByRole("tab", { name: "Headers" }).or(page.getByRole("button", { name: "Headers" })).first().click();
    const headers = page.locator(".graphiql-editor-tool .CodeMirror").last();
    await headers.click();
    await page.keyboard.press("Control+A");
    await page.keyboard.type(`{"Authorization": "Bearer ${adminKey}"`);
    await page.getByRole("button", { name: /execute query/i }).click();
    await page.locator(".result-window").getByText('"role": "ADMIN"').waitFor();

    await page.getByRole("button", { name: /re-fetch graphql schema/i }).click();
    await page.getByRole("button", { name: /show documentation explorer/i }).click();
    const docs = page.locator(".graphiql-doc-explorer");
    await docs.getByText("Root Types").waitFor();
    await docs.getByRole("link", { name: "Query", exact: true }).click();
    await docs.getByText("webhookStats").first().waitFor();
    await screenshot(page, "14-graphiql"); // GraphiQL's own controls are its business

    // A subscription authenticates with the same headers, in connection_init.
    const api = (query) =>
      fetch(`${hl.baseURL}/graphql`, {
        method: "POST",
        headers: { Authorization: `Bearer ${adminKey}`, "Content-Type": "application/json" },
        body: JSON.stringify({ query }),
      }).then((r) => r.json());
    const created = await api(`mutation { createWebhook(input: {url: "http://127.0.0.1:9/x", events: ["*"]}) { webhook { id } } }`);
    const id = created.data.createWebhook.webhook.id;
    await page.locator(".graphiql-query-editor .CodeMirror").click();
    await page.keyboard.press("Control+A");
    await page.keyboard.insertText("subscription { webhookUpdated { id description } }");
    await page.getByRole("button", { name: /execute query/i }).click();
    const result = page.locator(".result-window");
    let n = 0;
    await waitUntil("the subscription to start", async () => {
      n++; // each update a change, so that each is told
      await api(`mutation { updateWebhook(id: "${id}", input: {description: "seen live ${n}"}) { id } }`);
      return (await result.getByText(/"seen live \d+"/).count()) > 0;
    });
    await screenshot(page, "17-graphiql-subscription");
    assert.deepEqual(problems, []);
    await context.close();
  });
});
