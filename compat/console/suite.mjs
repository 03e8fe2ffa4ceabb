// The novakeys web console in Debian's Chromium (headless), driven by playwright-core.
// Every flow of issue 21: log-in (and a wrong password), create with the automatic .pem
// download (checked with `ssh-keygen -y`), "Download again" once, import by paste and by
// file (SSH and X.509), details and copy buttons, filter, rename, bind, delete one, batch
// delete with a bound key skipped, the quota state, an XSS attempt, a forged POST from a
// page on another port, zh-TW, the Activity page, log-out (the old cookie stops working).
// Prints "ok ..." / "FAIL ..." per check and a closing "N passed, N failed" line.
import { spawnSync } from "node:child_process";
import fs from "node:fs";
import http from "node:http";
import path from "node:path";

const { chromium } = await import(
  path.join(process.env.CONSOLE_NODE_DIR, "node_modules/playwright-core/index.mjs")
);
const C = process.env.NOVAKEYS_CONSOLE_URL.replace(/\/$/, "");
const IDENTITY = process.env.NOVAKEYS_IDENTITY_URL.replace(/\/$/, "");
const COMPUTE = process.env.NOVAKEYS_COMPUTE_URL.replace(/\/$/, "");
const work = process.env.CONSOLE_WORK;
const shots = path.join(work, "screenshots");
fs.mkdirSync(shots, { recursive: true });
const extraShots = process.env.CONSOLE_SCREENSHOTS || "";

let passed = 0;
let failed = 0;
function check(name, cond, detail = "") {
  if (cond) {
    passed++;
    console.log(`ok ${name}`);
  } else {
    failed++;
    console.log(`FAIL ${name}${detail ? `: ${detail}` : ""}`);
  }
}
async function step(name, fn) {
  console.log(`\n== ${name}`);
  try {
    await fn();
  } catch (e) {
    failed++;
    console.log(`FAIL ${name}: ${e && e.stack ? e.stack : e}`);
  }
}
function run(cmd, args) {
  const r = spawnSync(cmd, args, { encoding: "utf8" });
  if (r.status !== 0) throw new Error(`${cmd} ${args.join(" ")}: ${r.stderr}`);
  return r.stdout;
}
/// The type and base64 of an OpenSSH public key line (the comment aside).
const keyBody = (line) => line.trim().split(/\s+/).slice(0, 2).join(" ");

// Keys the import steps use, made here.
const xssComment = "<script>alert(1)</script><img src=x onerror=alert(2)>";
run("ssh-keygen", ["-q", "-t", "ed25519", "-N", "", "-C", xssComment, "-f", path.join(work, "xss")]);
run("ssh-keygen", ["-q", "-t", "rsa", "-b", "2048", "-N", "", "-C", "file-key@ci", "-f", path.join(work, "filekey")]);
run("openssl", ["req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout", path.join(work, "cert.key"),
  "-out", path.join(work, "cert.crt"), "-subj", "/CN=demo", "-days", "30"]);
const xssPub = fs.readFileSync(path.join(work, "xss.pub"), "utf8");

const userDataDir = fs.mkdtempSync(path.join(work, "chromium-profile-"));
const context = await chromium.launchPersistentContext(userDataDir, {
  executablePath: "/usr/bin/chromium",
  headless: true,
  args: [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
  ],
  acceptDownloads: true,
  viewport: { width: 1280, height: 800 },
  locale: "en-US",
});
await context.grantPermissions(["clipboard-read", "clipboard-write"], { origin: C });
const page = context.pages()[0] || (await context.newPage());
let dialogs = 0;
page.on("dialog", async (d) => {
  dialogs++;
  await d.dismiss();
});
const pageErrors = [];
page.on("pageerror", (e) => pageErrors.push(String(e)));
page.on("console", (m) => {
  // A refused request's own page (401, 403, 409, 410) is logged as a failed load: expected.
  if (m.type() === "error" && !m.text().startsWith("Failed to load resource")) pageErrors.push(m.text());
});

