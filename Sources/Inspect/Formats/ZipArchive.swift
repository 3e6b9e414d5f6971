/// The entries of a zip archive whose entries are all STORED (uncompressed), read from the
/// central directory and checked against each local header.
///
/// This is the container half of reading a `torch.save` file. Parsing starts at the end (the
/// end-of-central-directory record, then the ZIP64 locator and ZIP64 end record when present),
/// walks the central directory with an entry cap, and reads every local header to find where
/// the entry's bytes start (`30 + name length + extra length` after the header). It refuses
/// anything `torch.save` never writes and that a safe reader should not accept:
///
/// - compressed entries (a deflated record is a zip bomb or not from `torch.save`), encryption;
/// - a local header whose name or method disagrees with the central directory;
/// - unsafe names (absolute, `..`, backslashes, empty components, control characters) and
///   duplicate names;
/// - entries whose bytes lie outside the file, overlap another entry, or reach into the central
///   directory; a central directory that does not end where the end records begin;
/// - a CRC-32 mismatch for entries up to ``Limits/checksumSizeLimit`` bytes (larger entries are
///   checked only on request with ``verifyChecksum(of:)``, so opening stays header-only);
///   a stored CRC of zero means the writer disabled CRCs and is accepted.
///
/// All sizes and offsets are 64-bit in the file and are converted and added with overflow checks.
package struct ZipArchive: Sendable {
  /// One entry of the archive.
  package struct Entry: Sendable, Hashable {
    /// The entry's name, as stored (UTF-8).
    package var name: String
    /// Absolute offset of the entry's local header.
    package var localHeaderOffset: Int
    /// Absolute offset of the entry's first data byte.
    package var dataOffset: Int
    /// The entry's size in bytes (stored, so compressed and uncompressed sizes agree).
    package var size: Int
    /// The CRC-32 recorded in the central directory (0 when the writer disabled CRCs).
    package var crc32: UInt32

    /// Absolute offset just past the entry's last data byte.
    package var dataEnd: Int { dataOffset + size }
  }

  /// Caps on what an archive may declare.
  package struct Limits: Sendable {
    /// The largest number of entries accepted.
    package var maxEntries: Int = 1 << 20
    /// Entries up to this many bytes have their CRC-32 checked when the archive is opened.
    package var checksumSizeLimit: Int = 1 << 20

    /// The default limits.
    package init() {}
  }

  /// The mapped archive.
  package let file: MappedFile
  /// The entries in central-directory order.
  package let entries: [Entry]
  /// Absolute offset of the central directory (every entry's bytes end before it).
  package let centralDirectoryOffset: Int

  private let indexByName: [String: Int]

  private static let localHeaderSignature: UInt32 = 0x0403_4B50
  private static let centralHeaderSignature: UInt32 = 0x0201_4B50
  private static let endSignature: UInt32 = 0x0605_4B50
  private static let zip64EndSignature: UInt32 = 0x0606_4B50
  private static let zip64LocatorSignature: UInt32 = 0x0706_4B50

  /// Reads and checks the archive's directory. No entry data is read except to verify the
  /// CRC-32 of small entries.
  ///
  /// - Throws: ``CheckpointError`` of kind `.malformed` for a broken or inconsistent archive,
  ///   `.refused` for compressed or encrypted entries, `.limitExceeded` for too many entries.
  package init(_ file: MappedFile, limits: Limits = Limits()) throws(CheckpointError) {
    self.file = file
    let reader = ByteReader(file.bytes, file: file.path)
    let directory = try Self.readEndRecords(reader)
    guard directory.entryCount <= limits.maxEntries else {
      throw CheckpointError(
        .limitExceeded, file: file.path, offset: UInt64(directory.endRecordsOffset),
        reason: "zip declares \(directory.entryCount) entries; the limit is \(limits.maxEntries)")
    }
    var entries = [Entry]()
    entries.reserveCapacity(directory.entryCount)
    var seen = [String: Int]()
    var position = directory.offset
    for _ in 0..<directory.entryCount {
      let central = try Self.readCentralHeader(reader, at: &position, directoryEnd: directory.end)
      guard seen[central.name] == nil else {
        throw CheckpointError(
          .malformed, file: file.path, offset: UInt64(central.headerOffset),
          reason: "zip entry '\(central.name)' appears twice")
      }
      let entry = try Self.readLocalHeader(reader, for: central, directoryOffset: directory.offset)
      seen[central.name] = entries.count
      entries.append(entry)
    }
    guard position == directory.end else {
      throw CheckpointError(
        .malformed, file: file.path, offset: UInt64(position),
        reason: "central directory holds \(directory.end - position) bytes after its "
          + "\(directory.entryCount) declared entries")
    }
    try Self.checkNoOverlap(entries, file: file.path)
    self.entries = entries
    self.indexByName = seen
    self.centralDirectoryOffset = directory.offset
    for entry in entries where entry.size <= limits.checksumSizeLimit {
      try verifyChecksum(of: entry)
    }
  }

  /// The entry named `name`, if present.
  package func entry(named name: String) -> Entry? {
    indexByName[name].map { entries[$0] }
  }

  /// The bytes of `entry` (a view into the mapping; valid while ``file`` is alive).
  package func data(of entry: Entry) -> UnsafeRawBufferPointer {
    UnsafeRawBufferPointer(rebasing: file.bytes[entry.dataOffset..<entry.dataEnd])
  }

  /// Checks `entry`'s bytes against its recorded CRC-32. A recorded CRC of zero is accepted
  /// without reading (the writer disabled CRCs, as `torch.serialization.set_crc32_options(False)`
  /// does).
  package func verifyChecksum(of entry: Entry) throws(CheckpointError) {
    guard entry.crc32 != 0 else { return }
    let actual = ZipCRC32.checksum(data(of: entry))
    guard actual == entry.crc32 else {
      throw CheckpointError(
        .malformed, file: file.path, offset: UInt64(entry.dataOffset),
        reason: "zip entry '\(entry.name)' fails its CRC-32 check (recorded "
          + "\(Self.hex32(entry.crc32)), computed \(Self.hex32(actual)))")
    }
  }

  // MARK: - End records

  private struct Directory {
    var offset: Int
    var end: Int
    var entryCount: Int
    /// Where the ZIP64 end record (or, without one, the classic end record) starts.
    var endRecordsOffset: Int
  }

  private static func readEndRecords(_ reader: ByteReader) throws(CheckpointError) -> Directory {
    let count = reader.bytes.count
    guard count >= 22 else {
      throw reader.error(at: 0, "file is too small to be a zip archive (\(count) bytes)")
    }
    // The classic end record is 22 bytes plus a comment of up to 65535 bytes, and must end
    // exactly at the end of the file.
    var endOffset: Int?
    var candidate = count - 22
    let lowest = max(0, count - 22 - 65_535)
    while candidate >= lowest {
      if try reader.littleEndian(UInt32.self, at: candidate) == endSignature {
        let commentLength = Int(try reader.littleEndian(UInt16.self, at: candidate + 20))
        if candidate + 22 + commentLength == count {
          endOffset = candidate
          break
        }
      }
      candidate -= 1
    }
    guard let endOffset else {
      throw reader.error(
        at: count, "no zip end-of-central-directory record (truncated file or not a zip archive)")
    }
    let disk = try reader.littleEndian(UInt16.self, at: endOffset + 4)
    let directoryDisk = try reader.littleEndian(UInt16.self, at: endOffset + 6)
    let entriesOnDisk = try reader.littleEndian(UInt16.self, at: endOffset + 8)
    let entriesTotal = try reader.littleEndian(UInt16.self, at: endOffset + 10)
    let directorySize = try reader.littleEndian(UInt32.self, at: endOffset + 12)
    let directoryOffset = try reader.littleEndian(UInt32.self, at: endOffset + 16)

    var entryCount = UInt64(entriesTotal)
    var size = UInt64(directorySize)
    var offset = UInt64(directoryOffset)
    var recordsStart = endOffset
    let locatorOffset = endOffset - 20
    if locatorOffset >= 0,
      try reader.littleEndian(UInt32.self, at: locatorOffset) == zip64LocatorSignature
    {
      let zip64Disk = try reader.littleEndian(UInt32.self, at: locatorOffset + 4)
      let zip64Offset = try reader.littleEndian(UInt64.self, at: locatorOffset + 8)
      guard zip64Disk == 0 else {
        throw reader.error(at: locatorOffset, "multi-disk zip archives are not supported")
      }
      guard zip64Offset <= UInt64(locatorOffset), UInt64(locatorOffset) - zip64Offset >= 56 else {
        throw reader.error(
          at: locatorOffset, "ZIP64 locator points to offset \(zip64Offset), outside the archive")
      }
      let start = Int(zip64Offset)
      guard try reader.littleEndian(UInt32.self, at: start) == zip64EndSignature else {
        throw reader.error(at: start, "no ZIP64 end-of-central-directory record where the locator points")
      }
      let recordSize = try reader.littleEndian(UInt64.self, at: start + 4)
      guard recordSize >= 44, recordSize == UInt64(locatorOffset - start - 12) else {
        throw reader.error(
          at: start, "ZIP64 end record declares \(recordSize) bytes but \(locatorOffset - start - 12) "
            + "lie before its locator")
      }
      let zip64Disk1 = try reader.littleEndian(UInt32.self, at: start + 16)
      let zip64Disk2 = try reader.littleEndian(UInt32.self, at: start + 20)
      let zip64OnDisk = try reader.littleEndian(UInt64.self, at: start + 24)
      let zip64Total = try reader.littleEndian(UInt64.self, at: start + 32)
      let zip64Size = try reader.littleEndian(UInt64.self, at: start + 40)
      let zip64DirectoryOffset = try reader.littleEndian(UInt64.self, at: start + 48)
      guard zip64Disk1 == 0, zip64Disk2 == 0, zip64OnDisk == zip64Total else {
        throw reader.error(at: start, "multi-disk zip archives are not supported")
      }
      // Classic fields either hold the same value or the ZIP64 sentinel.
      guard entriesTotal == 0xFFFF || UInt64(entriesTotal) == zip64Total,
        directorySize == 0xFFFF_FFFF || UInt64(directorySize) == zip64Size,
        directoryOffset == 0xFFFF_FFFF || UInt64(directoryOffset) == zip64DirectoryOffset
      else {
        throw reader.error(at: endOffset, "zip end record disagrees with the ZIP64 end record")
      }
      entryCount = zip64Total
      size = zip64Size
      offset = zip64DirectoryOffset
      recordsStart = start
    } else {
      guard disk == 0, directoryDisk == 0, entriesOnDisk == entriesTotal else {
        throw reader.error(at: endOffset, "multi-disk zip archives are not supported")
      }
    }
    guard offset <= UInt64(count), size <= UInt64(count) - offset else {
      throw reader.error(
        at: endOffset, "central directory (offset \(offset), \(size) bytes) lies outside the file "
          + "(\(count) bytes)")
    }
    let directoryEnd = Int(offset) + Int(size)
    guard directoryEnd == recordsStart else {
      throw reader.error(
        at: Int(offset), "central directory ends at offset \(directoryEnd) but the end records "
          + "start at \(recordsStart)")
    }
    guard entryCount <= UInt64(Int.max / 46), UInt64(entryCount) * 46 <= size else {
      throw reader.error(
        at: Int(offset), "zip declares \(entryCount) entries but its central directory has only "
          + "\(size) bytes")
    }
    return Directory(offset: Int(offset), end: directoryEnd, entryCount: Int(entryCount),
      endRecordsOffset: recordsStart)
  }

  // MARK: - Headers

  private struct CentralHeader {
    var headerOffset: Int
    var name: String
    var nameBytes: UnsafeRawBufferPointer
    var flags: UInt16
    var method: UInt16
    var crc32: UInt32
    var size: Int
    var localHeaderOffset: Int
  }

  private static func readCentralHeader(
    _ reader: ByteReader, at position: inout Int, directoryEnd: Int
  ) throws(CheckpointError) -> CentralHeader {
    let start = position
    guard directoryEnd - start >= 46 else {
      throw reader.error(at: start, "central directory ends in the middle of an entry header")
    }
    guard try reader.littleEndian(UInt32.self, at: start) == centralHeaderSignature else {
      throw reader.error(at: start, "expected a central directory entry header")
    }
    let flags = try reader.littleEndian(UInt16.self, at: start + 8)
    let method = try reader.littleEndian(UInt16.self, at: start + 10)
    let crc = try reader.littleEndian(UInt32.self, at: start + 16)
    let compressed32 = try reader.littleEndian(UInt32.self, at: start + 20)
    let uncompressed32 = try reader.littleEndian(UInt32.self, at: start + 24)
    let nameLength = Int(try reader.littleEndian(UInt16.self, at: start + 28))
    let extraLength = Int(try reader.littleEndian(UInt16.self, at: start + 30))
    let commentLength = Int(try reader.littleEndian(UInt16.self, at: start + 32))
    let diskStart16 = try reader.littleEndian(UInt16.self, at: start + 34)
    let localOffset32 = try reader.littleEndian(UInt32.self, at: start + 42)
    let total = 46 + nameLength + extraLength + commentLength
    guard directoryEnd - start >= total else {
      throw reader.error(at: start, "central directory entry runs past the end of the directory")
    }
    let nameBytes = try reader.slice(at: start + 46, count: nameLength, what: "entry name")
    let name = try checkedName(nameBytes, reader: reader, at: start + 46)
    guard flags & 0x2041 == 0 else {
      throw CheckpointError(
        .refused, file: reader.file, offset: UInt64(start),
        reason: "zip entry '\(name)' is encrypted; encrypted archives are not supported")
    }
    guard method == 0 else {
      throw CheckpointError(
        .refused, file: reader.file, offset: UInt64(start),
        reason: "zip entry '\(name)' is compressed (method \(method)); torch.save never compresses")
    }

    // ZIP64 extra field: 64-bit values for exactly those fields that hold the sentinel.
    var uncompressed = UInt64(uncompressed32)
    var compressed = UInt64(compressed32)
    var localOffset = UInt64(localOffset32)
    var diskStart = UInt32(diskStart16)
    var extra = ByteReader(
      try reader.slice(at: start + 46 + nameLength, count: extraLength, what: "extra field"),
      file: reader.file, baseOffset: UInt64(start + 46 + nameLength))
    var sawZip64 = false
    while extra.remaining > 0 {
      let id = try extra.readLittleEndian(UInt16.self, what: "extra field id")
      let length = Int(try extra.readLittleEndian(UInt16.self, what: "extra field length"))
      var field = ByteReader(
        try extra.readSlice(length, what: "extra field"), file: reader.file,
        baseOffset: extra.baseOffset + UInt64(extra.position - length))
      guard id == 0x0001 else { continue }
      guard !sawZip64 else {
        throw reader.error(at: start, "zip entry '\(name)' has two ZIP64 extra fields")
      }
      sawZip64 = true
      if uncompressed32 == 0xFFFF_FFFF {
        uncompressed = try field.readLittleEndian(UInt64.self, what: "ZIP64 uncompressed size")
      }
      if compressed32 == 0xFFFF_FFFF {
        compressed = try field.readLittleEndian(UInt64.self, what: "ZIP64 compressed size")
      }
      if localOffset32 == 0xFFFF_FFFF {
        localOffset = try field.readLittleEndian(UInt64.self, what: "ZIP64 local header offset")
      }
      if diskStart16 == 0xFFFF {
        diskStart = try field.readLittleEndian(UInt32.self, what: "ZIP64 disk number")
      }
    }
    guard diskStart == 0 else {
      throw reader.error(at: start, "zip entry '\(name)' starts on another disk")
    }
    guard compressed == uncompressed else {
      throw reader.error(
        at: start, "stored zip entry '\(name)' has compressed size \(compressed) but "
          + "uncompressed size \(uncompressed)")
    }
    let fileSize = UInt64(reader.bytes.count)
    guard uncompressed <= fileSize, localOffset <= fileSize else {
      throw reader.error(
        at: start, "zip entry '\(name)' (offset \(localOffset), \(uncompressed) bytes) lies "
          + "outside the file")
    }
    position = start + total
    return CentralHeader(
      headerOffset: start, name: name, nameBytes: nameBytes, flags: flags, method: method, crc32: crc,
      size: Int(uncompressed), localHeaderOffset: Int(localOffset))
  }

  private static func readLocalHeader(
    _ reader: ByteReader, for central: CentralHeader, directoryOffset: Int
  ) throws(CheckpointError) -> Entry {
    let start = central.localHeaderOffset
    let name = central.name
    guard start <= directoryOffset, directoryOffset - start >= 30 else {
      throw reader.error(
        at: start, "local header of zip entry '\(name)' is not before the central directory")
    }
    guard try reader.littleEndian(UInt32.self, at: start) == localHeaderSignature else {
      throw reader.error(at: start, "no local header for zip entry '\(name)' at offset \(start)")
    }
    let flags = try reader.littleEndian(UInt16.self, at: start + 6)
    let method = try reader.littleEndian(UInt16.self, at: start + 8)
    let crc = try reader.littleEndian(UInt32.self, at: start + 14)
    let compressed = try reader.littleEndian(UInt32.self, at: start + 18)
    let uncompressed = try reader.littleEndian(UInt32.self, at: start + 22)
    let nameLength = Int(try reader.littleEndian(UInt16.self, at: start + 26))
    let extraLength = Int(try reader.littleEndian(UInt16.self, at: start + 28))
    guard flags & 0x2041 == 0 else {
      throw CheckpointError(
        .refused, file: reader.file, offset: UInt64(start),
        reason: "zip entry '\(name)' is encrypted; encrypted archives are not supported")
    }
    guard method == central.method else {
      throw CheckpointError(
        .malformed, file: reader.file, offset: UInt64(start),
        reason: "zip entry '\(name)': local header says method \(method), central directory says "
          + "\(central.method)")
    }
    let headerEnd = start + 30 + nameLength + extraLength
    guard headerEnd <= directoryOffset else {
      throw reader.error(at: start, "local header of zip entry '\(name)' runs into the central directory")
    }
    let localName = try reader.slice(at: start + 30, count: nameLength, what: "local entry name")
    guard localName.elementsEqual(central.nameBytes) else {
      throw reader.error(
        at: start + 30, "local header names '\(printable(String(decoding: localName, as: UTF8.self)))' but the "
          + "central directory names '\(name)'")
    }
    // Without a data descriptor (flag bit 3) the local header carries the real CRC and sizes.
    if flags & 0x0008 == 0 {
      let sizesAgree =
        (compressed == 0xFFFF_FFFF && uncompressed == 0xFFFF_FFFF)
        || (UInt64(compressed) == UInt64(central.size) && UInt64(uncompressed) == UInt64(central.size))
      guard sizesAgree, crc == central.crc32 else {
        throw reader.error(
          at: start, "local header of zip entry '\(name)' disagrees with the central directory "
            + "on size or CRC")
      }
    }
    guard central.size <= directoryOffset - headerEnd else {
      throw reader.error(
        at: headerEnd, "data of zip entry '\(name)' (\(central.size) bytes at offset \(headerEnd)) "
          + "runs into the central directory at offset \(directoryOffset)")
    }
    return Entry(
      name: name, localHeaderOffset: start, dataOffset: headerEnd, size: central.size,
      crc32: central.crc32)
  }

  private static func checkNoOverlap(_ entries: [Entry], file: String) throws(CheckpointError) {
    let ordered = entries.sorted { $0.localHeaderOffset < $1.localHeaderOffset }
    for (previous, next) in zip(ordered, ordered.dropFirst()) where previous.dataEnd > next.localHeaderOffset {
      throw CheckpointError(
        .malformed, file: file, offset: UInt64(next.localHeaderOffset),
        reason: "zip entries '\(previous.name)' and '\(next.name)' overlap")
    }
  }

  // MARK: - Names

  private static func checkedName(
    _ bytes: UnsafeRawBufferPointer, reader: ByteReader, at offset: Int
  ) throws(CheckpointError) -> String {
    guard let name = String(validating: bytes, as: UTF8.self) else {
      throw reader.error(at: offset, "zip entry name is not valid UTF-8")
    }
    let shown = printable(name)
    guard !name.isEmpty else { throw reader.error(at: offset, "zip entry has an empty name") }
    guard !name.unicodeScalars.contains(where: { $0.value < 0x20 || $0.value == 0x7F }) else {
      throw reader.error(at: offset, "zip entry name '\(shown)' contains control characters")
    }
    guard !name.contains("\\") else {
      throw reader.error(at: offset, "zip entry name '\(shown)' contains a backslash")
    }
    guard !name.hasPrefix("/") else {
      throw reader.error(at: offset, "zip entry name '\(shown)' is an absolute path")
    }
    for component in name.split(separator: "/", omittingEmptySubsequences: false) {
      guard component != "..", component != "." else {
        throw reader.error(at: offset, "zip entry name '\(shown)' contains a '\(component)' component")
      }
      guard !component.isEmpty else {
        throw reader.error(at: offset, "zip entry name '\(shown)' has an empty path component")
      }
    }
    return name
  }

  /// `name` with control characters escaped, for messages.
  static func printable(_ name: String) -> String {
    var out = ""
    for scalar in name.unicodeScalars {
      if scalar.value < 0x20 || scalar.value == 0x7F {
        out += "\\x" + String(scalar.value, radix: 16, uppercase: false).leftPadded(to: 2)
      } else {
        out.unicodeScalars.append(scalar)
      }
    }
    return out
  }

  private static func hex32(_ value: UInt32) -> String {
    "0x" + String(value, radix: 16, uppercase: false).leftPadded(to: 8)
  }
}

extension String {
  /// The string left-padded with zeros to `width` characters.
  fileprivate func leftPadded(to width: Int) -> String {
    count >= width ? self : String(repeating: "0", count: width - count) + self
  }
}
