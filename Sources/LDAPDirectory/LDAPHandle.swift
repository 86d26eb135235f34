import CLDAP
import Foundation
import WritebackCore

/// How a handle authenticates.
public enum LDAPBind: Sendable {
    /// Simple bind (only over TLS or ldapi, or plain loopback when allowed).
    case simple(dn: String, password: Secret)
    /// SASL EXTERNAL: over ldapi the server maps the peer's uid/gid to a DN.
    case external
    /// SASL GSSAPI from the process's keytab (KRB5_CLIENT_KTNAME) and MEMORY ccache.
    case gssapi
}

/// One libldap `LDAP*`, owned: opened in `init`, unbound in `deinit`. Exists so that no other
/// code touches the C handle. It is not Sendable and must only be used on the thread of the
/// `LDAPConnection` actor that created it (one LDAP* per thread, directories.md).
///
/// Every operation is sent asynchronously and awaited with `ldap_result` bounded by the
/// handle's timeout, so a server that stops answering costs at most `timeout` and the
/// response controls (ppolicy) are always available. After a timeout or a lost connection
/// the handle is `broken` and must be thrown away.
public final class LDAPHandle {
    private var ld: OpaquePointer?
    public let uri: String
    let timeout: Double
    /// Set when the connection can no longer be trusted (timeout, connection lost).
    public private(set) var broken = false

    /// Initialises the handle for `uri` (no network traffic yet). `caFile` is used for this
    /// handle only (a fresh TLS context).
    init(uri: String, caFile: String?, timeout: Double) throws(LDAPError) {
        self.uri = uri
        self.timeout = timeout
        var ld: OpaquePointer?
        let rc = ldap_initialize(&ld, uri)
        guard rc == LDAP_SUCCESS, let ld else {
            throw LDAPError(code: rc, message: "ldap_initialize: \(ldapErrorString(rc))", phase: .connect, uri: uri)
        }
        self.ld = ld
        var version = Int32(LDAP_VERSION3)
        ldap_set_option(ld, LDAP_OPT_PROTOCOL_VERSION, &version)
        ldap_set_option(ld, LDAP_OPT_REFERRALS, cldap_opt_off())
        var tv = Self.timeval(timeout)
        ldap_set_option(ld, LDAP_OPT_NETWORK_TIMEOUT, &tv)
        ldap_set_option(ld, LDAP_OPT_TIMEOUT, &tv)
        ldap_set_option(ld, LDAP_OPT_X_SASL_NOCANON, cldap_opt_on())
        var demand = Int32(LDAP_OPT_X_TLS_DEMAND)
        ldap_set_option(ld, LDAP_OPT_X_TLS_REQUIRE_CERT, &demand)
        if let caFile {
            caFile.withCString { _ = ldap_set_option(ld, LDAP_OPT_X_TLS_CACERTFILE, $0) }
        }
        var isServer: Int32 = 0
        let ctx = ldap_set_option(ld, LDAP_OPT_X_TLS_NEWCTX, &isServer)
        if ctx != LDAP_SUCCESS && uri.lowercased().hasPrefix("ldaps") {
            throw LDAPError(code: ctx, message: "TLS context: \(ldapErrorString(ctx))", phase: .connect, uri: uri)
        }
    }

    deinit {
        if let ld { ldap_unbind_ext(ld, nil, nil) }
    }

    static func timeval(_ seconds: Double) -> timeval {
        let whole = Int(seconds.rounded(.down))
        return CLDAP.timeval(tv_sec: whole, tv_usec: Int((seconds - Double(whole)) * 1_000_000))
    }

    // MARK: connection setup

    /// StartTLS (verifying the server against the handle's CA).
    func startTLS() throws(LDAPError) {
        let rc = ldap_start_tls_s(ld, nil, nil)
        guard rc == LDAP_SUCCESS else { throw failure(rc, phase: .connect, "StartTLS") }
    }

    /// Authenticates the handle.
    func bind(_ bind: LDAPBind) throws(LDAPError) {
        switch bind {
        case .simple(let dn, let password):
            let arena = CArena()
            defer { arena.release() }
            let cred = arena.berval(.secret(password))
            var msgid: Int32 = 0
            let rc = ldap_sasl_bind(ld, dn, nil, cred, nil, nil, &msgid)
            guard rc == LDAP_SUCCESS else { throw failure(rc, phase: .bind, "bind") }
            _ = try awaitResult(msgid: msgid, phase: .bind)
        case .external:
            let rc = cldap_sasl_interactive_bind(ld, "EXTERNAL", nil)
            guard rc == LDAP_SUCCESS else { throw failure(rc, phase: .bind, "EXTERNAL bind") }
        case .gssapi:
            let rc = cldap_sasl_interactive_bind(ld, "GSSAPI", nil)
            guard rc == LDAP_SUCCESS else { throw failure(rc, phase: .bind, "GSSAPI bind") }
        }
    }

