import Testing
import WritebackCore
@testable import WritebackDaemon

/// A directory's admission rules, step by step: at most `capacity` requests at once, one probe
/// at a time while it is down, every slot given back.
@Suite struct DirectoryLaneTests {
    /// Never called: admission does not touch the directory.
    struct Unused: PasswordDirectory {
        func findUser(identity: String, groupsOfInterest: [String]) async throws(DirectoryError) -> DirectoryUser { throw .notFound }
        func apply(_ write: PasswordWrite, to user: DirectoryUser) async throws(DirectoryError) { throw .notFound }
        func readBack(user: DirectoryUser, intentStamp: String?, newPassword: Secret?) async throws(DirectoryError) -> ReadbackVerdict { .notApplied }
        func health() async -> [EndpointHealth] { [] }
    }

    @Test("up: capacity slots, then busy; a slot given back is handed out again")
    func capacity() {
        let lane = DirectoryLane(name: "a", directory: Unused(), capacity: 2)
        let first = lane.admit(directoryDown: false)
        let second = lane.admit(directoryDown: false)
        #expect(first == .admitted(slot: 0, probe: false))
        #expect(second == .admitted(slot: 1, probe: false))
        #expect(lane.admit(directoryDown: false) == .busy)
        #expect(lane.inFlight == 2 && lane.refuses(directoryDown: false))
        lane.leave(first)
        #expect(!lane.refuses(directoryDown: false))
        #expect(lane.admit(directoryDown: false) == .admitted(slot: 0, probe: false))
        lane.leave(.busy)   // nothing to give back
        #expect(lane.inFlight == 2)
    }

    @Test("down: one probe at a time; the others wait; after the probe another may probe")
    func probe() {
        let lane = DirectoryLane(name: "a", directory: Unused(), capacity: 4)
        let probe = lane.admit(directoryDown: true)
        #expect(probe == .admitted(slot: 0, probe: true))
        #expect(lane.admit(directoryDown: true) == .down)
        #expect(lane.admit(directoryDown: true) == .down)
        #expect(lane.refuses(directoryDown: true) && !lane.refuses(directoryDown: false))
        lane.leave(probe)
        #expect(lane.inFlight == 0)
        #expect(lane.admit(directoryDown: true) == .admitted(slot: 0, probe: true))
        // Back up: the others go in beside the probe still running.
        #expect(lane.admit(directoryDown: false) == .admitted(slot: 1, probe: false))
    }

    @Test("a lane admits requestsPerConnection requests per connection")
    func perConnection() {
        let lane = DirectoryLane(name: "a", directory: Unused(), connections: 2)
        #expect(lane.capacity == 2 * DirectoryLane.requestsPerConnection)
        for _ in 0..<lane.capacity { #expect(lane.admit(directoryDown: false) != .busy) }
        #expect(lane.admit(directoryDown: false) == .busy)
    }

    @Test("a down lane whose slots are all taken is busy, not probed twice")
    func downAndFull() {
        let lane = DirectoryLane(name: "a", directory: Unused(), capacity: 1)
        let held = lane.admit(directoryDown: false)
        #expect(lane.admit(directoryDown: true) == .busy)
        lane.leave(held)
        #expect(lane.admit(directoryDown: true) == .admitted(slot: 0, probe: true))
    }
}
