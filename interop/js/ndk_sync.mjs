// NDK's NIP-77 client (@nostr-dev-kit/sync) against a Samizdat relay
// (URL in argv[2]): it reconciles the events of one author (hex in argv[3])
// held in a small in-memory NDK cache (a JSON array of events, file in
// argv[4]) with what the relay holds. Prints one JSON report: what it
// needed and had, and whether it used negentropy.
import NDK, { NDKEvent } from '@nostr-dev-kit/ndk'
import { NDKSync } from '@nostr-dev-kit/sync'
import { matchFilter } from 'nostr-tools/filter'
import WebSocket from 'ws'
import { readFileSync } from 'node:fs'

globalThis.WebSocket ??= WebSocket
const [url, pubkey, cachedFile] = process.argv.slice(2)
const store = new Map(JSON.parse(readFileSync(cachedFile, 'utf8')).map((e) => [e.id, e]))
let ndk
let negOpen = 0
const cacheAdapter = {
  locking: true,
  ready: true,
  query (sub) {
    return [...store.values()]
      .filter((e) => sub.filters.some((f) => matchFilter(f, e)))
      .map((e) => new NDKEvent(ndk, e))
  },
  async setEvent (event) {
    store.set(event.id, event.rawEvent())
  }
}
ndk = new NDK({ explicitRelayUrls: [url], cacheAdapter })
await ndk.connect(5000)
for (const relay of ndk.pool.relays.values()) {
  const send = relay.connectivity.send?.bind(relay.connectivity)
  if (send) {
    relay.connectivity.send = (msg) => {
      if (typeof msg === 'string' && msg.startsWith('["NEG-OPEN"')) negOpen++
      return send(msg)
    }
  }
}
const sync = new NDKSync(ndk)
const timeout = setTimeout(() => { console.log(JSON.stringify({ error: 'timeout' })); process.exit(1) }, 20000)
const result = await sync.sync({ authors: [pubkey] }, { relayUrls: [url] })
clearTimeout(timeout)
console.log(JSON.stringify({
  neg_open_sent: negOpen,
  need: [...result.need],
  have: [...result.have],
  fetched: result.events.length,
  cache: store.size
}))
process.exit(0)
