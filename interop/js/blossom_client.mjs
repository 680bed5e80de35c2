// blossom-client-sdk (an independent Blossom client) against a Blossom
// server: upload with a kind-24242 authorization, check, download and verify
// the hash, list, mirror to a second server, delete.
// Usage: node blossom_client.mjs SERVER MIRROR_SERVER SECRET_HEX FILE
import { readFileSync } from 'node:fs'
import { createHash } from 'node:crypto'
import { Actions, createUploadAuth, createListAuth, createDeleteAuth, createMirrorAuth } from 'blossom-client-sdk'
import { finalizeEvent, getPublicKey } from 'nostr-tools/pure'
import { hexToBytes } from '@noble/hashes/utils.js'

const [server, mirrorServer, skHex, file] = process.argv.slice(2)
const sk = hexToBytes(skHex)
const signer = async (draft) => finalizeEvent(draft, sk)
const bytes = readFileSync(file)
const blob = new Blob([bytes], { type: 'image/png' })
const out = {}

const auth = await createUploadAuth(signer, blob)
const uploaded = await Actions.uploadBlob(server, blob, { auth })
out.uploaded = uploaded
out.has = await Actions.hasBlob(server, uploaded.sha256)
const res = await Actions.downloadBlob(server, uploaded.sha256)
const got = Buffer.from(await res.arrayBuffer())
out.downloaded_sha256 = createHash('sha256').update(got).digest('hex')
out.content_type = res.headers.get('content-type')
const listed = await Actions.listBlobs(server, getPublicKey(sk), { auth: await createListAuth(signer) })
out.listed = listed.map((b) => b.sha256)
out.mirrored = await Actions.mirrorBlob(mirrorServer, uploaded, { auth: await createMirrorAuth(signer, uploaded.sha256) })
out.deleted = await Actions.deleteBlob(server, uploaded.sha256, { auth: await createDeleteAuth(signer, uploaded.sha256) })
out.has_after_delete = await Actions.hasBlob(server, uploaded.sha256)
console.log(JSON.stringify(out))
