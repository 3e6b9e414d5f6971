import Inspect
import ModelSources
import Synchronization
import Testing

@testable import speculators

/// The one progress renderer, fed sequences of library progress values on a clock the test
/// advances (no real time is measured).
@Suite("Progress line")
struct ProgressLineTests {
  /// A clock that moves only when told, and the text written.
  final class Terminal: Sendable {
    let base = ContinuousClock.now
    let elapsed = Mutex(Duration.zero)
    let written = Mutex("")

    func advance(_ duration: Duration) { elapsed.withLock { $0 += duration } }

    func line(isTerminal: Bool = true) -> ProgressLine {
      ProgressLine(
        isTerminal: isTerminal, now: { [self] in base + elapsed.withLock { $0 } },
        write: { [self] text in written.withLock { $0 += text } })
    }

    var text: String { written.withLock { $0 } }
  }

  @Test("the line text: percent, sizes, rate, tensors; a stage without amounts; the task escaped")
  func text() {
    let half = ProgressUpdate(task: "hashing", bytesDone: 3 << 29, bytesTotal: 3 << 30)
    #expect(ProgressLine.text(half, bytesPerSecond: 1 << 20) == "hashing  50%  1.5 GiB of 3.0 GiB  1.0 MiB/s")
    #expect(ProgressLine.text(half, bytesPerSecond: nil) == "hashing  50%  1.5 GiB of 3.0 GiB")
    let diff = ProgressUpdate(task: "diff", bytesDone: 512, bytesTotal: 2048, tensorsDone: 3, tensorsTotal: 10)
    #expect(ProgressLine.text(diff, bytesPerSecond: 512) == "diff  25%  512 B of 2.0 KiB  512 B/s  3/10 tensors")
    #expect(ProgressLine.text(ProgressUpdate(task: "x", bytesDone: 10), bytesPerSecond: nil) == "x  10 B")
    #expect(ProgressLine.text(.stage("validating"), bytesPerSecond: nil) == "validating…")
    let hostile = ProgressLine.text(.stage("reading a\u{1B}]0;title\u{07}b"), bytesPerSecond: nil)
    #expect(!hostile.contains("\u{1B}") && !hostile.contains("\u{07}"))
  }

  @Test("a sequence: nothing in the first second, throttled redraws, the rate per task, erased at the end")
  func sequence() {
    let terminal = Terminal()
    let line = terminal.line()
    line.update(ProgressUpdate(task: "writing tensors", bytesDone: 0, bytesTotal: 4 << 20))
    terminal.advance(.milliseconds(500))
    line.update(ProgressUpdate(task: "writing tensors", bytesDone: 1 << 20, bytesTotal: 4 << 20))
    #expect(terminal.text.isEmpty)  // quick work prints nothing
    terminal.advance(.milliseconds(1500))
    line.update(ProgressUpdate(task: "writing tensors", bytesDone: 2 << 20, bytesTotal: 4 << 20))
    terminal.advance(.milliseconds(50))
    line.update(ProgressUpdate(task: "writing tensors", bytesDone: 3 << 20, bytesTotal: 4 << 20))  // too soon
    terminal.advance(.seconds(1))
    line.update(.stage("hashing source files"))
    terminal.advance(.seconds(1))
    line.update(ProgressUpdate(task: "validating", bytesDone: 1 << 20, bytesTotal: 2 << 20))
    line.update(ProgressUpdate(task: "validating", bytesDone: 2 << 20, bytesTotal: 2 << 20))  // too soon
    terminal.advance(.seconds(1))
    line.update(ProgressUpdate(task: "validating", bytesDone: 2 << 20, bytesTotal: 2 << 20))
    line.finish()
    line.finish()  // erases once
    let erase = "\r\u{1B}[K"
    #expect(
      terminal.text
        == erase + "writing tensors  50%  2.0 MiB of 4.0 MiB  1.0 MiB/s"
        + erase + "hashing source files…"
        + erase + "validating  50%  1.0 MiB of 2.0 MiB"
        + erase + "validating  100%  2.0 MiB of 2.0 MiB  1.0 MiB/s"
        + erase)
  }

  @Test("not a terminal: no progress is drawn and no handler is offered; log lines still go out")
  func notATerminal() {
    let terminal = Terminal()
    let line = terminal.line(isTerminal: false)
    #expect(line.handler == nil)
    terminal.advance(.seconds(5))
    line.update(ProgressUpdate(task: "hashing", bytesDone: 1, bytesTotal: 2))
    line.report(.finished(label: "org/m: model.safetensors", bytes: 1536))
    line.finish()
    #expect(terminal.text == "downloaded org/m: model.safetensors (1.5 KiB)\n")
  }

  @Test("downloads: progress as the line, finished and retried files as lines that erase it first")
  func downloads() {
    let terminal = Terminal()
    let line = terminal.line()
    terminal.advance(.seconds(2))
    line.report(.started(label: "org/m: w", totalBytes: 4096, resumedAt: 1024))
    terminal.advance(.seconds(1))
    line.report(.progressed(ProgressUpdate(task: "org/m: w", bytesDone: 2048, bytesTotal: 4096)))
    line.report(.retrying(label: "org/m: w", bytes: 2048, reason: "reset"))
    line.report(.finished(label: "org/m: w", bytes: 4096))
    line.finish()
    let erase = "\r\u{1B}[K"
    #expect(
      terminal.text
        == erase + "org/m: w  50%  2.0 KiB of 4.0 KiB  1.0 KiB/s"
        + erase + "connection lost on org/m: w at 2.0 KiB (reset); resuming\n"
        + "downloaded org/m: w (4.0 KiB)\n")
  }
}