async function screenshot(name) {
  for (const width of [1280, 390]) {
    await page.setViewportSize({ width, height: width === 390 ? 844 : 800 });
    const file = path.join(shots, `${name}-${width}.png`);
    await page.screenshot({ path: file, fullPage: true });
    if (extraShots) fs.copyFileSync(file, path.join(extraShots, `${name}-${width}.png`));
    check(`screenshot ${name} at ${width} px`, fs.statSync(file).size > 5000);
  }
  await page.setViewportSize({ width: 1280, height: 800 });
}

async function logIn(user, password) {
  await page.goto(`${C}/login`);
  await page.fill("#username", user);
  await page.fill("#password", password);
  await page.fill("#domain", "Default");
  await page.click("#login");
  await page.waitForLoadState();
}

async function rowNames() {
  return page.$$eval("#keypairs tbody .col-name a", (as) => as.map((a) => a.textContent.trim()));
}

async function control(method, p, body) {
  const r = await fetch(`${C}/_novakeys${p}`, {
    method,
    headers: { "Content-Type": "application/json" },
    body: body ? JSON.stringify(body) : undefined,
  });
  return { status: r.status, json: r.status === 204 ? null : await r.json() };
}

await step("wrong password", async () => {
  await logIn("demo", "not-the-password");
  check("a wrong password stays on the log-in page", new URL(page.url()).pathname === "/login", page.url());
  check("and says so", (await page.textContent("#login-error")).trim() === "Invalid credentials.");
});

await step("log in", async () => {
  await logIn("demo", "demo");
  check("demo lands on the Key Pairs page", new URL(page.url()).pathname === "/keypairs", page.url());
  check("the project is demo", (await page.$eval("#project-select", (s) => s.selectedOptions[0].textContent)) === "demo");
  check("an empty store shows the empty state", await page.isVisible("#empty"));
  const cookie = (await context.cookies(C)).find((c) => c.name === "nk_session");
  check("the session cookie is HttpOnly and SameSite=Strict", cookie && cookie.httpOnly && cookie.sameSite === "Strict",
    JSON.stringify(cookie));
});

let webKeyPublic = "";
await step("create: the private key downloads at once", async () => {
  await page.click("#create");
  await page.fill("#name", "web-key");
  const download = page.waitForEvent("download");
  await page.click("#create-submit");
  const d = await download;
  check("the download is named web-key.pem", d.suggestedFilename() === "web-key.pem", d.suggestedFilename());
  const pem = path.join(work, "web-key.pem");
  await d.saveAs(pem);
  fs.chmodSync(pem, 0o600);
  check("it is an RSA private key", fs.readFileSync(pem, "utf8").startsWith("-----BEGIN RSA PRIVATE KEY-----"));
  webKeyPublic = (await page.textContent("#created-public-key")).trim();
  const derived = run("ssh-keygen", ["-y", "-f", pem]);
  check("ssh-keygen -y of the .pem equals the page's public key", keyBody(derived) === keyBody(webKeyPublic),
    `${keyBody(derived)} vs ${keyBody(webKeyPublic)}`);
  check("the page warns that the key cannot be recovered",
    (await page.textContent("#created-warning")).includes("cannot be recovered"));
  check("the page itself holds no private key", !(await page.content()).includes("PRIVATE KEY"));
  await screenshot("created");
  const again = page.waitForEvent("download");
  await page.click("#download-again");
  const d2 = await again;
  const pem2 = path.join(work, "web-key-again.pem");
  await d2.saveAs(pem2);
  check("Download again gives the same key once more",
    fs.readFileSync(pem2, "utf8") === fs.readFileSync(pem, "utf8"));
  const gone = page.waitForResponse((r) => r.url().endsWith("/keypairs/download"));
  await page.click("#download-again");
  const r = await gone;
  await page.waitForLoadState();
  check("a third download is refused (410): the key is gone", r.status() === 410, String(r.status()));
  check("and the page says it is no longer available", (await page.textContent("#message")).includes("no longer available"));
});

