import Platform

/// The tensor names a detection context sees, in sorted order and each once, stored as spans
/// of one UTF-8 buffer, with the position of each name's tensor in `Checkpoint.tensors`.
///
/// Detection scans every name several times; over `String`s each visit costs reference
/// counting and Unicode-aware tests, which dominated detection on 100,000 names. Scans here
/// run over bytes (with ``TensorNamePattern`` keeping `String` semantics), and a `String` is
/// made only for a name a rule asks for. Stripping a wrapper prefix makes no new names either:
/// the stripped view shares the buffer and only moves span starts.
///
/// Order and equality are always those of `String` (`<` and `==`): byte comparison stands in
/// for them only when every name is ASCII, where the two agree.
struct TensorNameTable: Sendable {
  /// The UTF-8 bytes of the names, back to back (shared by stripped views).
  private let storage: [UInt8]
  /// Where each name starts and ends in ``storage``, in name order.
  private let starts: [Int]
  private let ends: [Int]
  /// For each name, the position of its tensor in `Checkpoint.tensors`.
  private let positions: [Int]
  /// Whether ``storage`` is all ASCII, so byte order and equality are `String`'s.
  private let isASCII: Bool

  private init(storage: [UInt8], starts: [Int], ends: [Int], positions: [Int], isASCII: Bool) {
    self.storage = storage
    self.starts = starts
    self.ends = ends
    self.positions = positions
    self.isASCII = isASCII
  }

  /// The names of `tensors`, which are sorted by name; of equal names the first is kept.
  init(sortedTensors tensors: [TensorInfo]) {
    var storage: [UInt8] = []
    var starts: [Int] = []
    var ends: [Int] = []
    var positions: [Int] = []
    starts.reserveCapacity(tensors.count)
    ends.reserveCapacity(tensors.count)
    positions.reserveCapacity(tensors.count)
    var isASCII = true
    tensors.withUnsafeBufferPointer { tensors in
      storage.reserveCapacity(tensors.reduce(0) { $0 + $1.name.utf8.count })
      var previousIsASCII = true
      for position in tensors.indices {
        let start = storage.count
        storage.append(contentsOf: tensors[position].name.utf8)
        let (nameIsASCII, repeated) = storage.withUnsafeBufferPointer { bytes in
          let name = UnsafeBufferPointer(rebasing: bytes[start...])
          var highBits: UInt8 = 0
          for byte in name { highBits |= byte }
          let nameIsASCII = highBits < 0x80
          guard let last = starts.last else { return (nameIsASCII, false) }
          // Sorted input: a repeat can only follow its first. Differing ASCII bytes are
          // differing Strings; otherwise String equality decides.
          guard nameIsASCII && previousIsASCII else {
            return (nameIsASCII, !(tensors[positions[positions.count - 1]].name < tensors[position].name))
          }
          let previous = UnsafeBufferPointer(rebasing: bytes[last..<start])
          return (nameIsASCII, previous.count == name.count && Self.equalBytes(previous, name))
        }
        if repeated {
          storage.removeSubrange(start...)
          continue
        }
        starts.append(start)
        ends.append(storage.count)
        positions.append(position)
        previousIsASCII = nameIsASCII
        isASCII = isASCII && nameIsASCII
      }
    }
    self.init(storage: storage, starts: starts, ends: ends, positions: positions, isASCII: isASCII)
  }

  /// Whether two byte runs of equal length hold the same bytes.
  private static func equalBytes(
    _ lhs: UnsafeBufferPointer<UInt8>, _ rhs: UnsafeBufferPointer<UInt8>
  ) -> Bool {
    guard let left = lhs.baseAddress, let right = rhs.baseAddress else { return lhs.count == rhs.count }
    return memcmp(left, right, lhs.count) == 0
  }

