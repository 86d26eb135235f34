import Foundation
import Testing
@testable import WritebackCore

@Suite struct OutcomeTests {
    @Test(arguments: [
        (OutcomeCode.succeeded, RequestState.succeeded), (.invalidRequest, .rejected), (.expired, .rejected),
        (.passwordPolicy, .rejected), (.throttled, .rejected), (.directoryPermission, .failed),
        (.directoryUnavailable, .failed), (.directoryError, .failed),
    ])
    func codeMapsToState(code: OutcomeCode, state: RequestState) {
        #expect(code.state == state)
    }

    @Test func secretNeverPrints() {
        let s = Secret("hunter2-Secret!")
        #expect("\(s)" == "<redacted>")
        #expect(String(reflecting: s) == "<redacted>")
        #expect(s.unsafeString() == "hunter2-Secret!")
        #expect(s.count == 15)
    }

    @Test func groupDNsCompareNormalised() {
        let u = DirectoryUser(dn: "uid=a,dc=x", accountName: "a", memberOf: [DirectoryUser.normalize(dn: "CN=Admins, OU=Groups,DC=Example")])
        #expect(u.isMember(of: "cn=admins,ou=groups,dc=example"))
        #expect(!u.isMember(of: "cn=other,dc=example"))
    }
}