await step("create: inline validation", async () => {
  await page.goto(`${C}/keypairs/new`);
  await page.fill("#name", "bad/name");
  await page.press("#name", "Tab");
  check("an invalid name is flagged before submit",
    (await page.textContent("#name-error")).includes("may only contain"));
  await page.click("#create-submit");
  check("and the form is not sent", new URL(page.url()).pathname === "/keypairs/new");
  await page.fill("#name", "web-key");
  await page.click("#create-submit");
  await page.waitForLoadState();
  check("a taken name is refused inline", (await page.textContent("#name-error")).trim() === "Key pair already exists.");
});

await step("import: paste (with an XSS attempt in the comment)", async () => {
  await page.goto(`${C}/keypairs`);
  await page.click("#import");
  await page.fill("#name", "pasted");
  await page.fill("#public_key", xssPub);
  await page.click("#import-submit");
  await page.waitForURL(/\/keypair\/pasted/);
  const shown = (await page.textContent("#v-public-key")).trim();
  check("the public key is shown as text, comment included", shown === xssPub.trim(), shown);
  check("no element was made from the comment", (await page.$$("#v-public-key *")).length === 0);
  check("no script ran (no dialog)", dialogs === 0, String(dialogs));
  const md5 = run("ssh-keygen", ["-l", "-E", "md5", "-f", path.join(work, "xss.pub")]).split(" ")[1].replace(/^MD5:/, "");
  check("its fingerprint is ssh-keygen's MD5", (await page.textContent("#v-fingerprint")).trim() === md5);
});

await step("import: from a file (SSH and X.509)", async () => {
  await page.goto(`${C}/keypairs/import`);
  await page.fill("#name", "file-key");
  await page.setInputFiles("#public_key_file", path.join(work, "filekey.pub"));
  await page.waitForFunction(() => document.getElementById("public_key").value.includes("file-key@ci"));
  check("load from file fills the text area", true);
  await page.click("#import-submit");
  await page.waitForURL(/\/keypair\/file-key/);
  check("the file's key was imported",
    keyBody(await page.textContent("#v-public-key")) === keyBody(fs.readFileSync(path.join(work, "filekey.pub"), "utf8")));
  await page.goto(`${C}/keypairs/import`);
  await page.fill("#name", "cert");
  await page.check('input[name="key_type"][value="x509"]');
  await page.setInputFiles("#public_key_file", path.join(work, "cert.crt"));
  await page.click("#import-submit");
  await page.waitForURL(/\/keypair\/cert/);
  check("an X.509 certificate imports as type x509", (await page.textContent("#v-kind")).trim() === "x509");
  const sha1 = run("openssl", ["x509", "-noout", "-fingerprint", "-sha1", "-in", path.join(work, "cert.crt")])
    .split("=")[1].trim().toLowerCase();
  check("with the certificate's SHA-1 fingerprint", (await page.textContent("#v-fingerprint")).trim() === sha1);
  await page.goto(`${C}/keypairs/import`);
  await page.fill("#name", "too-big");
  const big = path.join(work, "big.pub");
  fs.writeFileSync(big, "ssh-rsa " + "A".repeat(17 * 1024) + "\n");
  await page.setInputFiles("#public_key_file", big);
  check("a file over 16 KiB is refused inline", (await page.textContent("#key-error")).includes("16 KiB"));
  await page.fill("#public_key", "ssh-rsa not-a-key");
  await page.click("#import-submit");
  await page.waitForLoadState();
  check("an invalid key is refused inline", (await page.textContent("#key-error")).includes("not a valid SSH public key"));
});

