// tencentcloud-sdk-nodejs-cvm 4.1.316 (common 4.1.220), unmodified, against novakeys' Tencent
// front: create / describe / delete and their errors, TC3 over POST JSON and over GET.
//
// Pointed at novakeys only through its own profile: httpProfile {endpoint: "127.0.0.1:PORT",
// protocol: "http://"}. Note what this SDK signs: `host:` WITHOUT the port (URL.hostname) while
// it sends `Host: 127.0.0.1:PORT`, and the credential scope's service is the first dot-label of
// the endpoint, i.e. `<date>/127/tc3_request`.
//
// Needs NODE_PATH with the installed node_modules and NOVAKEYS_TENCENT_URL.
"use strict";
const assert = require("assert");
const http = require("http");
const { execFileSync } = require("child_process");
const tencentcloud = require("tencentcloud-sdk-nodejs-cvm");

const URL_ = process.env.NOVAKEYS_TENCENT_URL.replace(/\/$/, "");
const ENDPOINT = URL_.replace(/^https?:\/\//, "");
const DEMO = ["AKIDNovakeysDemo00000000000000000001", "NovakeysDemoTencentSecretKey0001"];
const READER = ["AKIDNovakeysReader000000000000000001", "NovakeysReaderTencentSecretKey01"];
const KEY_ID = /^skey-[a-z0-9]{8}$/;

let checks = 0;
let failures = 0;
async function check(what, fn) {
  checks++;
  try {
    await fn();
    console.log("ok   " + what);
  } catch (e) {
    failures++;
    console.log("FAIL " + what);
    console.log(String((e && e.stack) || e).split("\n").map((l) => "     | " + l).join("\n"));
  }
}

function client(reqMethod, [secretId, secretKey]) {
  const Client = tencentcloud.cvm.v20170312.Client;
  return new Client({
    credential: { secretId, secretKey },
    region: "ap-guangzhou",
    profile: { httpProfile: { endpoint: ENDPOINT, protocol: "http://", reqMethod, reqTimeout: 30 } },
  });
}

function reset() {
  return new Promise((resolve, reject) => {
    const req = http.request(URL_ + "/_novakeys/reset", { method: "POST", headers: { "Content-Type": "application/json" } },
      (res) => { res.resume(); res.statusCode === 204 ? resolve() : reject(new Error("reset: HTTP " + res.statusCode)); });
    req.on("error", reject);
    req.end("{}");
  });
}

async function expectError(promise, code) {
  let err = null;
  try {
    await promise;
  } catch (e) {
    err = e;
  }
  assert.ok(err, "expected " + code + ", the call succeeded");
  assert.strictEqual(err.code, code, "code: " + err.code + " message: " + err.message);
  assert.ok(typeof err.message === "string" && err.message.length > 0, "message");
  assert.ok(typeof err.requestId === "string" && err.requestId.length > 0, "requestId: " + err.requestId);
  return err;
}

function publicFromPrivate(pem) {
  const fs = require("fs");
  const os = require("os");
  const path = require("path");
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "nk-tencent-"));
  const file = path.join(dir, "id");
  fs.writeFileSync(file, pem, { mode: 0o600 });
  try {
    return execFileSync("ssh-keygen", ["-y", "-f", file]).toString().trim();
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
}

