/// The longest arguments the library accepts, in bytes: the core enforces
/// them, and the C edge reads no further than them from a caller's string.
public enum ArgumentLimits {
    public static let selectorBytes = Selector.maximumByteCount
    public static let tokenBytes = Token.maximumByteCount
}