await step("details and copy", async () => {
  await page.goto(`${C}/keypairs`);
  await page.click("text=file-key");
  await page.waitForURL(/\/keypair\/file-key/);
  for (const field of ["v-id", "v-name", "v-kind", "v-fingerprint", "v-created", "v-user", "v-public-key"]) {
    check(`details show ${field}`, ((await page.textContent(`#${field}`)) || "").trim() !== "");
  }
  await page.click("#copy-public-key");
  const copied = await page.evaluate(() => navigator.clipboard.readText());
  check("Copy puts the public key on the clipboard", copied === (await page.textContent("#v-public-key")).trim());
  await page.click('button[data-copy="v-fingerprint"]');
  check("Copy puts the fingerprint on the clipboard",
    (await page.evaluate(() => navigator.clipboard.readText())) === (await page.textContent("#v-fingerprint")).trim());
});

await step("rename and describe", async () => {
  await page.goto(`${C}/keypair/pasted`);
  await page.fill("#description", "made in the browser suite");
  await page.click("#save");
  await page.waitForURL(/done=saved/);
  check("the description is saved", (await page.textContent("#v-description")).trim() === "made in the browser suite");
});

let instanceId = "";
await step("bind an instance", async () => {
  const r = await control("POST", "/instances", { cloud: "tencent", name: "build-vm", user: "demo", project: "demo", state: "stopped" });
  check("an instance is registered", r.status === 201, JSON.stringify(r.json));
  instanceId = r.json.instance.id;
  await page.goto(`${C}/keypair/web-key`);
  await page.selectOption("#instance", instanceId);
  await page.click("#bind");
  await page.waitForURL(/done=bound/);
  check("the instance is bound", (await page.textContent("#bound")).includes(instanceId));
  const reg = await control("GET", `/instances/${instanceId}`);
  check("the registry says so", reg.json.instance ? reg.json.instance.key_pair_name === "web-key" : reg.json.key_pair_name === "web-key",
    JSON.stringify(reg.json));
  await screenshot("details");
});

await step("list and filter", async () => {
  await page.goto(`${C}/keypairs`);
  const names = await rowNames();
  check("newest first", JSON.stringify(names) === JSON.stringify(["cert", "file-key", "pasted", "web-key"]), JSON.stringify(names));
  check("the bound instance shows in its row", (await page.textContent("#keypairs")).includes(instanceId));
  await screenshot("list");
  await page.selectOption("#sort", "name");
  await page.click("form.filter button[type=submit]");
  await page.waitForURL(/sort=name/);
  check("sortable by name", JSON.stringify(await rowNames()) === JSON.stringify(["cert", "file-key", "pasted", "web-key"].sort()));
  await page.fill("#q", "PAST");
  await page.click("form.filter button[type=submit]");
  await page.waitForURL(/q=PAST/);
  check("the filter is a case-insensitive substring", JSON.stringify(await rowNames()) === JSON.stringify(["pasted"]));
  await page.fill("#q", "nothing-like-this");
  await page.click("form.filter button[type=submit]");
  await page.waitForLoadState();
  check("no match has its empty state", (await page.textContent("#empty")).includes("No key pair matches"));
});

await step("a forged POST from a page on another port is refused", async () => {
  const evil = http.createServer((req, res) => {
    res.writeHead(200, { "Content-Type": "text/html" });
    res.end(`<!doctype html><title>evil</title>
<form id="f" method="post" action="${C}/keypairs/delete">
<input name="name" value="pasted"><input name="confirm" value="yes"><input name="csrf_token" value="guessed">
</form><script>document.getElementById("f").submit()</script>`);
  });
  await new Promise((ok) => evil.listen(0, "127.0.0.1", ok));
  const port = evil.address().port;
  const answer = page.waitForResponse((r) => r.url() === `${C}/keypairs/delete`);
  await page.goto(`http://127.0.0.1:${port}/`);
  const r = await answer;
  await page.waitForLoadState();
  check("the console refuses it (403)", r.status() === 403, String(r.status()));
  check("with its refusal page", (await page.textContent("#message")).includes("Request refused"));
  evil.close();
  await page.goto(`${C}/keypairs`);
  check("the key pair is still there", (await rowNames()).includes("pasted"));
});

