#!/usr/bin/python3
"""An independent writebackd producer: builds, seals, signs and queues one payload v1 request.

Written only from DESIGN.md ("Request", "Queue") with Python's `cryptography` 38, which has
no HPKE: RFC 9180 base mode (DHKEM(X25519, HKDF-SHA256), HKDF-SHA256, ChaCha20-Poly1305) is
implemented below from its primitives, so this is a second implementation, not a copy of the
Swift one. The row is inserted with the sqlite3 command-line shell, as a portal's DBA would.

    producer.py enqueue --db Q --signing-key K --sealing-pub P --user U --kind reset < password
    producer.py open --sealing-key K --id ID --field new_password < sealed.json   (prints the password)
    producer.py selftest   (RFC 9180 A.2.1 known-answer test of the HPKE below)

Passwords come on stdin only (one trailing newline dropped; change: old line, then new).
"""
import argparse, base64, datetime, hashlib, hmac, json, subprocess, sys, uuid

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.x25519 import X25519PrivateKey, X25519PublicKey
from cryptography.hazmat.primitives.ciphers.aead import ChaCha20Poly1305

# RFC 9180 identifiers: KEM 0x0020 DHKEM(X25519, HKDF-SHA256), KDF 0x0001 HKDF-SHA256, AEAD 0x0003.
KEM_SUITE = b"KEM" + (0x0020).to_bytes(2, "big")
HPKE_SUITE = b"HPKE" + (0x0020).to_bytes(2, "big") + (0x0001).to_bytes(2, "big") + (0x0003).to_bytes(2, "big")


def hkdf_extract(salt: bytes, ikm: bytes) -> bytes:
    return hmac.new(salt or b"\x00" * 32, ikm, hashlib.sha256).digest()


def hkdf_expand(prk: bytes, info: bytes, length: int) -> bytes:
    out, t, i = b"", b"", 1
    while len(out) < length:
        t = hmac.new(prk, t + info + bytes([i]), hashlib.sha256).digest()
        out, i = out + t, i + 1
    return out[:length]


def labeled_extract(suite: bytes, salt: bytes, label: bytes, ikm: bytes) -> bytes:
    return hkdf_extract(salt, b"HPKE-v1" + suite + label + ikm)


def labeled_expand(suite: bytes, prk: bytes, label: bytes, info: bytes, length: int) -> bytes:
    return hkdf_expand(prk, length.to_bytes(2, "big") + b"HPKE-v1" + suite + label + info, length)


def raw(pub: X25519PublicKey) -> bytes:
    return pub.public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)


def kem_shared_secret(dh: bytes, enc: bytes, pk_rm: bytes) -> bytes:
    eae_prk = labeled_extract(KEM_SUITE, b"", b"eae_prk", dh)
    return labeled_expand(KEM_SUITE, eae_prk, b"shared_secret", enc + pk_rm, 32)


def key_schedule(shared_secret: bytes, info: bytes):
    psk_id_hash = labeled_extract(HPKE_SUITE, b"", b"psk_id_hash", b"")
    info_hash = labeled_extract(HPKE_SUITE, b"", b"info_hash", info)
    context = b"\x00" + psk_id_hash + info_hash  # mode_base
    secret = labeled_extract(HPKE_SUITE, shared_secret, b"secret", b"")
    key = labeled_expand(HPKE_SUITE, secret, b"key", context, 32)
    base_nonce = labeled_expand(HPKE_SUITE, secret, b"base_nonce", context, 12)
    return key, base_nonce  # sequence number 0: the nonce is base_nonce itself


def seal(pk_r: X25519PublicKey, info: bytes, plaintext: bytes, aad: bytes = b"", sk_e=None):
    sk_e = sk_e or X25519PrivateKey.generate()
    enc = raw(sk_e.public_key())
    shared = kem_shared_secret(sk_e.exchange(pk_r), enc, raw(pk_r))
    key, nonce = key_schedule(shared, info)
    return enc, ChaCha20Poly1305(key).encrypt(nonce, plaintext, aad)


def open_sealed(sk_r: X25519PrivateKey, info: bytes, enc: bytes, ct: bytes, aad: bytes = b"") -> bytes:
    shared = kem_shared_secret(sk_r.exchange(X25519PublicKey.from_public_bytes(enc)), enc, raw(sk_r.public_key()))
    key, nonce = key_schedule(shared, info)
    return ChaCha20Poly1305(key).decrypt(nonce, ct, aad)


