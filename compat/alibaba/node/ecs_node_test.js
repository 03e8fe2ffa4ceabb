// The stock Node.js SDK @alicloud/ecs20140526 (default ACS3-HMAC-SHA256 signing) against novakeys:
// CreateKeyPair, DescribeKeyPairs, DeleteKeyPairs and one error. Pointed at the server only by its
// documented Config options (endpoint host:port, protocol http).
//
// usage: node ecs_node_test.js URL   (NODE_PATH must hold the installed SDK, run.sh sets it)
'use strict';
const { execFileSync } = require('child_process');
const fs = require('fs');
const os = require('os');
const path = require('path');
const Ecs = require('@alicloud/ecs20140526');
const { $OpenApiUtil } = require('@alicloud/openapi-core');

const url = new URL(process.argv[2]);
let passed = 0;
let failed = 0;
function check(what, cond, evidence) {
  if (cond) {
    passed++;
    console.log(`ok   [node] ${what}`);
  } else {
    failed++;
    console.log(`FAIL [node] ${what}`);
    if (evidence !== undefined) console.log(`     | ${typeof evidence === 'string' ? evidence : JSON.stringify(evidence)}`);
  }
}
function eq(what, actual, expected) {
  check(what, JSON.stringify(actual) === JSON.stringify(expected), `expected ${JSON.stringify(expected)}, actual ${JSON.stringify(actual)}`);
}

async function control(p, body) {
  const r = await fetch(`${url.origin}${p}`, { method: 'POST', headers: { 'Content-Type': 'application/json' }, body: JSON.stringify(body) });
  if (r.status !== 204 && r.status !== 200) throw new Error(`${p} answered ${r.status}`);
}

function sshKeygen(args) {
  return execFileSync('ssh-keygen', args, { encoding: 'utf8' }).trim();
}

async function main() {
  await control('/_novakeys/reset', {});
  const client = new Ecs.default(new $OpenApiUtil.Config({
    accessKeyId: 'LTAI5tNovakeysDemo000001',
    accessKeySecret: 'NovakeysDemoAlibabaSecret00001',
    regionId: 'cn-hangzhou',
    endpoint: url.host,
    protocol: 'http',
  }));
  const created = await client.createKeyPair(new Ecs.CreateKeyPairRequest({
    regionId: 'cn-hangzhou', keyPairName: 'node-key',
    tag: [new Ecs.CreateKeyPairRequestTag({ key: 'env', value: "a b*c~d!'()" })],
  }));
  const c = created.body;
  eq('CreateKeyPair: HTTP 200', created.statusCode, 200);
  eq('CreateKeyPair: keyPairName', c.keyPairName, 'node-key');
  check('CreateKeyPair: keyPairId ssh-…', /^ssh-[0-9a-z]+$/.test(c.keyPairId || ''), c.keyPairId);
  check('CreateKeyPair: keyPairFingerPrint 16 colon-hex octets', /^([0-9a-f]{2}:){15}[0-9a-f]{2}$/.test(c.keyPairFingerPrint || ''), c.keyPairFingerPrint);
  check('CreateKeyPair: privateKeyBody is PEM', /^-----BEGIN (RSA )?PRIVATE KEY-----/.test(c.privateKeyBody || ''), c.privateKeyBody);

  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'nk-node-'));
  const keyFile = path.join(dir, 'key.pem');
  fs.writeFileSync(keyFile, c.privateKeyBody.endsWith('\n') ? c.privateKeyBody : `${c.privateKeyBody}\n`, { mode: 0o600 });
  let pub = '';
  try {
    pub = sshKeygen(['-y', '-f', keyFile]);
    fs.writeFileSync(`${keyFile}.pub`, `${pub}\n`);
    const fp = sshKeygen(['-l', '-E', 'md5', '-f', `${keyFile}.pub`]).split(/\s+/);
    eq('CreateKeyPair: 2048-bit key', fp[0], '2048');
    eq('CreateKeyPair: fingerprint is ssh-keygen MD5', c.keyPairFingerPrint, fp[1].replace(/^MD5:/, ''));
  } catch (e) {
    check('CreateKeyPair: ssh-keygen reads the private key', false, String(e));
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }

  const described = await client.describeKeyPairs(new Ecs.DescribeKeyPairsRequest({
    regionId: 'cn-hangzhou', keyPairName: 'node-*', includePublicKey: true,
  }));
  const d = described.body;
  eq('DescribeKeyPairs: totalCount', d.totalCount, 1);
  const list = (d.keyPairs && d.keyPairs.keyPair) || [];
  eq('DescribeKeyPairs: keyPairs.keyPair names', list.map((k) => k.keyPairName), ['node-key']);
  const item = list[0] || {};
  eq('DescribeKeyPairs: same fingerprint', item.keyPairFingerPrint, c.keyPairFingerPrint);
  check('DescribeKeyPairs: creationTime YYYY-MM-DDTHH:MMZ', /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}Z$/.test(item.creationTime || ''), item.creationTime);
  eq('DescribeKeyPairs: publicKey is the key ssh-keygen derives', (item.publicKey || '').split(' ').slice(0, 2).join(' '), pub.split(' ').slice(0, 2).join(' '));
  const tags = ((item.tags && item.tags.tag) || []).map((t) => [t.tagKey, t.tagValue]);
  eq('DescribeKeyPairs: tags.tag (special characters intact)', tags, [['env', "a b*c~d!'()"]]);

  try {
    await client.createKeyPair(new Ecs.CreateKeyPairRequest({ regionId: 'cn-hangzhou', keyPairName: 'node-key' }));
    check('CreateKeyPair of an existing name is refused', false, 'succeeded');
  } catch (e) {
    eq('CreateKeyPair of an existing name: ClientError', e.name, 'ClientError');
    eq('CreateKeyPair of an existing name: statusCode', e.statusCode, 400);
    eq('CreateKeyPair of an existing name: code', e.code, 'KeyPair.AlreadyExist');
    check('CreateKeyPair of an existing name: requestId', /^[0-9A-Za-z-]{8,}$/.test(e.requestId || ''), e.requestId);
    check('CreateKeyPair of an existing name: data has HostId, Message', e.data && e.data.HostId && e.data.Message, e.data);
  }

  const deleted = await client.deleteKeyPairs(new Ecs.DeleteKeyPairsRequest({ regionId: 'cn-hangzhou', keyPairNames: '["node-key"]' }));
  eq('DeleteKeyPairs: HTTP 200', deleted.statusCode, 200);
  const after = await client.describeKeyPairs(new Ecs.DescribeKeyPairsRequest({ regionId: 'cn-hangzhou' }));
  eq('DescribeKeyPairs after delete: totalCount', after.body.totalCount, 0);
}

main().catch((e) => {
  failed++;
  console.log(`FAIL [node] unexpected ${e && e.name}: ${e && e.message}`);
  if (e && e.stack) console.log(e.stack.split('\n').map((l) => `     | ${l}`).join('\n'));
}).finally(() => {
  console.log(`\nalibaba-node: ${passed} passed, ${failed} failed`);
  process.exit(failed === 0 && passed > 0 ? 0 : 1);
});
