import CMembrane
import Membrane

/// Filling the caller's `membrane_error`, and turning errors into return codes.
enum ErrorReporting {
    /// Reports `error` through `err` (which may be NULL) and returns its code.
    static func fail(_ error: MembraneError, _ err: UnsafeMutablePointer<membrane_error>?) -> Int32 {
        if let err {
            err.pointee.code = error.code.rawValue
            err.pointee.http_status = Int32(clamping: error.httpStatus)
            copy(error.type, into: &err.pointee.type)
            copy(error.key, into: &err.pointee.key)
            copy(error.message, into: &err.pointee.message)
            copy(error.errorId, into: &err.pointee.error_id)
        }
        return error.code.rawValue
    }

    static func invalidArgument(_ message: String, _ err: UnsafeMutablePointer<membrane_error>?) -> Int32 {
        fail(MembraneError(code: .invalidArgument, message: message), err)
    }

    /// Marks `err` as a success: code 0 and empty strings (a NUL first byte
    /// in each; no allocation, as every successful lookup passes here).
    static func succeed(_ err: UnsafeMutablePointer<membrane_error>?) -> Int32 {
        if let err {
            err.pointee.code = 0
            err.pointee.http_status = 0
            err.pointee.type.0 = 0
            err.pointee.key.0 = 0
            err.pointee.message.0 = 0
            err.pointee.error_id.0 = 0
        }
        return 0
    }

    /// Copies `text` into a fixed C char array, NUL-terminated, cut at a
    /// UTF-8 character boundary when it does not fit.
    static func copy<Buffer>(_ text: String, into buffer: inout Buffer) {
        withUnsafeMutableBytes(of: &buffer) { raw in
            guard raw.count > 0 else { return }
            let utf8 = Array(text.utf8)
            var length = min(utf8.count, raw.count - 1)
            // Step back over continuation bytes (10xxxxxx) so no character is split.
            if length < utf8.count {
                while length > 0 && utf8[length] & 0xC0 == 0x80 { length -= 1 }
            }
            raw.copyBytes(from: utf8[..<length])
            raw[length] = 0
        }
    }
}
