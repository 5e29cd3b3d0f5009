/// Reading strings a C caller passed in, without trusting them.
enum CString {
    /// The string at `pointer`, if it is valid UTF-8 of at most `limit` bytes.
    ///
    /// At most `limit + 1` bytes are read, so an over-long argument is refused
    /// without scanning all of it.
    static func read(_ pointer: UnsafePointer<CChar>, limit: Int) -> Result<String, CStringProblem> {
        var length = 0
        while pointer[length] != 0 {
            length += 1
            if length > limit { return .failure(.tooLong) }
        }
        let bytes = UnsafeRawBufferPointer(start: pointer, count: length)
        guard let text = String(validating: bytes.bindMemory(to: UInt8.self), as: UTF8.self) else {
            return .failure(.notUTF8)
        }
        return .success(text)
    }
}

enum CStringProblem: Error {
    case tooLong, notUTF8
}
