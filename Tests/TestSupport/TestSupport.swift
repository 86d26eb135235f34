import Foundation
import WritebackCore

/// Shared helpers for the test targets: temporary directories, free ports, server harnesses.
public enum TestSupportMarker {}