    // MARK: operations

    /// A search. Entries come back even when the size limit was hit (`sizeLimitHit`).
    public func search(base: String, scope: LDAPScope, filter: String, attributes: [String],
                       sizeLimit: Int32 = 0, controls: [LDAPControl] = []) throws(LDAPError) -> (entries: [LDAPEntry], sizeLimitHit: Bool) {
        let arena = CArena()
        defer { arena.release() }
        var tv = Self.timeval(timeout)
        var msgid: Int32 = 0
        let rc = ldap_search_ext(ld, base, scope.rawValue, filter, arena.stringArray(attributes), 0,
                                 arena.controls(controls), nil, &tv, sizeLimit, &msgid)
        guard rc == LDAP_SUCCESS else { throw failure(rc, phase: .operation, "search") }
        var res: OpaquePointer?
        try waitFor(msgid: msgid, result: &res)
        defer { ldap_msgfree(res) }
        var entries: [LDAPEntry] = []
        var e = ldap_first_entry(ld, res)
        while let entry = e {
            entries.append(readEntry(entry))
            e = ldap_next_entry(ld, entry)
        }
        let final = try parse(res, freeIt: false, phase: .operation, allow: [LDAPCode.sizeLimitExceeded])
        return (entries, final.code == LDAPCode.sizeLimitExceeded)
    }

    /// An LDAP Modify.
    @discardableResult
    public func modify(dn: String, _ mods: [LDAPModification], controls: [LDAPControl] = []) throws(LDAPError) -> LDAPResponse {
        let arena = CArena()
        defer { arena.release() }
        var msgid: Int32 = 0
        let rc = ldap_modify_ext(ld, dn, arena.modifications(mods), arena.controls(controls), nil, &msgid)
        guard rc == LDAP_SUCCESS else { throw failure(rc, phase: .operation, "modify") }
        return try awaitResult(msgid: msgid, phase: .operation)
    }

    /// Password Modify extended operation (RFC 3062). `dn` nil means the bound identity.
    @discardableResult
    public func passwordModify(dn: String?, oldPassword: Secret?, newPassword: Secret?,
                               controls: [LDAPControl] = []) throws(LDAPError) -> LDAPResponse {
        let arena = CArena()
        defer { arena.release() }
        let user = dn.map { arena.berval(.string($0)) }
        let old = oldPassword.map { arena.berval(.secret($0)) }
        let new = newPassword.map { arena.berval(.secret($0)) }
        var msgid: Int32 = 0
        let rc = ldap_passwd(ld, user, old, new, arena.controls(controls), nil, &msgid)
        guard rc == LDAP_SUCCESS else { throw failure(rc, phase: .operation, "password modify") }
        return try awaitResult(msgid: msgid, phase: .operation, extended: true)
    }

    /// Any extended operation.
    public func extended(oid: String, value: Data?, controls: [LDAPControl] = []) throws(LDAPError) -> LDAPResponse {
        let arena = CArena()
        defer { arena.release() }
        var msgid: Int32 = 0
        let rc = ldap_extended_operation(ld, oid, value.map { arena.berval(.bytes($0)) }, arena.controls(controls), nil, &msgid)
        guard rc == LDAP_SUCCESS else { throw failure(rc, phase: .operation, "extended operation") }
        return try awaitResult(msgid: msgid, phase: .operation, extended: true)
    }

    /// LDAP Compare: true when the entry holds `value` in `attribute`.
    public func compare(dn: String, attribute: String, value: LDAPValue, controls: [LDAPControl] = []) throws(LDAPError) -> Bool {
        let arena = CArena()
        defer { arena.release() }
        var msgid: Int32 = 0
        let rc = ldap_compare_ext(ld, dn, attribute, arena.berval(value), arena.controls(controls), nil, &msgid)
        guard rc == LDAP_SUCCESS else { throw failure(rc, phase: .operation, "compare") }
        let r = try awaitResult(msgid: msgid, phase: .operation, allow: [LDAPCode.compareTrue, LDAPCode.compareFalse])
        return r.code == LDAPCode.compareTrue
    }

    /// The RootDSE (`attributes` empty: all user and operational attributes).
    public func rootDSE(attributes: [String] = []) throws(LDAPError) -> LDAPEntry {
        let r = try search(base: "", scope: .base, filter: "(objectClass=*)", attributes: attributes.isEmpty ? ["*", "+"] : attributes)
        guard let e = r.entries.first else { throw LDAPError(code: LDAPCode.noSuchObject, message: "no RootDSE", uri: uri) }
        return e
    }

    // MARK: results

