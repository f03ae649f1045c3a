// Package xmlrpc encodes and decodes XAPI's values on the wire: XML-RPC exactly
// as XAPI (ocaml-rpc, non-strict mode) writes it, and the JSON-RPC mapping of
// the same values.
//
// A value is one of: string, int64 (an untagged decimal in XML-RPC, a number
// in JSON), I4 (written as <i4>, used only for event.from's valid_ref_counts),
// bool, float64, time.Time (XAPI's "20060102T15:04:05Z" datetime), []any,
// map[string]any or Struct (an ordered struct), and nil. Other integer types
// are accepted on encode and written like int64.
//
// Decoding is lenient as XAPI's own reader is: untagged text and <string> are
// strings; <int>, <i4> and <i8> are int64; <double> is float64; <boolean> is
// bool; <dateTime.iso8601> is time.Time; <base64> is the decoded string.
package xmlrpc
