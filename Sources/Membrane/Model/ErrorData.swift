/// An error recorded on an integration or connection, possibly caused by
/// another (``causedByError``), as deep as the API nests them.
public struct ErrorData: Sendable {
    let object: JSONObjectView

    init(_ object: JSONObjectView) {
        self.object = object
    }

    public var message: String { object.string("message") ?? "" }
    public var type: ErrorType? { object.string("type").map(ErrorType.init(rawValue:)) }
    public var key: String? { object.string("key") }
    public var data: JSONValue? { object.value("data") }
    public var causedByError: ErrorData? { object.object("causedByError").map(ErrorData.init) }
}
