import Testing
import CJansson
@testable import Membrane

/// `copyParsedTree`, the copy every cache hit hands out: equal to the
/// original by `json_equal`, sharing no container or string with it.
@Suite("Copies of parsed trees")
struct JSONCopyTests {
    static let documents = [
        #"{"id":"1","name":"HubSpot","state":"READY","isTest":false,"n":null,"x":1.5,"i":-9007199254740993}"#,
        #"{"nested":{"a":[1,2,[3,{"b":"c"}],{"d":[]}],"e":{}},"empty":"","u":"\u00e9\u4e2d\ud83d\ude00"}"#,
        #"{"key":"value\u0000with NUL","other":"plain"}"#,
        #"[true,false,null,0,-0.0,1e300,"s",[],{}]"#,
        #""just a string""#,
        "42",
        "null",
    ]

    @Test("equal to the original, for every kind of value", arguments: documents)
    func equal(_ text: String) throws {
        let original = try #require(json_loads(text, Int(JSON_DECODE_ANY | JSON_ALLOW_NUL), nil))
        defer { json_decref(original) }
        let copy = try #require(copyParsedTree(original) as UnsafeMutablePointer<json_t>?)
        defer { json_decref(copy) }
        #expect(json_equal(original, copy) == 1)
        // Containers, strings and numbers are new; true, false and null are
        // jansson's shared constants.
        let isConstant = [JSON_TRUE, JSON_FALSE, JSON_NULL].contains(original.pointee.type)
        #expect(isConstant ? copy == original : copy != original)
    }

    @Test("independent: editing the copy leaves the original as it was")
    func independent() throws {
        let original = try #require(json_loads(Self.documents[1], 0, nil))
        defer { json_decref(original) }
        let copy = try #require(copyParsedTree(original) as UnsafeMutablePointer<json_t>?)
        defer { json_decref(copy) }
        let nested = try #require(json_object_get(copy, "nested"))
        let array = try #require(json_object_get(nested, "a"))
        json_array_clear(array)
        json_object_set_new(nested, "added", json_string("new"))
        json_string_set(try #require(json_object_get(copy, "u")), "changed")
        let originalArray = try #require(json_object_get(json_object_get(original, "nested"), "a"))
        #expect(json_array_size(originalArray) == 4)
        #expect(json_object_get(json_object_get(original, "nested"), "added") == nil)
        #expect(String(cString: json_string_value(json_object_get(original, "u"))) == "\u{e9}\u{4e2d}\u{1F600}")
        #expect(json_equal(original, copy) == 0)
    }

    @Test("a string holding NUL keeps its full length")
    func stringWithNUL() throws {
        let original = try #require(json_loads(Self.documents[2], Int(JSON_ALLOW_NUL), nil))
        defer { json_decref(original) }
        let copy = try #require(copyParsedTree(original) as UnsafeMutablePointer<json_t>?)
        defer { json_decref(copy) }
        #expect(json_string_length(json_object_get(copy, "key")) == 14)  // "value", NUL, "with NUL"
        #expect(json_equal(original, copy) == 1)
    }
}
