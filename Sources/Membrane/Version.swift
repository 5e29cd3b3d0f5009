/// The library's version. Kept in step with Include/membrane.h's
/// MEMBRANE_VERSION_* macros; the C tests check that they agree.
public enum MembraneVersion {
    public static let major: UInt32 = 0
    public static let minor: UInt32 = 2
    public static let patch: UInt32 = 0
    public static let string: StaticString = "0.2.0"
    /// 0xMMmmpp.
    public static var number: UInt32 { major << 16 | minor << 8 | patch }
}
