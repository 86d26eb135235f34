import Synchronization
import Testing
@testable import WritebackDaemon

/// The batch gate that keeps a claim's intent rows ahead of its other rows at the user locks.
@Suite struct IntentGateTests {
    final class Passed: Sendable {
        let count = Atomic<Int>(0)
    }

    @Test("waiters pass only after every intent row has arrived; extra arrivals change nothing; no intent rows: open")
    func gate() async {
        let gate = IntentGate(intentRows: 2)
        let passed = Passed()
        await withTaskGroup(of: Void.self) { group in
            for _ in 0..<3 {
                group.addTask {
                    await gate.wait()
                    passed.count.add(1, ordering: .relaxed)
                }
            }
            try? await Task.sleep(for: .milliseconds(50))
            #expect(passed.count.load(ordering: .relaxed) == 0)
            gate.arrive()
            try? await Task.sleep(for: .milliseconds(50))
            #expect(passed.count.load(ordering: .relaxed) == 0, "one of two intent rows arrived")
            gate.arrive()
            await group.waitForAll()
        }
        #expect(passed.count.load(ordering: .relaxed) == 3)
        gate.arrive()
        await gate.wait()
        await IntentGate(intentRows: 0).wait()
    }
}