  /// A table of `names` (any order, possibly repeated) for the tensors at `positions`. Of
  /// equal names the first spelling stays and the tensor of the last one wins, as
  /// assignments to a dictionary would decide.
  init(names: [String], positions: [Int]) {
    let ordered = names.indices.sorted { lhs, rhs in
      names[lhs] < names[rhs] || (!(names[rhs] < names[lhs]) && lhs < rhs)
    }
    var storage: [UInt8] = []
    var starts: [Int] = []
    var ends: [Int] = []
    var keptPositions: [Int] = []
    var previous: Int?
    for index in ordered {
      if let previous, !(names[previous] < names[index]) {
        keptPositions[keptPositions.count - 1] = positions[index]
        continue
      }
      previous = index
      starts.append(storage.count)
      storage.append(contentsOf: names[index].utf8)
      ends.append(storage.count)
      keptPositions.append(positions[index])
    }
    let isASCII = storage.allSatisfy { $0 < 0x80 }
    self.init(storage: storage, starts: starts, ends: ends, positions: keptPositions, isASCII: isASCII)
  }

  // MARK: Reading

  var count: Int { starts.count }
  var isEmpty: Bool { starts.isEmpty }

  /// The name at `index` as a `String`.
  subscript(index: Int) -> String {
    storage.withUnsafeBufferPointer { bytes in
      String(decoding: UnsafeBufferPointer(rebasing: bytes[starts[index]..<ends[index]]), as: UTF8.self)
    }
  }

  /// The position in `Checkpoint.tensors` of the tensor named `self[index]`.
  func position(at index: Int) -> Int { positions[index] }

  /// The index of `name`, by binary search (`String` order and equality).
  func index(of name: String) -> Int? {
    var low = 0
    var high = count
    while low < high {
      let middle = (low + high) / 2
      if self[middle] < name { low = middle + 1 } else { high = middle }
    }
    return low < count && self[low] == name ? low : nil
  }

  /// Calls `body` with the index and the UTF-8 bytes of each name, in name order.
  func forEachName(_ body: (_ index: Int, _ name: UnsafeBufferPointer<UInt8>) -> Void) {
    storage.withUnsafeBufferPointer { bytes in
      for index in starts.indices {
        body(index, UnsafeBufferPointer(rebasing: bytes[starts[index]..<ends[index]]))
      }
    }
  }

  /// The first index whose name satisfies `predicate`.
  func firstIndex(where predicate: (UnsafeBufferPointer<UInt8>) -> Bool) -> Int? {
    storage.withUnsafeBufferPointer { bytes in
      for index in starts.indices {
        if predicate(UnsafeBufferPointer(rebasing: bytes[starts[index]..<ends[index]])) { return index }
      }
      return nil
    }
  }

  /// Whether some name satisfies `predicate`.
  func contains(where predicate: (UnsafeBufferPointer<UInt8>) -> Bool) -> Bool {
    firstIndex(where: predicate) != nil
  }

  /// The names that satisfy `predicate`, in order, as `String`s.
  func names(where predicate: (UnsafeBufferPointer<UInt8>) -> Bool) -> [String] {
    var found: [Int] = []
    forEachName { index, name in
      if predicate(name) { found.append(index) }
    }
    return found.map { self[$0] }
  }

  // MARK: Views