await step("delete one (row menu, with confirmation)", async () => {
  await page.goto(`${C}/keypairs`);
  await page.click('a[href="/keypair/cert/delete"]');
  check("a confirmation comes first", (await page.textContent("#confirm-names")).includes("cert"));
  await page.click("#confirm-delete");
  await page.waitForLoadState();
  check("the outcome says Deleted", (await page.textContent('#outcomes li[data-name="cert"]')).includes("Deleted"));
  await page.goto(`${C}/keypairs`);
  check("and it is gone", !(await rowNames()).includes("cert"));
});

await step("batch delete skips the bound key", async () => {
  await page.goto(`${C}/keypairs`);
  await page.check("#select-all");
  const ticked = await page.$$eval('#keypairs tbody input[type="checkbox"]:checked', (b) => b.length);
  check("select all ticks every row", ticked === 3, String(ticked));
  await page.click("#batch-delete");
  check("the confirmation lists the three", (await page.$$("#confirm-names li")).length === 3);
  await page.click("#confirm-delete");
  await page.waitForLoadState();
  const outcome = async (n) => (await page.textContent(`#outcomes li[data-name="${n}"]`)).trim();
  check("web-key is skipped: bound", (await outcome("web-key")).includes("Skipped: bound to an instance"), await outcome("web-key"));
  check("pasted is deleted", (await outcome("pasted")).includes("Deleted"));
  check("file-key is deleted", (await outcome("file-key")).includes("Deleted"));
  await page.goto(`${C}/keypairs`);
  check("only the bound key is left", JSON.stringify(await rowNames()) === JSON.stringify(["web-key"]));
});

await step("quota reached: Create and Import disabled", async () => {
  const auth = await fetch(`${IDENTITY}/v3/auth/tokens`, {
    method: "POST",
    headers: { "Content-Type": "application/json" },
    body: JSON.stringify({ auth: { identity: { methods: ["password"], password: { user: { name: "demo", domain: { id: "default" }, password: "demo" } } },
      scope: { project: { name: "demo", domain: { id: "default" } } } } }),
  });
  const token = auth.headers.get("x-subject-token");
  check("a Keystone token for the Nova API", auth.status === 201 && !!token);
  await page.goto(`${C}/keypairs`);
  const [used, limit] = (await page.textContent("#quota")).match(/(\d+) \/ (\d+)/).slice(1).map(Number);
  const pub = fs.readFileSync(path.join(work, "filekey.pub"), "utf8").trim();
  let made = 0;
  for (let i = used; i < limit; i++) {
    const r = await fetch(`${COMPUTE}/v2.1/os-keypairs`, {
      method: "POST",
      headers: { "Content-Type": "application/json", "X-Auth-Token": token },
      body: JSON.stringify({ keypair: { name: `nova-${String(i).padStart(3, "0")}`, public_key: pub } }),
    });
    if (r.status === 200) made++;
  }
  check(`the Nova API filled the quota (${made} key pairs)`, made === limit - used);
  await page.goto(`${C}/keypairs`);
  check("Create is disabled and says (Quota exceeded)",
    (await page.isDisabled("#create")) && (await page.textContent("#create")).includes("(Quota exceeded)"));
  check("Import is disabled and says (Quota exceeded)",
    (await page.isDisabled("#import")) && (await page.textContent("#import")).includes("(Quota exceeded)"));
  check("pages of 50", (await rowNames()).length === 50 && (await page.textContent("#range")).includes(`1–50 of ${limit}`));
  await page.click('a[rel="next"]');
  await page.waitForLoadState();
  check("the next page", (await page.textContent("#range")).includes(`51–${limit} of ${limit}`));
  await page.goto(`${C}/keypairs/new`);
  check("the create page says the quota is used up", (await page.textContent("#form-error")).includes("quota is used up"));
  for (let i = used; i < limit; i++) {
    await fetch(`${COMPUTE}/v2.1/os-keypairs/nova-${String(i).padStart(3, "0")}`, { method: "DELETE", headers: { "X-Auth-Token": token } });
  }
});

