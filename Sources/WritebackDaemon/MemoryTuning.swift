#if canImport(Glibc)
import Glibc
#endif

/// glibc malloc settings that keep the daemon's resident memory small and flat: at most two
/// malloc arenas (glibc otherwise makes one per thread that ever allocates, and the LDAP
/// connection threads, NIO threads and hash threads add up), and a fixed mmap threshold, so
/// each 32 MiB scrypt work area of the history check is mapped and returned to the kernel
/// instead of staying in the heap (glibc's dynamic threshold would grow to swallow it).
/// `mallopt` is not in Swift's Glibc module, so it is looked up at run time.
public enum MemoryTuning {
    public static func apply() {
        #if canImport(Glibc)
        typealias Mallopt = @convention(c) (Int32, Int32) -> Int32
        guard let symbol = dlsym(UnsafeMutableRawPointer(bitPattern: 0), "mallopt") else { return }
        let mallopt = unsafeBitCast(symbol, to: Mallopt.self)
        let M_ARENA_MAX: Int32 = -8, M_MMAP_THRESHOLD: Int32 = -3
        _ = mallopt(M_ARENA_MAX, 2)
        _ = mallopt(M_MMAP_THRESHOLD, 1 << 20)
        #endif
    }
}
