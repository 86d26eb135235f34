import Logging
import NIOCore
import NIOHTTP1
import NIOPosix
import ServiceLifecycle

/// `[control] metrics_listen`: the Prometheus text that `writebackctl metrics` prints, also
/// served over HTTP for a scraper on the same host. `GET /metrics` answers 200 with the
/// exposition; other paths 404 and other methods 405. It is unauthenticated, like any exporter,
/// which is why the configuration accepts loopback addresses only. A `Service`: it closes its
/// listening socket on graceful shutdown.
final class MetricsHTTPService: Service, Sendable {
    private let channel: any Channel
    private let logger: Logger

    init(host: String, port: Int, metrics: DaemonMetrics, logger: Logger) async throws {
        let bootstrap = ServerBootstrap(group: MultiThreadedEventLoopGroup.singleton)
            .serverChannelOption(.backlog, value: 16)
            .serverChannelOption(.socketOption(.so_reuseaddr), value: 1)
            .childChannelInitializer { channel in
                // On the channel's event loop: the handler is made and added there, never shared.
                channel.eventLoop.makeCompletedFuture {
                    try channel.pipeline.syncOperations.configureHTTPServerPipeline(withErrorHandling: true)
                    try channel.pipeline.syncOperations.addHandler(MetricsHTTPHandler(metrics: metrics))
                }
            }
        channel = try await bootstrap.bind(host: host, port: port).get()
        self.logger = logger
        logger.info("metrics served over HTTP", metadata: ["listen": "\(host):\(port)", "path": "/metrics"])
    }

    func run() async throws {
        await withGracefulShutdownHandler {
            try? await channel.closeFuture.get()
        } onGracefulShutdown: {
            self.channel.close(promise: nil)
        }
    }
}

/// One HTTP/1.1 exchange at a time per connection: remembers the request head, answers at its end.
private final class MetricsHTTPHandler: ChannelInboundHandler {
    typealias InboundIn = HTTPServerRequestPart
    typealias OutboundOut = HTTPServerResponsePart

    private let metrics: DaemonMetrics
    private var head: HTTPRequestHead?

    init(metrics: DaemonMetrics) { self.metrics = metrics }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        switch unwrapInboundIn(data) {
        case .head(let h): head = h
        case .body: break
        case .end:
            guard let h = head else { return }
            head = nil
            let path = h.uri.split(separator: "?", maxSplits: 1).first.map(String.init) ?? h.uri
            let (status, body, type): (HTTPResponseStatus, String, String)
            if h.method != .GET && h.method != .HEAD {
                (status, body, type) = (.methodNotAllowed, "only GET\n", "text/plain; charset=utf-8")
            } else if path == "/metrics" {
                (status, body, type) = (.ok, metrics.exposition(), "text/plain; version=0.0.4; charset=utf-8")
            } else {
                (status, body, type) = (.notFound, "not found: try /metrics\n", "text/plain; charset=utf-8")
            }
            var headers = HTTPHeaders()
            headers.add(name: "Content-Type", value: type)
            headers.add(name: "Content-Length", value: String(body.utf8.count))
            if !h.isKeepAlive { headers.add(name: "Connection", value: "close") }
            context.write(wrapOutboundOut(.head(HTTPResponseHead(version: h.version, status: status, headers: headers))), promise: nil)
            if h.method != .HEAD {
                context.write(wrapOutboundOut(.body(.byteBuffer(context.channel.allocator.buffer(string: body)))), promise: nil)
            }
            let keepAlive = h.isKeepAlive, channel = context.channel
            context.writeAndFlush(wrapOutboundOut(.end(nil))).whenComplete { _ in
                if !keepAlive { channel.close(promise: nil) }
            }
        }
    }
}