(async () => {
  for (const mode of ["POST", "GET"]) {
    const demo = client(mode, DEMO);
    const tag = "node " + mode;
    await reset();
    let kp = null;
    await check(`[${mode}] CreateKeyPair`, async () => {
      const r = await demo.CreateKeyPair({
        KeyName: "node_" + mode.toLowerCase(), ProjectId: 0,
        TagSpecification: [{ ResourceType: "keypair", Tags: [{ Key: "via", Value: tag }] }],
      });
      kp = r.KeyPair;
      assert.match(kp.KeyId, KEY_ID);
      assert.strictEqual(kp.KeyName, "node_" + mode.toLowerCase());
      assert.strictEqual(kp.ProjectId, 0);
      assert.deepStrictEqual(kp.AssociatedInstanceIds, []);
      assert.deepStrictEqual(kp.Tags, [{ Key: "via", Value: tag }]);
      assert.ok(kp.PrivateKey.startsWith("-----BEGIN RSA PRIVATE KEY-----\n"), kp.PrivateKey.slice(0, 40));
      const parts = kp.PublicKey.split(" ");
      assert.strictEqual(parts[0], "ssh-rsa");
      assert.strictEqual(parts[parts.length - 1], kp.KeyId, "comment is the key id");
      assert.strictEqual(publicFromPrivate(kp.PrivateKey).split(" ")[1], parts[1]);
      assert.ok(typeof r.RequestId === "string" && r.RequestId.length > 0);
    });
    if (!kp) continue;
    await check(`[${mode}] CreateKeyPair duplicate name → InvalidKeyPairName.Duplicate`, () =>
      expectError(demo.CreateKeyPair({ KeyName: kp.KeyName, ProjectId: 0 }), "InvalidKeyPairName.Duplicate"));
    await check(`[${mode}] CreateKeyPair illegal name → InvalidKeyPairNameIncludeIllegalChar`, () =>
      expectError(demo.CreateKeyPair({ KeyName: "no-dashes", ProjectId: 0 }), "InvalidKeyPairNameIncludeIllegalChar"));
    await check(`[${mode}] CreateKeyPair without ProjectId → MissingParameter`, () =>
      expectError(demo.CreateKeyPair({ KeyName: "node_noproject" }), "MissingParameter"));
    await check(`[${mode}] DescribeKeyPairs by KeyIds`, async () => {
      const r = await demo.DescribeKeyPairs({ KeyIds: [kp.KeyId] });
      assert.strictEqual(r.TotalCount, 1);
      const k = r.KeyPairSet[0];
      assert.strictEqual(k.KeyId, kp.KeyId);
      assert.strictEqual(k.KeyName, kp.KeyName);
      assert.strictEqual(k.ProjectId, 0);
      assert.strictEqual(k.Description, "");
      assert.strictEqual(k.PublicKey, kp.PublicKey);
      assert.ok(k.PrivateKey === undefined || k.PrivateKey === null, "no private key after create");
      assert.match(k.CreatedTime, /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}Z$/);
      assert.deepStrictEqual(k.Tags, [{ Key: "via", Value: tag }]);
    });
    await check(`[${mode}] DescribeKeyPairs by key-name and tag filters, Offset/Limit`, async () => {
      let r = await demo.DescribeKeyPairs({ Filters: [{ Name: "key-name", Values: [kp.KeyName] }], Offset: 0, Limit: 100 });
      assert.deepStrictEqual(r.KeyPairSet.map((k) => k.KeyId), [kp.KeyId]);
      r = await demo.DescribeKeyPairs({ Filters: [{ Name: "tag:via", Values: [tag] }] });
      assert.deepStrictEqual([r.TotalCount, r.KeyPairSet.map((k) => k.KeyId)], [1, [kp.KeyId]]);
      r = await demo.DescribeKeyPairs({ Filters: [{ Name: "key-name", Values: ["node_nothing"] }] });
      assert.deepStrictEqual([r.TotalCount, r.KeyPairSet], [0, []]);
      r = await demo.DescribeKeyPairs({ Offset: 1 });
      assert.deepStrictEqual([r.TotalCount, r.KeyPairSet], [1, []]);
    });
    await check(`[${mode}] DescribeKeyPairs Limit 101 → InvalidParameterValueLimit`, () =>
      expectError(demo.DescribeKeyPairs({ Limit: 101 }), "InvalidParameterValueLimit"));
    await check(`[${mode}] DescribeKeyPairs malformed id → InvalidKeyPairId.Malformed`, () =>
      expectError(demo.DescribeKeyPairs({ KeyIds: ["skey-1122"] }), "InvalidKeyPairId.Malformed"));
    await check(`[${mode}] wrong SecretKey → AuthFailure.SignatureFailure`, () =>
      expectError(client(mode, [DEMO[0], "NotTheDemoSecretKey0000000000000"]).DescribeKeyPairs({}), "AuthFailure.SignatureFailure"));
    await check(`[${mode}] unknown SecretId → AuthFailure.SecretIdNotFound`, () =>
      expectError(client(mode, ["AKIDNovakeysNobody000000000000000001", DEMO[1]]).DescribeKeyPairs({}), "AuthFailure.SecretIdNotFound"));
    await check(`[${mode}] reader DeleteKeyPairs → AuthFailure.UnauthorizedOperation`, () =>
      expectError(client(mode, READER).DeleteKeyPairs({ KeyIds: [kp.KeyId] }), "AuthFailure.UnauthorizedOperation"));
    await check(`[${mode}] DeleteKeyPairs`, async () => {
      const r = await demo.DeleteKeyPairs({ KeyIds: [kp.KeyId] });
      assert.ok(typeof r.RequestId === "string" && r.RequestId.length > 0);
      const d = await demo.DescribeKeyPairs({});
      assert.deepStrictEqual([d.TotalCount, d.KeyPairSet], [0, []]);
    });
    await check(`[${mode}] DeleteKeyPairs again → InvalidKeyPairId.NotFound`, () =>
      expectError(demo.DeleteKeyPairs({ KeyIds: [kp.KeyId] }), "InvalidKeyPairId.NotFound"));
  }
  console.log(`\ncompat/tencent node: ${checks} checks, ${failures} failed`);
  process.exit(failures === 0 && checks > 0 ? 0 : 1);
})().catch((e) => {
  console.log("FAIL node suite crashed: " + ((e && e.stack) || e));
  process.exit(1);
});
