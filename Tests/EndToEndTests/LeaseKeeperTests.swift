import Testing
@testable import WritebackDaemon

/// The lease keeper's table: which claims are due for renewal, and that ending one claim never
/// ends a later claim of the same row.
@Suite("Lease keeper")
struct LeaseKeeperTests {
    @Test("a claim is due once held long enough; ending an earlier claim of the row keeps the later one")
    func claims() {
        let keeper = LeaseKeeper()
        let first = keeper.hold("r1")
        #expect(keeper.due(olderThan: .seconds(60)).isEmpty)
        #expect(keeper.due(olderThan: .zero) == [first])
        let second = keeper.hold("r1")   // given back and claimed again before the first task ended
        keeper.drop(first)
        #expect(keeper.due(olderThan: .zero) == [second])
        let other = keeper.hold("r2")
        #expect(Set(keeper.due(olderThan: .zero)) == [second, other])
        keeper.drop(second)
        keeper.drop(other)
        #expect(keeper.due(olderThan: .zero).isEmpty)
    }
}
