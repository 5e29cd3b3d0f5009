/// What the user must do to move a connection out of CLIENT_ACTION_REQUIRED.
public struct ClientAction: Sendable {
    let object: JSONObjectView

    init(_ object: JSONObjectView) {
        self.object = object
    }

    public var type: ClientActionType? { object.string("type").map(ClientActionType.init(rawValue:)) }
    public var description: String? { object.string("description") }
    /// A page where the user can act.
    public var uiUrl: String? { object.string("uiUrl") }
    public var agentInstructions: String? { object.string("agentInstructions") }
    public var handoffAgentInstructions: String? { object.string("handoffAgentInstructions") }
}
