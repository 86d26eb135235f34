#!/usr/bin/env python3
"""An independent implementation of the audit trail format (README, "The audit trail"), for the
benchmark and as a second reading of the format.

  audit-trail.py gen FILE --lines N --key-out DIR [--batch 100]
      writes a trail of N lines (an open line, request lines, a signature line every BATCH lines
      and a closing one) signed with a fresh Ed25519 key; DIR gets audit-signing.key/.pub
  audit-trail.py verify FILE --key PUB
      checks the chain and the signatures (the reference the benchmark compares with)
"""
import argparse, base64, hashlib, json, os, sys, time
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

GENESIS = "0" * 64

def at(t):
    return time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(t)) + ".%03dZ" % int((t % 1) * 1000)

def line(obj):
    return json.dumps(obj, separators=(",", ":"), ensure_ascii=False).encode()

def key_id(pub):
    raw = pub.public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)
    return hashlib.sha256(raw).hexdigest()[:16]

def message(seq, prev, at_, kid):
    return ("writebackd-audit-v1\n%d\n%s\n%s\n%s\n" % (seq, prev, at_, kid)).encode()

def gen(path, lines, key_out, batch):
    key = Ed25519PrivateKey.generate()
    os.makedirs(key_out, mode=0o700, exist_ok=True)
    with open(os.path.join(key_out, "audit-signing.key"), "wb") as f:
        os.fchmod(f.fileno(), 0o600)
        f.write(key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()))
    with open(os.path.join(key_out, "audit-signing.pub"), "wb") as f:
        f.write(key.public_key().public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo))
    kid = key_id(key.public_key())
    prev, seq, unsigned, t = GENESIS, 0, 0, 1790000000.0
    users = ["alice", "bob", "carol", "dave", "erin", "frank", "grace"]
    with open(path, "wb") as out:
        def emit(obj):
            nonlocal prev, seq, unsigned
            b = line(obj)
            out.write(b + b"\n")
            prev, seq, unsigned = hashlib.sha256(b).hexdigest(), seq + 1, unsigned + 1
        def sign():
            nonlocal unsigned
            a = at(t)
            sig = base64.b64encode(key.sign(message(seq, prev, a, kid))).decode()
            emit({"seq": seq, "prev": prev, "type": "signature", "at": a, "key_id": kid, "sig": sig})
            unsigned = 0
        emit({"seq": 0, "prev": GENESIS, "type": "open", "at": at(t), "reason": "start", "owner": "bench:1:0000",
              "version": "bench", "previous_file": None})
        while seq < lines - 1:
            t += 0.25
            u = users[seq % len(users)]
            emit({"seq": seq, "prev": prev, "type": "request", "at": at(t), "request_id": "bench-%08d" % seq,
                  "user": u, "user_dn": "uid=%s,ou=people,dc=example,dc=org" % u, "directory": None, "kind": "reset",
                  "initiator": "self" if seq % 3 else "admin:helpdesk", "outcome": "succeeded", "state": "succeeded",
                  "detail": None, "attempts": 1, "created_at": at(t - 0.2), "completed_at": at(t), "owner": "bench:1:0000"})
            if unsigned >= batch and seq < lines - 1:
                sign()
        sign()

def verify(path, pub_path):
    with open(pub_path, "rb") as f:
        pub = serialization.load_pem_public_key(f.read())
    kid = key_id(pub)
    prev, expected, problems, signed = None, 0, 0, -1
    with open(path, "rb") as f:
        for raw in f:
            b = raw.rstrip(b"\n")
            e = json.loads(b)
            if e["seq"] != expected or (prev is not None and e["prev"] != prev) or (prev is None and e["prev"] != GENESIS):
                problems += 1
            if e["type"] == "signature":
                try:
                    pub.verify(base64.b64decode(e["sig"]), message(e["seq"], e["prev"], e["at"], e["key_id"]))
                    signed = e["seq"]
                except Exception:
                    problems += 1
                if e["key_id"] != kid:
                    problems += 1
            prev, expected = hashlib.sha256(b).hexdigest(), e["seq"] + 1
    print("lines %d, problems %d, signed through %d" % (expected, problems, signed))
    return 0 if problems == 0 else 1

if __name__ == "__main__":
    p = argparse.ArgumentParser()
    sub = p.add_subparsers(dest="cmd", required=True)
    g = sub.add_parser("gen"); g.add_argument("file"); g.add_argument("--lines", type=int, required=True)
    g.add_argument("--key-out", required=True); g.add_argument("--batch", type=int, default=100)
    v = sub.add_parser("verify"); v.add_argument("file"); v.add_argument("--key", required=True)
    a = p.parse_args()
    sys.exit(gen(a.file, a.lines, a.key_out, a.batch) or 0 if a.cmd == "gen" else verify(a.file, a.key))
