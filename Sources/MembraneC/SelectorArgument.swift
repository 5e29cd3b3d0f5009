import Membrane

/// A selector passed from C, read within the core's limit.
enum SelectorArgument {
    /// The selector's text, or the invalid-argument error that says why not.
    static func read(_ pointer: UnsafePointer<CChar>) -> Result<String, MembraneError> {
        switch CString.read(pointer, limit: ArgumentLimits.selectorBytes) {
        case .success(let text):
            return .success(text)
        case .failure(.tooLong):
            return .failure(MembraneError(code: .invalidArgument,
                                          message: "the selector is longer than \(ArgumentLimits.selectorBytes) bytes"))
        case .failure(.notUTF8):
            return .failure(MembraneError(code: .invalidArgument, message: "the selector is not valid UTF-8"))
        }
    }
}
