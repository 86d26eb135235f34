import Foundation

extension Duration {
    /// The duration in seconds, for `Date` arithmetic and metrics (which take `TimeInterval`).
    public var timeInterval: TimeInterval { Double(components.seconds) + Double(components.attoseconds) / 1e18 }
}
