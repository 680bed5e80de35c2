// nostr-tools as a command: one JSON request in argv[2], one JSON answer on stdout.
// The interop tests call this to have an independent implementation sign,
// verify, encrypt, decrypt, wrap and encode what Samizdat produced (and the reverse).
import { finalizeEvent, verifyEvent, getPublicKey } from 'nostr-tools/pure'
import * as nip19 from 'nostr-tools/nip19'
import * as nip44 from 'nostr-tools/nip44'
import * as nip49 from 'nostr-tools/nip49'
import * as nip59 from 'nostr-tools/nip59'
import * as nip17 from 'nostr-tools/nip17'
import * as nip13 from 'nostr-tools/nip13'
import { hexToBytes, bytesToHex } from '@noble/hashes/utils.js'

const req = JSON.parse(process.argv[2])
const sk = req.sk ? hexToBytes(req.sk) : undefined
let out
switch (req.op) {
  case 'sign':
    out = finalizeEvent({ kind: req.kind, content: req.content, tags: req.tags ?? [], created_at: req.created_at }, sk)
    break
  case 'verify':
    out = { ok: verifyEvent(req.event) }
    break
  case 'pubkey':
    out = { pubkey: getPublicKey(sk) }
    break
  case 'nip44_encrypt':
    out = { payload: nip44.encrypt(req.plaintext, nip44.getConversationKey(sk, req.pk)) }
    break
  case 'nip44_decrypt':
    out = { plaintext: nip44.decrypt(req.payload, nip44.getConversationKey(sk, req.pk)) }
    break
  case 'nip49_encrypt':
    out = { ncryptsec: nip49.encrypt(sk, req.password, req.logn, req.ksb ?? 0x02) }
    break
  case 'nip49_decrypt':
    out = { sk: bytesToHex(nip49.decrypt(req.ncryptsec, req.password)) }
    break
  case 'nip59_wrap':
    out = nip59.wrapEvent({ kind: req.kind, content: req.content, tags: req.tags ?? [] }, sk, req.recipient)
    break
  case 'nip17_wrap_many':
    out = nip17.wrapManyEvents(sk, req.recipients.map((publicKey) => ({ publicKey })), req.message, req.subject)
    break
  case 'nip17_group_wrap': {
    // nostr-tools' wrapManyEvents tags each rumor with its one recipient only,
    // so a group is built here: one rumor naming everyone, wrapped by nip59 for
    // each recipient and the sender.
    const rumor = { kind: 14, content: req.message, tags: req.recipients.map((p) => ['p', p]) }
    out = [getPublicKey(sk), ...req.recipients].map((p) => nip59.wrapEvent(rumor, sk, p))
    break
  }
  case 'nip17_unwrap':
    out = nip17.unwrapEvent(req.wrap, sk)
    break
  case 'nip13_pow':
    out = { difficulty: nip13.getPow(req.id) }
    break
  case 'nip59_unwrap':
    out = nip59.unwrapEvent(req.wrap, sk)
    break
  case 'nip19_encode':
    switch (req.type) {
      case 'npub': out = { code: nip19.npubEncode(req.hex) }; break
      case 'nsec': out = { code: nip19.nsecEncode(hexToBytes(req.hex)) }; break
      case 'note': out = { code: nip19.noteEncode(req.hex) }; break
      case 'nprofile': out = { code: nip19.nprofileEncode(req.data) }; break
      case 'nevent': out = { code: nip19.neventEncode(req.data) }; break
      case 'naddr': out = { code: nip19.naddrEncode(req.data) }; break
    }
    break
  case 'nip19_decode': {
    const d = nip19.decode(req.code)
    out = { type: d.type, data: d.data instanceof Uint8Array ? bytesToHex(d.data) : d.data }
    break
  }
  default:
    throw new Error('unknown op ' + req.op)
}
process.stdout.write(JSON.stringify(out))
