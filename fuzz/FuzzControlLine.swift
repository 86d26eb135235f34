// libFuzzer entry point for the control socket's line decoder (`make fuzz`, scripts/fuzz.sh).
// Compiled with the sources of WritebackCore and ControlSocket as one instrumented module
// (-sanitize=fuzzer,address). The input is fed to LineFrameDecoder in the pieces a client
// might send (input byte 0 sets the piece size), through NIO's EmbeddedChannel as the server
// installs it; every line that comes out is decoded as a ControlRequest, as the server does.
// Holds: no line is longer than the limit, none contains a newline, and a stream with no
// over-long line gives back exactly its lines.
import Foundation
import NIOCore
import NIOEmbedded

let fuzzMaxLine = 256

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzOne(_ data: UnsafePointer<UInt8>, _ size: Int) -> Int32 {
    guard size > 0 else { return 0 }
    let piece = Int(data[0] % 64) + 1
    let stream = Array(UnsafeBufferPointer(start: data + 1, count: size - 1))
    let channel = EmbeddedChannel()
    defer { _ = try? channel.finish() }
    do {
        try channel.pipeline.syncOperations.addHandler(ByteToMessageHandler(LineFrameDecoder(maxLength: fuzzMaxLine)))
    } catch {
        fatalError("pipeline: \(error)")
    }
    var failed = false
    var offset = 0
    while offset < stream.count && !failed {
        let end = min(stream.count, offset + piece)
        var buffer = channel.allocator.buffer(capacity: end - offset)
        buffer.writeBytes(stream[offset..<end])
        do { try channel.writeInbound(buffer) } catch { failed = true }
        offset = end
    }
    if !failed { do { _ = try channel.finish(acceptAlreadyClosed: true) } catch { failed = true } }
    var lines: [[UInt8]] = []
    while let line = try? channel.readInbound(as: ByteBuffer.self) {
        let bytes = Array(line.readableBytesView)
        precondition(bytes.count <= fuzzMaxLine, "a line longer than the limit came out")
        precondition(!bytes.contains(UInt8(ascii: "\n")), "a line holds a newline")
        lines.append(bytes)
        _ = try? JSONDecoder().decode(ControlRequest.self, from: Data(bytes))
    }
    // Without an over-long line, the lines are exactly the stream split at newlines: one
    // trailing \r dropped from each terminated line, a last unterminated line kept as it is.
    var pieces = stream.split(separator: UInt8(ascii: "\n"), omittingEmptySubsequences: false).map { Array($0) }
    let last = pieces.removeLast()   // after the final newline: the unterminated rest
    let tooLong = pieces.contains { $0.count > fuzzMaxLine } || last.count > fuzzMaxLine
    var expected = pieces.map { $0.last == UInt8(ascii: "\r") ? Array($0.dropLast()) : $0 }
    if !last.isEmpty { expected.append(last) }
    if !tooLong && !failed {
        precondition(lines == expected, "lines \(lines.count) differ from the stream's \(expected.count)")
    }
    return 0
}
