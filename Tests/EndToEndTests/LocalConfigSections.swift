/// The sections of a test configuration that only name files under `dir` ([queue], [keys] as
/// `PEMKeys.generate(into: dir + "/keys")` writes them, [outbox], an owner-only [control]
/// socket, [state]). Exists so the doctor tests state only their [directory] section.
func localConfigSections(dir: String) -> String {
    """
    [queue]
    path = "\(dir)/queue.sqlite"

    [keys]
    producer_public_keys = ["\(dir)/keys/producer-signing.pub"]
    sealing_private_key = "\(dir)/keys/daemon-sealing.key"
    sealing_public_key = "\(dir)/keys/daemon-sealing.pub"

    [outbox]
    dir = "\(dir)/outbox"

    [control]
    socket = "\(dir)/control.sock"
    group = ""

    [state]
    path = "\(dir)/state.sqlite"
    """
}
