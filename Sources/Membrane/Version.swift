/// The library's version. Kept in step with `membrane_version()` and the
/// header's documentation.
public enum MembraneVersion {
    public static let string: StaticString = "0.1.0"
}
