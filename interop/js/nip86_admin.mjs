// nostr-tools as a NIP-86 admin of a Samizdat relay (URL in argv[2], the
// admin's secret key in hex in argv[3]): signs NIP-98 headers with
// nostr-tools' nip98, bans a key over HTTP, and shows that the key's next
// event is refused; also counts with NIP-45 through nostr-tools' relay.
// Prints one JSON report; the Rust test checks every field.
import { Relay, useWebSocketImplementation } from 'nostr-tools/relay'
import { finalizeEvent, generateSecretKey, getPublicKey } from 'nostr-tools/pure'
import { getToken } from 'nostr-tools/nip98'
import { hexToBytes } from '@noble/hashes/utils.js'
import WebSocket from 'ws'

useWebSocketImplementation(WebSocket)
const url = process.argv[2]
const admin = hexToBytes(process.argv[3])
const httpUrl = url.replace(/^ws/, 'http')
const report = {}
const spammer = generateSecretKey()
const now = () => Math.floor(Date.now() / 1000)
const note = (sk, content) => finalizeEvent({ kind: 1, tags: [], created_at: now(), content }, sk)

async function manage(method, params, sk = admin) {
  const body = { method, params }
  const token = await getToken(url, 'POST', (e) => finalizeEvent(e, sk), true, body)
  const res = await fetch(httpUrl, {
    method: 'POST',
    headers: { 'Content-Type': 'application/nostr+json+rpc', Authorization: token },
    body: JSON.stringify(body),
  })
  return { status: res.status, body: await res.json() }
}

const relay = await Relay.connect(url)
report.before = await relay.publish(note(spammer, 'first')).then(() => 'ok', (e) => 'error: ' + e.message)
report.not_admin = await manage('banpubkey', [getPublicKey(spammer)], generateSecretKey())
report.ban = await manage('banpubkey', [getPublicKey(spammer), 'spam'])
report.after = await relay.publish(note(spammer, 'second')).then(() => 'ok', (e) => e.message)
report.listed = await manage('listbannedpubkeys', [])
report.count = await relay.count([{ kinds: [1] }], {})
report.spammer = getPublicKey(spammer)
relay.close()
console.log(JSON.stringify(report))
process.exit(0)
