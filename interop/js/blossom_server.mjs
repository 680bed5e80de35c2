// A Blossom server built from blossom-server-sdk's LocalStorage (blobs on
// disk by hash) and nostr-tools' verifyEvent (BUD-11 authorization): GET/HEAD
// /<sha256>, PUT /upload, GET /list/<pubkey>, DELETE /<sha256>. It prints its
// port, then serves until killed. Usage: node blossom_server.mjs DIR
import http from 'node:http'
import { createHash } from 'node:crypto'
import { Readable } from 'node:stream'
import { LocalStorage } from 'blossom-server-sdk/storage/local'
import { verifyEvent } from 'nostr-tools/pure'

const storage = new LocalStorage(process.argv[2])
await storage.setup()
const owners = new Map() // sha256 -> { pubkey, size, type, uploaded }

function authorized(req, verb, sha256) {
  const h = req.headers['authorization'] ?? ''
  if (!h.startsWith('Nostr ')) return null
  let ev
  try { ev = JSON.parse(Buffer.from(h.slice(6), 'base64').toString()) } catch { return null }
  if (!verifyEvent(ev) || ev.kind !== 24242) return null
  const tag = (n) => ev.tags.filter((t) => t[0] === n).map((t) => t[1])
  const exp = Number(tag('expiration')[0])
  if (!(exp > Date.now() / 1000) || !tag('t').includes(verb)) return null
  if (sha256 && !tag('x').includes(sha256)) return null
  return ev.pubkey
}

const descriptor = (req, sha256, m) => ({
  url: `http://${req.headers.host}/${sha256}`, sha256, size: m.size, type: m.type, uploaded: m.uploaded,
})

const server = http.createServer(async (req, res) => {
  const fail = (code, reason) => { res.writeHead(code, { 'x-reason': reason }); res.end() }
  const path = new URL(req.url, 'http://x').pathname
  const hash = path.slice(1).split('.')[0]
  try {
    if (req.method === 'PUT' && path === '/upload') {
      const chunks = []
      for await (const c of req) chunks.push(c)
      const body = Buffer.concat(chunks)
      const sha256 = createHash('sha256').update(body).digest('hex')
      const pubkey = authorized(req, 'upload', sha256)
      if (!pubkey) return fail(401, 'bad authorization')
      const type = req.headers['content-type'] ?? 'application/octet-stream'
      await storage.writeBlob(sha256, Readable.from([body]), type)
      // writeBlob resolves when the source ends; wait for the file itself
      // (which may not exist yet: stat then fails, under load).
      const size = async () => { try { return await storage.getBlobSize(sha256) } catch { return -1 } }
      for (let i = 0; i < 300 && (await size()) < body.length; i++) {
        await new Promise((r) => setTimeout(r, 10))
      }
      const m = { pubkey, size: body.length, type, uploaded: Math.floor(Date.now() / 1000) }
      owners.set(sha256, m)
      res.writeHead(200, { 'content-type': 'application/json' })
      return res.end(JSON.stringify(descriptor(req, sha256, m)))
    }
    if (req.method === 'GET' && path.startsWith('/list/')) {
      const who = path.slice(6)
      const list = [...owners.entries()].filter(([, m]) => m.pubkey === who).map(([h, m]) => descriptor(req, h, m))
      res.writeHead(200, { 'content-type': 'application/json' })
      return res.end(JSON.stringify(list))
    }
    if (req.method === 'DELETE' && /^[0-9a-f]{64}$/.test(hash)) {
      const pubkey = authorized(req, 'delete', hash)
      if (!pubkey || owners.get(hash)?.pubkey !== pubkey) return fail(401, 'bad authorization')
      await storage.removeBlob(hash)
      owners.delete(hash)
      res.writeHead(200)
      return res.end()
    }
    if ((req.method === 'GET' || req.method === 'HEAD') && /^[0-9a-f]{64}$/.test(hash)) {
      if (!(await storage.hasBlob(hash))) return fail(404, 'not found')
      res.writeHead(200, { 'content-type': owners.get(hash)?.type ?? 'application/octet-stream', 'content-length': await storage.getBlobSize(hash) })
      if (req.method === 'HEAD') return res.end()
      return (await storage.readBlob(hash)).pipe(res)
    }
    fail(404, 'no such route')
  } catch (e) {
    fail(500, String(e))
  }
})
server.listen(0, '127.0.0.1', () => console.log(server.address().port))
