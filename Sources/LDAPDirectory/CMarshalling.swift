import CLDAP
import Foundation
import WritebackCore

/// Builds the NULL-terminated C arrays libldap takes (controls, modifications, attribute
/// lists) and frees them afterwards. It exists so that every malloc in this module has its
/// free in one place: `CArena` owns what it allocated and releases it (wiping secret bytes)
/// when `release()` runs, which callers do with `defer`.
final class CArena {
    private var allocations: [(UnsafeMutableRawPointer, Int, Bool)] = []

    /// Copies `bytes` into C memory (NUL-terminated, so it also serves as a C string).
    func bytes(_ bytes: UnsafeBufferPointer<UInt8>, secret: Bool = false) -> UnsafeMutablePointer<CChar> {
        let p = UnsafeMutableRawPointer.allocate(byteCount: bytes.count + 1, alignment: 1)
        if let base = bytes.baseAddress, bytes.count > 0 { p.copyMemory(from: base, byteCount: bytes.count) }
        p.storeBytes(of: 0, toByteOffset: bytes.count, as: UInt8.self)
        allocations.append((p, bytes.count + 1, secret))
        return p.assumingMemoryBound(to: CChar.self)
    }

    func string(_ s: String) -> UnsafeMutablePointer<CChar> {
        var s = s
        return s.withUTF8 { bytes($0) }
    }

    func data(_ d: Data) -> UnsafeMutablePointer<CChar> { d.withUnsafeBytes { bytes($0.bindMemory(to: UInt8.self)) } }

    func typed<T>(_ type: T.Type, count: Int) -> UnsafeMutablePointer<T> {
        let p = UnsafeMutablePointer<T>.allocate(capacity: count)
        allocations.append((UnsafeMutableRawPointer(p), MemoryLayout<T>.stride * count, false))
        return p
    }

    /// A berval over a copy of `value`.
    func berval(_ value: LDAPValue) -> UnsafeMutablePointer<CLDAP.berval> {
        let bv = typed(CLDAP.berval.self, count: 1)
        switch value {
        case .bytes(let d):
            bv.pointee = CLDAP.berval(bv_len: ber_len_t(d.count), bv_val: data(d))
        case .secret(let s):
            let p = s.withBytes { bytes($0, secret: true) }
            bv.pointee = CLDAP.berval(bv_len: ber_len_t(s.count), bv_val: p)
        }
        return bv
    }

    /// `char **` of `strings`, NULL-terminated; nil for an empty list (= all attributes).
    func stringArray(_ strings: [String]) -> UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>? {
        guard !strings.isEmpty else { return nil }
        let arr = typed(UnsafeMutablePointer<CChar>?.self, count: strings.count + 1)
        for (i, s) in strings.enumerated() { arr[i] = string(s) }
        arr[strings.count] = nil
        return arr
    }

    /// `LDAPControl **`, NULL-terminated; nil when there are none.
    func controls(_ controls: [LDAPControl]) -> UnsafeMutablePointer<UnsafeMutablePointer<CLDAP.LDAPControl>?>? {
        guard !controls.isEmpty else { return nil }
        let arr = typed(UnsafeMutablePointer<CLDAP.LDAPControl>?.self, count: controls.count + 1)
        for (i, c) in controls.enumerated() {
            let cc = typed(CLDAP.LDAPControl.self, count: 1)
            let value = c.value.map { CLDAP.berval(bv_len: ber_len_t($0.count), bv_val: data($0)) }
                ?? CLDAP.berval(bv_len: 0, bv_val: nil)
            cc.pointee = CLDAP.LDAPControl(ldctl_oid: string(c.oid), ldctl_value: value, ldctl_iscritical: c.critical ? 1 : 0)
            arr[i] = cc
        }
        arr[controls.count] = nil
        return arr
    }

    /// `LDAPMod **` for a modify, binary values (LDAP_MOD_BVALUES).
    func modifications(_ mods: [LDAPModification]) -> UnsafeMutablePointer<UnsafeMutablePointer<LDAPMod>?> {
        let arr = typed(UnsafeMutablePointer<LDAPMod>?.self, count: mods.count + 1)
        for (i, m) in mods.enumerated() {
            let mod = typed(LDAPMod.self, count: 1)
            var vals: UnsafeMutablePointer<UnsafeMutablePointer<CLDAP.berval>?>? = nil
            if !m.values.isEmpty {
                let v = typed(UnsafeMutablePointer<CLDAP.berval>?.self, count: m.values.count + 1)
                for (j, value) in m.values.enumerated() { v[j] = berval(value) }
                v[m.values.count] = nil
                vals = v
            }
            mod.pointee = LDAPMod()
            mod.pointee.mod_op = m.operation.rawValue | Int32(LDAP_MOD_BVALUES)
            mod.pointee.mod_type = string(m.attribute)
            mod.pointee.mod_vals.modv_bvals = vals
            arr[i] = mod
        }
        arr[mods.count] = nil
        return arr
    }

    /// Frees everything, zeroing secret copies first.
    func release() {
        for (p, n, secret) in allocations {
            if secret { memset(p, 0, n) }
            p.deallocate()
        }
        allocations.removeAll()
    }

    deinit { release() }
}

/// Copies a C `LDAPControl **` into Swift values (the caller frees the C array).
func copyControls(_ ctrls: UnsafeMutablePointer<UnsafeMutablePointer<CLDAP.LDAPControl>?>?) -> [LDAPControl] {
    guard let ctrls else { return [] }
    var out: [LDAPControl] = []
    var i = 0
    while let c = ctrls[i] {
        let oid = c.pointee.ldctl_oid.map { String(cString: $0) } ?? ""
        let bv = c.pointee.ldctl_value
        let value = bv.bv_val.map { Data(bytes: $0, count: Int(bv.bv_len)) }
        out.append(LDAPControl(oid: oid, critical: c.pointee.ldctl_iscritical != 0, value: value))
        i += 1
    }
    return out
}

/// libldap's text for a result code.
func ldapErrorString(_ rc: Int32) -> String {
    ldap_err2string(rc).map { String(cString: $0) } ?? "LDAP error \(rc)"
}
