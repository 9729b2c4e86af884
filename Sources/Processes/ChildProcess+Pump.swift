import CSpawn
import Foundation

extension ChildProcess {
    /// Feeds stdin and drains stdout and stderr with poll, until the child exits, the deadline
    /// passes or the output grows past the limit; then the whole process group is killed.
    struct Pump {
        let pid: pid_t
        var stdin: Int32
        var stdout: Int32
        var stderr: Int32
        let input: [UInt8]
        let deadline: Date
        let limit: Int
        var written = 0
        var out: [UInt8] = []
        var err: [UInt8] = []

        init(pid: pid_t, stdin: Int32, stdout: Int32, stderr: Int32, input: [UInt8], deadline: Date, limit: Int) {
            self.pid = pid
            self.stdin = stdin
            self.stdout = stdout
            self.stderr = stderr
            self.input = input
            self.deadline = deadline
            self.limit = limit
            for fd in [stdin, stdout, stderr] { _ = fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) | O_NONBLOCK) }
            if input.isEmpty {
                close(stdin)
                self.stdin = -1
            }
        }

        mutating func run() -> Result {
            var status: Int32 = 0
            var exited = false
            var timedOut = false
            var oversized = false
            while true {
                if cspawn_exited(pid) == 1 { exited = true }  // not reaped yet: the group id stays ours until the kill
                if exited {
                    drain()  // what the child wrote before it ended
                    break
                }
                let remaining = deadline.timeIntervalSinceNow
                if remaining <= 0 { timedOut = true; break }
                if out.count + err.count > limit { oversized = true; break }
                pollOnce(timeoutMs: Int32(min(remaining * 1000, 50)))
            }
            kill(-pid, SIGKILL)  // the group: whatever the program left behind goes too
            waitpid(pid, &status, 0)
            for fd in [stdin, stdout, stderr] where fd >= 0 { close(fd) }
            let signaled = (status & 0x7f) != 0
            return Result(pid: pid, exitCode: signaled ? nil : (status >> 8) & 0xff, signal: signaled ? status & 0x7f : nil,
                timedOut: timedOut, oversized: oversized || out.count + err.count > limit, stdout: Array(out.prefix(limit)),
                stderr: Array(err.prefix(limit)))
        }

        mutating func pollOnce(timeoutMs: Int32) {
            var fds = [stdin, stdout, stderr].map { pollfd(fd: $0, events: Int16($0 == stdin ? POLLOUT : POLLIN), revents: 0) }
            guard poll(&fds, 3, timeoutMs) > 0 else { return }
            if fds[0].revents != 0 { feed() }
            if fds[1].revents != 0 { readSome(fromStdout: true) }
            if fds[2].revents != 0 { readSome(fromStdout: false) }
        }

        mutating func feed() {
            guard stdin >= 0 else { return }
            let n = input[written...].withUnsafeBytes { write(stdin, $0.baseAddress, $0.count) }
            if n > 0 { written += n }
            if n < 0 && errno != EAGAIN && errno != EINTR { written = input.count }  // EPIPE: the child stopped reading
            if written >= input.count {
                close(stdin)
                stdin = -1
            }
        }

        mutating func readSome(fromStdout: Bool) {
            let fd = fromStdout ? stdout : stderr
            guard fd >= 0 else { return }
            var chunk = [UInt8](repeating: 0, count: 16 * 1024)
            let n = read(fd, &chunk, chunk.count)
            if n > 0 {
                if fromStdout { out += chunk[0..<n] } else { err += chunk[0..<n] }
            }
            if n == 0 || (n < 0 && errno != EAGAIN && errno != EINTR) {
                close(fd)
                if fromStdout { stdout = -1 } else { stderr = -1 }
            }
        }

        /// After exit: take what is left in the pipes without waiting for descendants.
        mutating func drain() {
            for _ in 0..<64 where (stdout >= 0 || stderr >= 0) && out.count + err.count <= limit {
                let before = out.count + err.count
                readSome(fromStdout: true)
                readSome(fromStdout: false)
                if out.count + err.count == before { break }
            }
        }
    }
}
