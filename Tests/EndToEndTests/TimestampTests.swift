import Foundation
import Testing
import WritebackDaemon

/// The daemon's timestamps: milliseconds everywhere, microseconds for the audit line's
/// `written_at` (a pick-up of a few milliseconds is measured against it).
@Suite struct TimestampTests {
    @Test("microseconds: six digits, zero-padded, to the nearest microsecond", arguments: [
        (1_764_786_279.534_123, "2025-12-03T18:24:39.534123Z"),
        (1_764_786_279.000_004, "2025-12-03T18:24:39.000004Z"),
        (1_764_786_279.999_999_9, "2025-12-03T18:24:40.000000Z"),
        (1_764_786_279.999_999, "2025-12-03T18:24:39.999999Z"),
        (-0.25, "1969-12-31T23:59:59.750000Z"),
        (0.0, "1970-01-01T00:00:00.000000Z"),
    ])
    func microseconds(seconds: Double, expected: String) {
        #expect(Timestamp.formatMicroseconds(Date(timeIntervalSince1970: seconds)) == expected)
    }
}