    private func awaitResult(msgid: Int32, phase: LDAPError.Phase, extended: Bool = false, allow: Set<Int32> = []) throws(LDAPError) -> LDAPResponse {
        var res: OpaquePointer?
        try waitFor(msgid: msgid, result: &res)
        var name: UnsafeMutablePointer<CChar>? = nil
        var value: UnsafeMutablePointer<CLDAP.berval>? = nil
        if extended { _ = ldap_parse_extended_result(ld, res, &name, &value, 0) }
        defer {
            if let name { ldap_memfree(name) }
            if let value { ber_bvfree(value) }
        }
        var response = try parse(res, freeIt: true, phase: phase, allow: allow)
        response.responseName = name.map { String(cString: $0) }
        response.responseValue = value.flatMap { v in v.pointee.bv_val.map { Data(bytes: $0, count: Int(v.pointee.bv_len)) } }
        return response
    }

    private func waitFor(msgid: Int32, result: inout OpaquePointer?) throws(LDAPError) {
        var tv = Self.timeval(timeout)
        let rc = ldap_result(ld, msgid, LDAP_MSG_ALL, &tv, &result)
        if rc == 0 {
            ldap_abandon_ext(ld, msgid, nil, nil)
            broken = true
            throw LDAPError(code: LDAPCode.timeout, message: "no answer within \(timeout) s", uri: uri)
        }
        if rc == -1 {
            var code: Int32 = 0
            ldap_get_option(ld, LDAP_OPT_RESULT_CODE, &code)
            throw failure(code == 0 ? LDAPCode.serverDown : code, phase: .operation, "result")
        }
    }

    private func parse(_ res: OpaquePointer?, freeIt: Bool, phase: LDAPError.Phase, allow: Set<Int32> = []) throws(LDAPError) -> LDAPResponse {
        var code: Int32 = 0
        var matched: UnsafeMutablePointer<CChar>? = nil
        var text: UnsafeMutablePointer<CChar>? = nil
        var refs: UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>? = nil
        var ctrls: UnsafeMutablePointer<UnsafeMutablePointer<CLDAP.LDAPControl>?>? = nil
        let rc = ldap_parse_result(ld, res, &code, &matched, &text, &refs, &ctrls, freeIt ? 1 : 0)
        defer {
            if let matched { ldap_memfree(matched) }
            if let text { ldap_memfree(text) }
            if let refs { ldap_memvfree(UnsafeMutablePointer(OpaquePointer(refs))) }
            if let ctrls { ldap_controls_free(ctrls) }
        }
        guard rc == LDAP_SUCCESS else { throw failure(rc, phase: phase, "parse result") }
        let controls = copyControls(ctrls)
        guard code == LDAP_SUCCESS || allow.contains(code) else {
            let diag = text.map { String(cString: $0) } ?? ""
            throw LDAPError(code: code, message: diag.isEmpty ? ldapErrorString(code) : "\(ldapErrorString(code)): \(diag)",
                            controls: controls, phase: phase, uri: uri)
        }
        return LDAPResponse(code: code, controls: controls)
    }

    private func readEntry(_ entry: OpaquePointer) -> LDAPEntry {
        var dn = ""
        if let p = ldap_get_dn(ld, entry) { dn = String(cString: p); ldap_memfree(p) }
        var attrs: [String: [Data]] = [:]
        var ber: OpaquePointer? = nil
        var a = ldap_first_attribute(ld, entry, &ber)
        while let attr = a {
            let name = String(cString: attr)
            var values: [Data] = []
            if let vals = ldap_get_values_len(ld, entry, attr) {
                var i = 0
                while let v = vals[i] {
                    values.append(v.pointee.bv_val.map { Data(bytes: $0, count: Int(v.pointee.bv_len)) } ?? Data())
                    i += 1
                }
                ldap_value_free_len(vals)
            }
            attrs[name] = values
            ldap_memfree(attr)
            a = ldap_next_attribute(ld, entry, ber)
        }
        if let ber { ber_free(ber, 0) }
        return LDAPEntry(dn: dn, attributes: attrs)
    }

    /// An error for `rc`, with libldap's diagnostic; marks the handle broken when the
    /// connection is gone or timed out.
    private func failure(_ rc: Int32, phase: LDAPError.Phase, _ what: String) -> LDAPError {
        var diag: UnsafeMutablePointer<CChar>? = nil
        ldap_get_option(ld, LDAP_OPT_DIAGNOSTIC_MESSAGE, &diag)
        var message = "\(what): \(ldapErrorString(rc))"
        if let diag {
            let d = String(cString: diag)
            if !d.isEmpty { message += " (\(d))" }
            ldap_memfree(diag)
        }
        if rc == LDAPCode.serverDown || rc == LDAPCode.connectError || rc == LDAPCode.timeout { broken = true }
        return LDAPError(code: rc, message: message, phase: phase, uri: uri)
    }
}
