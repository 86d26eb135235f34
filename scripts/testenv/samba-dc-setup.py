#!/usr/bin/python3
# samba-dc-setup.py DIR — run once by samba-dc.sh right after `samba-tool domain provision`,
# offline against DIR/private/sam.ldb (no server running): domain password/lockout settings,
# OUs, groups, the writeback service account with exactly the rights it needs, a read-only
# account, and the test users whose facts the tests read. Passwords are random; the three the
# tests need are written to DIR/secrets/*.pw (0600). Nothing goes on a command line.
import os
import secrets
import string
import sys

import ldb
from samba.auth import system_session
from samba.dcerpc import security
from samba.ndr import ndr_pack, ndr_unpack
from samba.param import LoadParm
from samba.samdb import SamDB

target = sys.argv[1]
lp = LoadParm()
lp.load(os.path.join(target, "etc", "smb.conf"))
samdb = SamDB(url=os.path.join(target, "private", "sam.ldb"), session_info=system_session(), lp=lp)
base = str(samdb.domain_dn())
domain_sid = security.dom_sid(samdb.get_domain_sid())

USER_CLASS = "bf967aba-0de6-11d0-a285-00aa003049e2"        # user
RESET_PASSWORD = "00299570-246d-11d0-a768-00aa006e0529"    # User-Force-Change-Password
CHANGE_PASSWORD = "ab721a53-1e2f-11d0-9819-00aa0040529b"   # User-Change-Password
LOCKOUT_TIME = "28630ebf-41d5-11d1-a9c1-0000f80367c1"
PWD_LAST_SET = "bf967a0a-0de6-11d0-a285-00aa003049e2"


def random_password():
    # Long, complex, and different every provisioning.
    alphabet = string.ascii_letters + string.digits
    return "Aa1!" + "".join(secrets.choice(alphabet) for _ in range(28))


def save(name, password):
    path = os.path.join(target, "secrets", name + ".pw")
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w") as f:
        f.write(password)  # no newline: `ldapsearch -y` reads the file verbatim


def unicode_pwd(password):
    return ('"%s"' % password).encode("utf-16-le")


def add(dn, attrs):
    msg = ldb.Message(ldb.Dn(samdb, dn))
    for k, v in attrs.items():
        msg[k] = ldb.MessageElement(v, ldb.FLAG_MOD_ADD, k)
    samdb.add(msg)


def modify(dn, attrs):
    msg = ldb.Message(ldb.Dn(samdb, dn))
    for k, v in attrs.items():
        msg[k] = ldb.MessageElement(v, ldb.FLAG_MOD_REPLACE, k)
    samdb.modify(msg)


def user(cn, ou, sam, password, uac=512, **extra):
    dn = "CN=%s,%s" % (cn, ou)
    attrs = {"objectClass": "user", "sAMAccountName": sam,
             "userPrincipalName": "%s@example.test" % sam, "unicodePwd": unicode_pwd(password)}
    attrs.update(extra)
    add(dn, attrs)
    modify(dn, {"userAccountControl": str(uac)})
    return dn


def group(cn, members):
    dn = "CN=%s,OU=Groups,%s" % (cn, base)
    attrs = {"objectClass": "group", "sAMAccountName": cn.replace(" ", "-")}
    if members:
        attrs["member"] = members
    add(dn, attrs)
    return dn


def sid_of(dn):
    res = samdb.search(dn, scope=ldb.SCOPE_BASE, attrs=["objectSid"])
    return str(ndr_unpack(security.dom_sid, res[0]["objectSid"][0]))


def delegate(ou, aces):
    # What `samba-tool dsacl set` does: insert the ACEs at the front of the DACL.
    res = samdb.search(ou, scope=ldb.SCOPE_BASE, attrs=["nTSecurityDescriptor"])
    sddl = ndr_unpack(security.descriptor, res[0]["nTSecurityDescriptor"][0]).as_sddl(domain_sid)
    i = sddl.index("(")
    sddl = sddl[:i] + "".join(aces) + sddl[i:]
    desc = security.descriptor.from_sddl(sddl, domain_sid)
    msg = ldb.Message(ldb.Dn(samdb, ou))
    msg["nTSecurityDescriptor"] = ldb.MessageElement(ndr_pack(desc), ldb.FLAG_MOD_REPLACE, "nTSecurityDescriptor")
    samdb.modify(msg)


# Domain policy: lockout after 3 bad passwords (30 min), no minimum age (changes in tests),
# history 24, minimum length 12, complexity on.
thirty_minutes = str(-30 * 60 * 10**7)
modify(base, {"lockoutThreshold": "3", "lockoutDuration": thirty_minutes,
              "lockOutObservationWindow": thirty_minutes, "minPwdAge": "0",
              "pwdHistoryLength": "24", "minPwdLength": "12", "pwdProperties": "1"})

admin_pw = random_password()
samdb.setpassword("(sAMAccountName=Administrator)", admin_pw, force_change_at_next_login=False)
modify("CN=Administrator,CN=Users," + base, {"userAccountControl": str(512 | 0x10000)})
save("administrator", admin_pw)

people = "OU=People," + base
svc_ou = "OU=Service Accounts," + base
for ou in (people, "OU=Groups," + base, svc_ou):
    add(ou, {"objectClass": "organizationalUnit"})

svc_pw, ro_pw = random_password(), random_password()
svc = user("svc-writeback", svc_ou, "svc-writeback", svc_pw, uac=512 | 0x10000)
ro = user("svc-readonly", svc_ou, "svc-readonly", ro_pw, uac=512 | 0x10000)
save("svc-writeback", svc_pw)
save("svc-readonly", ro_pw)

# Exactly what writeback needs, inherited by user objects under OU=People only.
s = sid_of(svc)
delegate(people, [
    "(OA;CIIO;CR;%s;%s;%s)" % (RESET_PASSWORD, USER_CLASS, s),
    "(OA;CIIO;CR;%s;%s;%s)" % (CHANGE_PASSWORD, USER_CLASS, s),
    "(OA;CIIO;WP;%s;%s;%s)" % (LOCKOUT_TIME, USER_CLASS, s),
    "(OA;CIIO;WP;%s;%s;%s)" % (PWD_LAST_SET, USER_CLASS, s),
    "(OA;CIIO;RPLCLORC;;%s;%s)" % (USER_CLASS, s),
])
r = sid_of(ro)
delegate(people, ["(OA;CIIO;RPLCLORC;;%s;%s)" % (USER_CLASS, r)])

# Test users whose facts are read (their passwords are random and thrown away).
def person(sam, display, **extra):
    return user(display, people, sam, random_password(), displayName=display,
                mail="%s@example.test" % sam, otherMailbox="%s@home.example" % sam, **extra)

paul = person("paul.plain", "Paul Plain")
alice = person("alice.admin", "Alice Admin")
modify(alice, {"adminCount": "1"})
dave = user("Dave Disabled", people, "dave.disabled", random_password(), uac=512 | 0x2,
            displayName="Dave Disabled", mail="dave.disabled@example.test")
nora = person("nora.nested", "Nora Nested")
# Two users whose identity attributes collide (mail) for ambiguity tests.
person("twin.one", "Twin One")
person("twin.two", "Twin Two")
modify("CN=Twin One," + people, {"mail": "twins@example.test"})
modify("CN=Twin Two," + people, {"mail": "twins@example.test"})

leads = group("Helpdesk Leads", [nora])
group("Tier0 Admins", [leads])
group("SSPR Pilot", [paul, leads])
print("ok")
