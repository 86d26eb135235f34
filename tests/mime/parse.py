#!/usr/bin/python3
"""Parses RFC 5322 / MIME messages with Python's `email` package and prints what a mail
client would see, as JSON: one object per file given on the command line (a JSON array).

Used by Tests/OutboxTests to check the outbox's messages with a real, independent MIME
parser: decoded headers, parsed addresses, the decoded body, defects, and line lengths.
"""
import email
import email.policy
import email.utils
import json
import sys


def describe(path):
    raw = open(path, "rb").read()
    msg = email.message_from_bytes(raw, policy=email.policy.default)
    lf = raw.replace(b"\r\n", b"\n")       # the wire form (CRLF) and the stored form (LF) alike
    header_block = lf.split(b"\n\n", 1)[0]
    out = {
        "file": path,
        "headers": {k.lower(): str(v) for k, v in msg.items()},
        "header_names": [k for k, _ in msg.items()],
        "raw_header_lines_max": max(len(l) for l in header_block.split(b"\n")),
        "raw_header_ascii": all(b < 0x80 for b in header_block),
        "body_lines_max": max((len(l) for l in lf.split(b"\n\n", 1)[1].split(b"\n")), default=0),
        "content_type": msg.get_content_type(),
        "charset": msg.get_content_charset(),
        "cte": msg.get("Content-Transfer-Encoding"),
        "is_multipart": msg.is_multipart(),
        "defects": [type(d).__name__ for d in msg.defects],
        "body": msg.get_content(),
    }
    for part in msg.walk():
        out["defects"] += [type(d).__name__ for d in part.defects if part is not msg]
    for name in ("from", "to"):
        header = msg[name]
        out[name] = [{"name": a.display_name, "addr": a.addr_spec} for a in header.addresses] if header else []
        for d in (header.defects if header is not None else []):
            out["defects"].append(type(d).__name__)
    subject = msg["subject"]
    out["subject"] = str(subject) if subject is not None else None
    date = msg["date"]
    out["date_iso"] = date.datetime.isoformat() if date is not None and date.datetime else None
    out["message_id"] = str(msg["message-id"]) if msg["message-id"] else None
    return out


if __name__ == "__main__":
    json.dump([describe(p) for p in sys.argv[1:]], sys.stdout, ensure_ascii=False)
