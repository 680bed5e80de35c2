// nostr-tools as a client of a Samizdat relay (URL in argv[2]): publishes,
// subscribes to stored and live events, provokes rejections, authenticates
// with NIP-42. Prints one JSON report; the Rust test checks every field.
import { Relay, useWebSocketImplementation } from 'nostr-tools/relay'
import { finalizeEvent, generateSecretKey, getPublicKey } from 'nostr-tools/pure'
import WebSocket from 'ws'

useWebSocketImplementation(WebSocket)
const url = process.argv[2]
const report = {}
const sk = generateSecretKey()
const pk = getPublicKey(sk)
const now = () => Math.floor(Date.now() / 1000)
const withTimeout = (p, ms, what) =>
  Promise.race([p, new Promise((_, rej) => setTimeout(() => rej(new Error('timeout: ' + what)), ms))])
const sign = (t) => finalizeEvent({ tags: [], created_at: now(), ...t }, sk)

const relay = await Relay.connect(url)

// Publish, then read back as stored events.
const first = sign({ kind: 1, content: 'from nostr-tools "quoted" \n é 😀', tags: [['t', 'interop']] })
report.publish = await relay.publish(first).then(() => 'ok', (e) => 'error: ' + e.message)
report.stored = await withTimeout(
  new Promise((resolve) => {
    const got = []
    const sub = relay.subscribe([{ authors: [pk] }], {
      onevent: (e) => got.push(e),
      oneose: () => { sub.close(); resolve(got.map((e) => ({ id: e.id, content: e.content }))) },
    })
  }),
  5000,
  'stored events',
)
report.first_id = first.id

// A live event reaches an open subscription.
const since = now()
const live = withTimeout(
  new Promise((resolve) => {
    const sub = relay.subscribe([{ authors: [pk], kinds: [1], since }], {
      onevent: (e) => { if (e.content === 'live') { sub.close(); resolve(e.id) } },
    })
  }),
  5000,
  'live event',
)
const second = sign({ kind: 1, content: 'live' })
await relay.publish(second)
report.live = (await live) === second.id

// Rejections carry machine-readable prefixes.
const tampered = { ...first, content: 'tampered' }
report.tampered = await relay.publish(tampered).then(() => 'accepted', (e) => e.message)
const future = sign({ kind: 1, content: 'from the future', created_at: now() + 86400 })
report.future = await relay.publish(future).then(() => 'accepted', (e) => e.message)
const protectedEvent = sign({ kind: 1, content: 'mine only', tags: [['-']] })
report.protected_before_auth = await relay.publish(protectedEvent).then(() => 'accepted', (e) => e.message)

// DMs need NIP-42: CLOSED auth-required, then AUTH, then the DM arrives.
const dm = sign({ kind: 4, content: 'cipher?iv=x', tags: [['p', pk]] })
await relay.publish(dm)
report.dm_before_auth = await withTimeout(
  new Promise((resolve) => {
    relay.subscribe([{ kinds: [4], '#p': [pk] }], {
      onevent: () => resolve('got a DM unauthenticated'),
      oneose: () => resolve('eose without auth'),
      onclose: (reason) => resolve(reason),
    })
  }),
  5000,
  'DM subscription before AUTH',
)
report.auth = await relay.auth(async (t) => finalizeEvent(t, sk)).then(() => 'ok', (e) => 'error: ' + e.message)
report.dm_after_auth = await withTimeout(
  new Promise((resolve) => {
    const got = []
    const sub = relay.subscribe([{ kinds: [4], '#p': [pk] }], {
      onevent: (e) => got.push(e.id),
      oneose: () => { resolve(got); sub.close() },
      onclose: (reason) => resolve('closed: ' + reason),
    })
  }),
  5000,
  'DM subscription after AUTH',
)
report.dm_id = dm.id
report.protected_after_auth = await relay.publish(protectedEvent).then(() => 'accepted', (e) => e.message)

relay.close()
process.stdout.write(JSON.stringify(report))
process.exit(0)