await step("zh-TW", async () => {
  await page.goto(`${C}/keypairs`);
  await page.click("#lang-switch");
  await page.waitForLoadState();
  check("the page is in Traditional Chinese", (await page.textContent("h1")).trim() === "金鑰對");
  check("its lang attribute says zh-TW", (await page.getAttribute("html", "lang")) === "zh-TW");
  const fonts = run("fc-list", [":lang=zh-tw", "family"]);
  check("a CJK font is installed for it", /Noto Sans CJK/i.test(fonts), fonts.slice(0, 200));
  for (const width of [1280, 390]) {
    await page.setViewportSize({ width, height: width === 390 ? 844 : 800 });
    const file = path.join(shots, `list-zh-TW-${width}.png`);
    await page.screenshot({ path: file, fullPage: true });
    if (extraShots) fs.copyFileSync(file, path.join(extraShots, `list-zh-TW-${width}.png`));
  }
  await page.setViewportSize({ width: 1280, height: 800 });
  await page.goto(`${C}/keypairs/new`);
  check("remembered on the next page", (await page.textContent("h1")).trim() === "建立金鑰對");
  await page.click("#lang-switch");
  await page.waitForLoadState();
  check("and switched back", (await page.textContent("h1")).trim() === "Create Key Pair");
});

await step("log-out: the old cookie no longer works", async () => {
  const before = (await context.cookies(C)).find((c) => c.name === "nk_session");
  await page.goto(`${C}/keypairs`);
  await page.click("#logout");
  await page.waitForURL(/\/login$/);
  check("log-out lands on the log-in page", true);
  await context.addCookies([before]);
  await page.goto(`${C}/keypairs`);
  check("the replayed cookie is sent back to log in", new URL(page.url()).pathname === "/login", page.url());
  check("saying the session ended", (await page.textContent("#login-error")).includes("session has ended"));
  const r = await fetch(`${C}/keypairs`, { headers: { Cookie: `nk_session=${before.value}` }, redirect: "manual" });
  check("outside the browser too", r.status === 303 && r.headers.get("location").startsWith("/login"));
});

await step("reader: read only", async () => {
  await logIn("reader", "reader");
  check("reader sees its own key pairs (none), not demo's", (await page.isVisible("#empty")) && !(await page.content()).includes("web-key"));
  check("Create is disabled (read only)", (await page.isDisabled("#create")) && (await page.textContent("#create")).includes("(read only)"));
  await page.click("#logout");
});

await step("Activity (admin)", async () => {
  await logIn("admin", "admin");
  await page.goto(`${C}/activity?front=compute&method=POST`);
  const text = await page.textContent("#journal");
  check("the journal shows the Nova API's creates", text.includes("POST /v2.1/os-keypairs"));
  await page.click("#journal li:first-child summary");
  check("an entry expands to its request body", (await page.textContent("#journal li:first-child .j-bodies")).includes("public_key"));
  await page.goto(`${C}/activity?front=console&path=/login&method=POST`);
  const login = await page.textContent("#journal");
  check("the console's own log-ins are there", login.includes("POST /login"));
  check("with their passwords redacted", login.includes("password=***") && !login.includes("password=demo"), login.slice(0, 400));
  await page.goto(`${C}/activity?console=1`);
  check("no private key anywhere in the journal", !(await page.content()).includes("PRIVATE KEY-----"));
  await page.click("#logout");
});

check("no script error on any page", pageErrors.length === 0, pageErrors.join(" | "));
await context.close();
console.log(`\ncompat/console: screenshots in ${shots}`);
console.log(`${passed} passed, ${failed} failed`);
process.exit(failed === 0 ? 0 : 1);
