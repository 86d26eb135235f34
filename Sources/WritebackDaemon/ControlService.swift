import ControlSocket
import ServiceLifecycle

/// Runs the bound control socket as a service. It is the last service to stop, after the
/// worker has drained, so `status` answers `draining` while in-flight requests finish.
struct ControlService: Service {
    let server: ControlServer

    func run() async throws {
        do {
            try await cancelWhenGracefulShutdown { try await server.run() }
        } catch is CancellationError {
            // Graceful shutdown ends the accept loop by cancelling it: a normal stop.
        }
    }
}
