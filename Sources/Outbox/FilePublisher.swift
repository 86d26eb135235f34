import Dispatch
import Foundation
import Synchronization

/// Publishes a batch of message files several at a time.
///
/// Each message is fsynced before its rename, and one thread doing that for a whole batch was
/// the drain's limit (`make bench`: 0.7–1.4 ms per message, one after another). A disk takes
/// several syncs at once: on the bench host 5,000 files took 220–510 µs each on one thread and
/// 85–110 µs each on four to eight. So a batch is spread over a few dedicated serial queues
/// (never the cooperative pool: these calls block), and the caller waits for all of them.
struct FilePublisher: Sendable {
    /// How many files are written at once. Past 4 the bench host gained little.
    static let width = 4

    private let queues: [DispatchQueue]

    init(label: String, width: Int = FilePublisher.width) {
        queues = (0..<max(1, width)).map { DispatchQueue(label: "\(label).\($0)") }
    }

    /// Runs `publish` for every element of `items`, up to `width` at a time, and returns the
    /// results in the order of `items`. Blocks the calling thread until all are done.
    func publishAll<Item: Sendable, Value: Sendable>(
        _ items: [Item], _ publish: @escaping @Sendable (Item) -> Result<Value, OutboxError>
    ) -> [Result<Value, OutboxError>] {
        guard items.count > 1 else { return items.map(publish) }
        let results = ResultSlots<Value>(count: items.count)
        let group = DispatchGroup()
        for (index, item) in items.enumerated() {
            queues[index % queues.count].async(group: group) { results.set(index, publish(item)) }
        }
        group.wait()
        return results.values
    }
}

/// The results of one `publishAll`, filled from several queues; each index by exactly one job,
/// read after `DispatchGroup.wait()`.
private final class ResultSlots<Value: Sendable>: Sendable {
    private let slots: Mutex<[Result<Value, OutboxError>?]>

    init(count: Int) { slots = Mutex(Array(repeating: nil, count: count)) }

    func set(_ index: Int, _ result: Result<Value, OutboxError>) {
        slots.withLock { $0[index] = result }
    }

    var values: [Result<Value, OutboxError>] {
        slots.withLock { $0.map { $0! } }
    }
}
