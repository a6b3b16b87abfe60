// Starts what the browser tests click through: a real Hookline built from
// this repository on a fresh SQLite database, a receiver that answers 200,
// and Debian's Chromium driven by playwright-core.
import { spawn, execFileSync } from "node:child_process";
import { mkdtempSync, mkdirSync, rmSync } from "node:fs";
import http from "node:http";
import net from "node:net";
import os from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { chromium } from "playwright-core";

const here = path.dirname(fileURLToPath(import.meta.url));
export const repoRoot = path.resolve(here, "../..");
export const screenshotDir = path.resolve(process.env.SCREENSHOT_DIR ?? path.join(here, "screenshots"));
export const adminKey = "hkl_browser_tests_admin_key_0123456789";

/** freePort asks the kernel for a port nobody listens on. */
async function freePort() {
  return new Promise((resolve, reject) => {
    const s = net.createServer();
    s.on("error", reject);
    s.listen(0, "127.0.0.1", () => {
      const { port } = s.address();
      s.close(() => resolve(port));
    });
  });
}

/** waitUntil polls cond until it holds or timeout ms pass. */
export async function waitUntil(what, cond, timeout = 15_000) {
  const end = Date.now() + timeout;
  for (;;) {
    try {
      if (await cond()) return;
    } catch {
      // not yet
    }
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

/** startReceiver answers every request 200 and counts them. */
export async function startReceiver() {
  const received = [];
  const server = http.createServer((req, res) => {
    let body = "";
    req.on("data", (c) => (body += c));
    req.on("end", () => {
      received.push({ method: req.method, url: req.url, headers: req.headers, body });
      res.writeHead(200, { "Content-Type": "application/json" });
      res.end(JSON.stringify({ received: true }));
    });
  });
  await new Promise((r) => server.listen(0, "127.0.0.1", r));
  return { url: `http://127.0.0.1:${server.address().port}/hooks`, received, close: () => new Promise((r) => server.close(r)) };
}

let built;

/** build builds the hookline binary from this repository, once per run. */
function build() {
  if (!built) {
    const dir = mkdtempSync(path.join(os.tmpdir(), "hookline-browser-bin-"));
    const bin = path.join(dir, "hookline");
    execFileSync("go", ["build", "-o", bin, "."], { cwd: repoRoot, stdio: "inherit" });
    process.on("exit", () => rmSync(dir, { recursive: true, force: true }));
    built = bin;
  }
  return built;
}

/** startHookline runs hookline on a fresh database until stop. */
export async function startHookline() {
  const bin = build();
  const dir = mkdtempSync(path.join(os.tmpdir(), "hookline-browser-"));
  const port = await freePort();
  const addr = `127.0.0.1:${port}`;
  let log = "";
  const proc = spawn(bin, [], {
    cwd: dir,
    env: {
      ...process.env,
      HOOKLINE_ADDR: addr,
      HOOKLINE_ADMIN_KEY: adminKey,
      HOOKLINE_ALLOW_PRIVATE_TARGETS: "true",
      HOOKLINE_DATABASE_URL: `sqlite://${path.join(dir, "hookline.db")}`,
      HOOKLINE_LOG_LEVEL: "warn",
    },
    stdio: ["ignore", "pipe", "pipe"],
  });
  proc.stdout.on("data", (d) => (log += d));
  proc.stderr.on("data", (d) => (log += d));
  const baseURL = `http://${addr}`;
  await waitUntil("hookline to be ready", async () => (await fetch(`${baseURL}/readyz`)).ok, 30_000);
  return {
    baseURL,
    log: () => log,
    stop: async () => {
      proc.kill("SIGTERM");
      await new Promise((r) => (proc.exitCode !== null ? r() : proc.on("exit", r)));
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

/**
 * launchBrowser starts headless Chromium from Debian with no route off this
 * machine: every name but 127.0.0.1 fails to resolve, so a page that
 * needed a CDN would show it.
 */
export async function launchBrowser() {
  mkdirSync(screenshotDir, { recursive: true });
  return chromium.launch({
    executablePath: process.env.CHROMIUM ?? "/usr/bin/chromium",
    headless: true,
    args: [
      "--headless",
      "--no-sandbox",
      "--disable-gpu",
      "--disable-quic",
      "--no-first-run",
      "--disable-background-networking",
      "--disable-component-update",
      "--disable-sync",
      "--host-resolver-rules=MAP * ~NOTFOUND, EXCLUDE 127.0.0.1",
    ],
  });
}

/**
 * watch records what a page does that it should not: requests off the
 * server, Content-Security-Policy violations, uncaught errors.
 */
export function watch(page, baseURL) {
  const problems = [];
  page.on("request", (req) => {
    const u = req.url();
    if (!u.startsWith(baseURL) && !u.startsWith(baseURL.replace("http", "ws")) && !/^(data|blob):/.test(u)) problems.push(`request off the server: ${u}`);
  });
  page.on("console", (m) => {
    if (/Content Security Policy/i.test(m.text())) problems.push(`CSP: ${m.text()}`);
  });
  page.on("pageerror", (e) => problems.push(`page error: ${e.message}`));
  return problems;
}

/** shot saves a screenshot of page as name.png in the screenshot folder. */
export async function shot(page, name) {
  await page.screenshot({ path: path.join(screenshotDir, `${name}.png`), fullPage: true });
}

/**
 * unnamed lists the page's controls that a screen reader could not name:
 * inputs, selects and text areas without a label, buttons and links
 * without text or aria-label.
 */
export async function unnamed(page) {
  return page.evaluate(() => {
    const named = (el) => {
      if (el.getAttribute("aria-label")?.trim()) return true;
      const by = el.getAttribute("aria-labelledby");
      if (by && by.split(/\s+/).some((id) => document.getElementById(id)?.textContent.trim())) return true;
      if (el.labels && [...el.labels].some((l) => l.textContent.trim())) return true;
      if (["BUTTON", "A"].includes(el.tagName) && el.textContent.trim()) return true;
      return false;
    };
    return [...document.querySelectorAll("input:not([type=hidden]), select, textarea, button, a[href]")]
      .filter((el) => el.getClientRects().length > 0 && !named(el))
      .map((el) => el.outerHTML.slice(0, 120));
  });
}
