/// A minimal gzip writer (RFC 1952) using deflate's "stored" blocks (RFC 1951 §3.2.4).
/// Nothing is actually compressed, but the stream is valid gzip that any inflater
/// (curl, zlib, Python's gzip) decodes, and it needs no compression library.
enum Gzip {
    static func compress(_ input: [UInt8]) -> [UInt8] {
        var output: [UInt8] = [
            0x1f, 0x8b,  // magic
            0x08,  // method: deflate
            0x00,  // flags: none
            0x00, 0x00, 0x00, 0x00,  // mtime: unknown
            0x00,  // extra flags
            0x03,  // OS: Unix
        ]
        let maxBlock = 65_535
        var start = 0
        repeat {
            let end = min(start + maxBlock, input.count)
            let length = UInt16(end - start)
            output.append(end == input.count ? 0x01 : 0x00)  // BFINAL bit, BTYPE 00 (stored)
            appendLittleEndian(UInt32(length), bytes: 2, to: &output)
            appendLittleEndian(UInt32(~length), bytes: 2, to: &output)
            output.append(contentsOf: input[start..<end])
            start = end
        } while start < input.count
        appendLittleEndian(crc32(input), bytes: 4, to: &output)
        appendLittleEndian(UInt32(truncatingIfNeeded: input.count), bytes: 4, to: &output)
        return output
    }

    private static func appendLittleEndian(_ value: UInt32, bytes: Int, to output: inout [UInt8]) {
        for index in 0..<bytes { output.append(UInt8(truncatingIfNeeded: value >> (8 * index))) }
    }

    private static let crcTable: [UInt32] = (0..<256).map { index in
        var crc = UInt32(index)
        for _ in 0..<8 { crc = crc & 1 == 1 ? 0xEDB8_8320 ^ (crc >> 1) : crc >> 1 }
        return crc
    }

    /// CRC-32 as gzip defines it (reflected, polynomial 0xEDB88320).
    static func crc32(_ bytes: [UInt8]) -> UInt32 {
        var crc: UInt32 = 0xFFFF_FFFF
        for byte in bytes { crc = crcTable[Int((crc ^ UInt32(byte)) & 0xFF)] ^ (crc >> 8) }
        return ~crc
    }
}
