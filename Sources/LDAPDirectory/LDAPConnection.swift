import Foundation
import WritebackCore

/// How the connections of a pool reach and authenticate to the directory.
public struct ConnectionSettings: Sendable {
    public var uris: [String]
    /// StartTLS on `ldap://` URIs (never on `ldaps://` or `ldapi://`).
    public var startTLS: Bool
    public var caFile: String?
    public var bind: LDAPBind
    public var timeout: Double

    public init(uris: [String], startTLS: Bool, caFile: String?, bind: LDAPBind, timeout: Double) {
        self.uris = uris; self.startTLS = startTLS; self.caFile = caFile; self.bind = bind; self.timeout = timeout
    }

    func needsStartTLS(_ uri: String) -> Bool {
        startTLS && uri.lowercased().hasPrefix("ldap://")
    }
}

/// One pooled directory connection: an actor whose methods run on its own dedicated thread
/// (`ThreadExecutor`), owning one `LDAPHandle`. It exists to keep every libldap call off the
/// cooperative pool and each `LDAP*` on one thread, and to (re)connect with fail-over: it
/// opens the handle lazily on the best URI (`EndpointTracker`), drops it after a timeout or a
/// lost connection, and moves back to an earlier URI once that one is due for a retry.
actor LDAPConnection {
    nonisolated let executor: ThreadExecutor
    nonisolated var unownedExecutor: UnownedSerialExecutor { executor.asUnownedSerialExecutor() }

    private let settings: ConnectionSettings
    private let tracker: EndpointTracker
    private var handle: LDAPHandle?
    private var handleIndex = 0
    /// The service account's last refused bind: repeated for `bindBackoff` seconds instead of
    /// binding again, so a wrong password file cannot lock the account out through ppolicy.
    private var bindRefused: (at: ContinuousClock.Instant, error: LDAPError)?
    private let bindBackoff: Duration = .seconds(5)

    init(name: String, settings: ConnectionSettings, tracker: EndpointTracker) {
        executor = ThreadExecutor(name: name)
        self.settings = settings
        self.tracker = tracker
    }

    /// Runs `body` with the service-bound handle, on this connection's thread. With
    /// `idempotent`, an operation that found the connection gone is retried once on a fresh
    /// connection (possibly the next URI); a write is not, because it may have been applied.
    func run<T: Sendable>(idempotent: Bool, _ body: @Sendable (LDAPHandle) throws(LDAPError) -> T) throws(LDAPError) -> T {
        try failFastIfDown()
        if handle != nil, tracker.preferred() < handleIndex { handle = nil }   // fall back to a better URI
        var retried = false
        while true {
            let h = try connected()
            do {
                return try body(h)
            } catch {
                if h.broken {
                    handle = nil
                    tracker.markDown(handleIndex, error: error.description)
                }
                if error.isConnectionLoss && idempotent && !retried {
                    retried = true
                    continue
                }
                throw error
            }
        }
    }

    /// Runs `body` on a short-lived handle bound as `bind` (a user changing their own
    /// password), on the best URI that accepts a connection. Only the user's bind fails with
    /// phase `.bind` (49: wrong password); the service account is not involved.
    func runAs<T: Sendable>(_ bind: LDAPBind, _ body: @Sendable (LDAPHandle) throws(LDAPError) -> T) throws(LDAPError) -> T {
        try failFastIfDown()
        var last: LDAPError?
        for i in tracker.order() {
            let uri = settings.uris[i]
            let h: LDAPHandle
            do {
                h = try LDAPHandle(uri: uri, caFile: settings.caFile, timeout: settings.timeout)
                if settings.needsStartTLS(uri) { try h.startTLS() }
            } catch {
                tracker.markDown(i, error: error.description)
                last = error
                continue
            }
            do {
                try h.bind(bind)
            } catch {
                if error.isConnectionLoss || error.code == LDAPCode.timeout {
                    tracker.markDown(i, error: error.description)
                    var e = error
                    e.phase = .connect
                    last = e
                    continue
                }
                throw error
            }
            return try body(h)
        }
        throw last ?? LDAPError(code: LDAPCode.connectError, message: "no URI configured", phase: .connect)
    }

    /// While every URI failed less than one timeout ago, a call that would have to connect
    /// fails at once, as unreachable (phase `.connect`: nothing was sent, so a write is not in
    /// doubt), instead of waiting out a timeout of its own: with several requests per
    /// connection (`DirectoryLane`), a frozen server would otherwise hold the last of them, and
    /// a SIGTERM waiting for them, one timeout per call ahead. A connection whose handle is
    /// still open goes on; the first call after the window tries the server again.
    private func failFastIfDown() throws(LDAPError) {
        if let handle, !handle.broken { return }
        guard let since = tracker.allDownWithin(settings.timeout) else { return }
        throw LDAPError(code: LDAPCode.serverDown,
                        message: "every directory URI failed \(String(format: "%.1f", since)) s ago; not tried again yet", phase: .connect)
    }

    /// Closes the handle and lets the thread end.
    func close() {
        handle = nil
        executor.shutdown()
    }

    private func connected() throws(LDAPError) -> LDAPHandle {
        if let handle, !handle.broken { return handle }
        handle = nil
        if let refused = bindRefused, ContinuousClock.now - refused.at < bindBackoff { throw refused.error }
        bindRefused = nil
        var last: LDAPError?
        for i in tracker.order() {
            let uri = settings.uris[i]
            do {
                let h = try LDAPHandle(uri: uri, caFile: settings.caFile, timeout: settings.timeout)
                if settings.needsStartTLS(uri) { try h.startTLS() }
                try h.bind(settings.bind)
                tracker.markUp(i)
                handle = h
                handleIndex = i
                return h
            } catch {
                var e = error
                e.uri = uri
                if e.phase == .bind && !e.isConnectionLoss && e.code != LDAPCode.timeout {
                    // The server answered: it is up, our credentials are not accepted.
                    tracker.markUp(i)
                    bindRefused = (ContinuousClock.now, e)
                    throw e
                }
                tracker.markDown(i, error: e.description)
                last = e
            }
        }
        throw last ?? LDAPError(code: LDAPCode.connectError, message: "no URI configured", phase: .connect)
    }
}
