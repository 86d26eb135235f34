#!/usr/bin/env python3
"""Writes the seed corpora of `make fuzz` (fuzz/corpus/<target>/) from the shapes the unit
tests use: a valid payload v1 and the hostile cases of Tests/RequestCodecTests/
HostilePayloadTests.swift, the example configurations and the bad values of
ConfigLoaderTests, the control socket's requests and broken lines. Run again after a change;
the files are small and committed. No seed holds a real password or key."""
import base64, json, os, shutil, sys

root = os.path.dirname(os.path.abspath(__file__))
out = os.path.join(root, "corpus")
rid = "0b0e6f3c-6f46-4f7e-9d3b-3b0f4a2d9c11"

def b64(n, fill=0): return base64.b64encode(bytes([fill]) * n).decode()

def payload(**edits):
    p = {"v": 1, "id": rid, "kind": "reset", "user": "alice", "unlock": True,
         "initiator": {"type": "self"}, "issued_at": "2026-01-01T00:00:00Z", "expires_at": "2026-01-01T00:15:00Z",
         "verification": {"methods_passed": ["email", "mobile_phone"], "registered_methods": ["email", "mobile_phone"],
                          "registration_confirmed_at": "2025-12-01T00:00:00Z"},
         "licenses": ["AAD_PREMIUM"], "must_change_at_next_logon": False, "locale": "zh-Hant-TW",
         "new_password": {"enc": b64(32), "ct": b64(40)}}
    for k, v in edits.items():
        if v is ...: p.pop(k, None)
        else: p[k] = v
    return json.dumps(p, separators=(",", ":"), ensure_ascii=False).encode()

payloads = {
    "valid": payload(),
    "admin": payload(initiator={"type": "admin", "name": "helpdesk"}, verification=...),
    "unlock": payload(kind="unlock", new_password=...),
    "change": payload(kind="change", old_password={"enc": b64(32, 1), "ct": b64(24, 2)}),
    "unknown-field": payload(password="x"),
    "v-string": payload(v="1"), "v-2": payload(v=2), "v-float": payload(v=1.0), "v-missing": payload(v=...),
    "id-bad": payload(id="not-a-uuid"), "id-number": payload(id=7),
    "kind-bad": payload(kind="delete"), "user-number": payload(user=42), "user-empty": payload(user=""),
    "user-newline": payload(user="alice\n"), "user-nul": payload(user="ali\u0000ce"),
    "user-injection": payload(user="*)(uid=*"), "user-escape": payload(user="\\2a(|(objectClass=*))"),
    "unlock-string": payload(unlock="yes"), "initiator-string": payload(initiator="self"),
    "initiator-root": payload(initiator={"type": "root"}), "admin-no-name": payload(initiator={"type": "admin"}),
    "issued-no-offset": payload(issued_at="2026-01-01T00:00:00"), "expires-feb30": payload(expires_at="2099-02-30T00:00:00Z"),
    "expires-before": payload(issued_at="2100-01-01T00:00:00Z", expires_at="2099-01-01T00:00:00Z"),
    "offset-frac": payload(issued_at="2026-01-01T00:00:00.123456+08:00"),
    "methods-string": payload(verification={"methods_passed": "email", "registered_methods": []}),
    "licenses-number": payload(licenses=[1]), "locale-bad": payload(locale="english please"),
    "sealed-string": payload(new_password="in clear"), "sealed-extra": payload(new_password={"enc": "", "ct": "", "alg": "x"}),
    "sealed-bad-b64": payload(new_password={"enc": "!!!", "ct": "@@"}),
    "misspelt-sealed": payload(new_pasword={"enc": b64(32), "ct": b64(40)}),
    "duplicate-key": payload()[:-1] + b',"user":"bob"}',
    "truncated": payload()[:60], "array": b"[" + payload() + b"]", "nested-deep": b"[" * 200 + b"]" * 200,
    "bom": b"\xef\xbb\xbf" + payload(), "bad-utf8": payload().replace(b"alice", b"al\xffce"),
    "escapes": payload(user="\u00e9\U0001F600"), "lone-surrogate": payload()[:-1] + b',"x":"\\ud83d"}', "numbers": b'{"v":1e400,"id":-0.0e-7}',
    "whitespace": b" \t\r\n" + payload() + b"\n",
}

sealed = {"empty-even": b"\x00", "short-even": b"\x00Pw", "utf8-even": "\x00Grâce-Ørsted-9!".encode(),
          "nul-even": b"\x02ab\x00cd", "bad-utf8-even": b"\x04\xff\xfe", "odd-short": b"\x01" + b"\x07" * 10,
          "odd-enc-only": b"\x01" + b"\x09" * 32, "odd-full": b"\x03" + bytes(range(32)) + bytes(range(40))}

configs = {}
for name in ("writebackd.toml", "openldap.toml", "active-directory.toml"):
    configs[name] = open(os.path.join(root, "..", "config", name), "rb").read()
minimal = configs["openldap.toml"].decode()
for name, text in {
    "unknown-key": minimal.replace("[queue]", "[queue]\npolll_interval_ms = 5", 1),
    "unknown-section": minimal + "\n[extra]\nx = 1\n",
    "wrong-type": minimal.replace("[queue]", "[queue]\nmax_attempts = \"five\"", 1),
    "out-of-range": minimal.replace("[queue]", "[queue]\nlease_seconds = 0", 1),
    "plain-ldap": minimal.replace("ldaps://", "ldap://"),
    "bad-syntax": "[directory\nuri = ",
    "unicode": "[directory]\nbase_dn = \"dc=例え,dc=jp\"\n",
    "arrays": "[[directory]]\nname = \"a\"\n[[directory]]\nname = \"b\"\n",
    "inline": "directory = { flavor = \"openldap\" }\n",
    "dates": "[queue]\nretention_days = 1979-05-27T07:32:00Z\n",
    # A crash input of CI's short run, reduced (TOMLKeyPrecheck.misplacedBrace refuses it).
    "brace-in-array": "[directory]\nuri = [\"ldaps://a\",} \"ldaps://b\"]\n",
}.items():
    configs[name] = text.encode()

lines = {"status": b'{"command":"status"}\n', "requests": b'{"command":"requests","state":"pending","limit":10}\r\n',
         "two": b'{"command":"pause"}\n{"command":"resume"}\n', "unterminated": b'{"command":"metrics"}',
         "empty-lines": b"\n\n\r\n", "garbage": b"\x00\xff{\n", "long": b"x" * 300 + b"\n",
         "limit-cr": b"y" * 256 + b"\r\n", "wrong-types": b'{"command":7,"limit":"ten"}\n'}

for target, seeds in (("payload", payloads), ("opener", sealed), ("config", configs), ("control-line", lines)):
    d = os.path.join(out, target)
    shutil.rmtree(d, ignore_errors=True)
    os.makedirs(d)
    for name, data in seeds.items():
        if target == "control-line":
            data = bytes([len(name) % 64]) + data   # byte 0: the piece size the harness feeds
        with open(os.path.join(d, name), "wb") as f:
            f.write(data)
    print(f"{target}: {len(seeds)} seeds", file=sys.stderr)