  /// The names with the bytes of `prefix` (ASCII, ending in `.`) removed from those that
  /// start with them; the others stay as they are. `nil` when a name would become empty or
  /// two names equal.
  func strippingPrefix(_ prefix: [UInt8]) -> TensorNameTable? {
    var strippedStarts: [Int] = []
    var strippedEnds: [Int] = []
    var strippedPositions: [Int] = []
    var keptIndices: [Int] = []
    strippedStarts.reserveCapacity(count)
    strippedEnds.reserveCapacity(count)
    strippedPositions.reserveCapacity(count)
    var emptied = false
    storage.withUnsafeBufferPointer { bytes in
      for index in starts.indices {
        let start = starts[index]
        let end = ends[index]
        let hasPrefix =
          end - start >= prefix.count && prefix.indices.allSatisfy { bytes[start + $0] == prefix[$0] }
        if hasPrefix {
          if end - start == prefix.count { emptied = true }
          strippedStarts.append(start + prefix.count)
          strippedEnds.append(end)
          strippedPositions.append(positions[index])
        } else {
          keptIndices.append(index)
        }
      }
    }
    guard !emptied else { return nil }
    var stripped = TensorNameTable(
      storage: storage, starts: strippedStarts, ends: strippedEnds, positions: strippedPositions,
      isASCII: isASCII)
    // Removing a common ASCII prefix that ends in `.` keeps `String` order and equality (the
    // `.` composes with nothing), so the stripped names are still sorted and distinct; the
    // kept names are sorted too. Each kept name goes in where it belongs, unless it equals a
    // stripped one.
    guard !keptIndices.isEmpty else { return stripped }
    var mergedStarts: [Int] = []
    var mergedEnds: [Int] = []
    var mergedPositions: [Int] = []
    mergedStarts.reserveCapacity(count)
    mergedEnds.reserveCapacity(count)
    mergedPositions.reserveCapacity(count)
    var next = 0
    for kept in keptIndices {
      let slot = stripped.lowerBound(ofNameAt: kept, in: self, from: next)
      if slot < stripped.count, stripped.name(at: slot, equalsNameAt: kept, in: self) { return nil }
      mergedStarts += stripped.starts[next..<slot]
      mergedEnds += stripped.ends[next..<slot]
      mergedPositions += stripped.positions[next..<slot]
      mergedStarts.append(starts[kept])
      mergedEnds.append(ends[kept])
      mergedPositions.append(positions[kept])
      next = slot
    }
    mergedStarts += stripped.starts[next...]
    mergedEnds += stripped.ends[next...]
    mergedPositions += stripped.positions[next...]
    stripped = TensorNameTable(
      storage: storage, starts: mergedStarts, ends: mergedEnds, positions: mergedPositions, isASCII: isASCII)
    return stripped
  }

  /// The first index at or after `from` whose name is not before `other[otherIndex]`.
  private func lowerBound(ofNameAt otherIndex: Int, in other: TensorNameTable, from: Int) -> Int {
    var low = from
    var high = count
    while low < high {
      let middle = (low + high) / 2
      if name(at: middle, isBeforeNameAt: otherIndex, in: other) { low = middle + 1 } else { high = middle }
    }
    return low
  }

  /// `self[index] < other[otherIndex]`, on bytes when both tables are ASCII.
  private func name(at index: Int, isBeforeNameAt otherIndex: Int, in other: TensorNameTable) -> Bool {
    guard isASCII, other.isASCII else { return self[index] < other[otherIndex] }
    return storage.withUnsafeBufferPointer { bytes in
      other.storage.withUnsafeBufferPointer { otherBytes in
        UnsafeBufferPointer(rebasing: bytes[starts[index]..<ends[index]]).lexicographicallyPrecedes(
          UnsafeBufferPointer(rebasing: otherBytes[other.starts[otherIndex]..<other.ends[otherIndex]]))
      }
    }
  }

  /// `self[index] == other[otherIndex]`, on bytes when both tables are ASCII.
  private func name(at index: Int, equalsNameAt otherIndex: Int, in other: TensorNameTable) -> Bool {
    guard isASCII, other.isASCII else { return self[index] == other[otherIndex] }
    return storage.withUnsafeBufferPointer { bytes in
      other.storage.withUnsafeBufferPointer { otherBytes in
        UnsafeBufferPointer(rebasing: bytes[starts[index]..<ends[index]]).elementsEqual(
          UnsafeBufferPointer(rebasing: otherBytes[other.starts[otherIndex]..<other.ends[otherIndex]]))
      }
    }
  }
}