def selftest() -> None:
    """RFC 9180 A.2.1 (DHKEM(X25519, HKDF-SHA256), HKDF-SHA256, ChaCha20Poly1305), base
    mode, first encryption: this implementation must reproduce the published bytes."""
    h = bytes.fromhex
    info = h("4f6465206f6e2061204772656369616e2055726e")
    sk_e = X25519PrivateKey.from_private_bytes(h("f4ec9b33b792c372c1d2c2063507b684ef925b8c75a42dbcbf57d63ccd381600"))
    sk_r = X25519PrivateKey.from_private_bytes(h("8057991eef8f1f1af18f4a9491d16a1ce333f695d4db8e38da75975c4478e0fb"))
    assert raw(sk_r.public_key()) == h("4310ee97d88cc1f088a5576c77ab0cf5c3ac797f3d95139c6c84b5429c59662a")
    pt, aad = h("4265617574792069732074727574682c20747275746820626561757479"), h("436f756e742d30")
    want_ct = h("1c5250d8034ec2b784ba2cfd69dbdb8af406cfe3ff938e131f0def8c8b60b4db21993c62ce81883d2dd1b51a28")
    enc, ct = seal(sk_r.public_key(), info, pt, aad, sk_e)
    assert enc == h("1afa08d3dec047a643885163f1180476fa7ddb54c6a8029ea33f95796bf2ac4a"), "enc"
    assert ct == want_ct, "ciphertext"
    assert open_sealed(sk_r, info, enc, ct, aad) == pt, "open"
    print("RFC 9180 A.2.1: ok")


def rfc3339(t: datetime.datetime) -> str:
    return t.astimezone(datetime.timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")


def drop_newline(b: bytes) -> bytes:
    if b.endswith(b"\r\n"):
        return b[:-2]
    return b[:-1] if b.endswith(b"\n") else b


def sql_quote(s: str) -> str:
    return "'" + s.replace("'", "''") + "'"


def enqueue(a) -> None:
    with open(a.signing_key, "rb") as f:
        signing = serialization.load_pem_private_key(f.read(), password=None)
    with open(a.sealing_pub, "rb") as f:
        sealing = serialization.load_pem_public_key(f.read())
    rid = a.id or str(uuid.uuid4())
    now = datetime.datetime.now(datetime.timezone.utc)
    payload = {
        "v": 1, "id": rid, "kind": a.kind, "user": a.user,
        "initiator": {"type": "self"} if a.initiator == "self" else {"type": "admin", "name": a.initiator[6:]},
        "issued_at": rfc3339(now),
        # An offset instead of Z and a fraction: exercises the daemon's RFC 3339 parser.
        "expires_at": (now + datetime.timedelta(seconds=a.ttl)).astimezone(
            datetime.timezone(datetime.timedelta(hours=8))).isoformat(timespec="milliseconds"),
    }
    if a.initiator == "self" or a.methods:
        payload["verification"] = {
            "methods_passed": [m for m in (a.methods or "").split(",") if m],
            "registered_methods": [m for m in (a.registered or "").split(",") if m],
            "registration_confirmed_at": rfc3339(now - datetime.timedelta(days=1)),
        }
    if a.licenses:
        payload["licenses"] = a.licenses.split(",")
    if a.locale:
        payload["locale"] = a.locale
    stdin = sys.stdin.buffer.read() if a.kind != "unlock" else b""
    if a.kind == "reset":
        secrets = {"new_password": drop_newline(stdin)}
    elif a.kind == "change":
        old, _, rest = stdin.partition(b"\n")
        secrets = {"old_password": old.rstrip(b"\r"), "new_password": drop_newline(rest)}
    else:
        secrets = {}
    for field, password in secrets.items():
        enc, ct = seal(sealing, f"writebackd/v1/{rid}/{field}".encode(), password)
        payload[field] = {"enc": base64.b64encode(enc).decode(), "ct": base64.b64encode(ct).decode()}
    body = json.dumps(payload, ensure_ascii=False, separators=(", ", ": "), sort_keys=True)
    signature = base64.b64encode(signing.sign(body.encode("utf-8"))).decode()
    sql = (f"INSERT INTO reset_requests (id, payload, signature) VALUES "
           f"({sql_quote(rid)}, {sql_quote(body)}, {sql_quote(signature)});\n")
    subprocess.run(["sqlite3", "-bail", "-cmd", ".timeout 10000", a.db], input=sql.encode(), check=True)
    print(rid)


def open_cmd(a) -> None:
    with open(a.sealing_key, "rb") as f:
        key = serialization.load_pem_private_key(f.read(), password=None)
    sealed = json.load(sys.stdin)
    info = f"writebackd/v1/{a.id}/{a.field}".encode()
    sys.stdout.buffer.write(open_sealed(key, info, base64.b64decode(sealed["enc"]), base64.b64decode(sealed["ct"])))


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    sub = p.add_subparsers(dest="cmd", required=True)
    e = sub.add_parser("enqueue")
    e.add_argument("--db", required=True)
    e.add_argument("--signing-key", required=True)
    e.add_argument("--sealing-pub", required=True)
    e.add_argument("--user", required=True)
    e.add_argument("--kind", choices=["reset", "unlock", "change"], required=True)
    e.add_argument("--initiator", default="self")
    e.add_argument("--methods", default="")
    e.add_argument("--registered", default="")
    e.add_argument("--licenses", default="")
    e.add_argument("--locale", default="")
    e.add_argument("--ttl", type=int, default=900)
    e.add_argument("--id")
    o = sub.add_parser("open")
    o.add_argument("--sealing-key", required=True)
    o.add_argument("--id", required=True)
    o.add_argument("--field", default="new_password")
    sub.add_parser("selftest", help="check this HPKE against the RFC 9180 A.2.1 vector")
    a = p.parse_args()
    {"enqueue": enqueue, "open": open_cmd, "selftest": lambda _: selftest()}[a.cmd](a)


if __name__ == "__main__":
    main()
