// Package events is xbr's public event contract: the CloudEvent types, the
// NATS subjects they travel on, the JetStream stream names, and one payload
// struct per type with a Validate method and a JSON Schema under schema/.
//
// Events are CloudEvents 1.0 with datacontenttype application/json, carried
// on NATS in binary mode: ce-* headers, Content-Type: application/json and
// the payload as the body (the CloudEvents NATS binding). Decode also accepts
// structured mode (Content-Type: application/cloudevents+json).
//
// Versioning: fields may be added to a payload (consumers ignore fields they
// do not know); a field is never renamed, retyped or given a new meaning.
// A breaking change is a new type (xbr.export.completed.v2). Payload member
// names are case-sensitive and may not repeat: Decode refuses
// {"VM_UUID": …} and {"vm_uuid": "a", "vm_uuid": "b"} rather than guess.
//
// DecodeStrict is the one JSON reader of every door (webhook, API, chat,
// events): exact names, no duplicate keys, no unknown names (event payloads
// alone ignore unknown names, for the rule above).
//
// Event ids are derived (DeriveID) wherever a retry could publish the same
// event twice, so JetStream's duplicate window (Nats-Msg-Id) drops the copy.
//
// Queries are the request/reply half of the contract: what only reads is
// served as the NATS micro service ServiceName, one endpoint per query, each
// with one typed definition (Query[Req, Resp]) that servers and callers share.
// Whatever changes state is an event pair instead (requested, then completed
// or failed).
//
// Roles is who may produce and consume what: one identity per function plus
// client, auditor and admin. Grant turns a role into NATS allow lists (event
// subjects and JetStream API subjects); the embedded server's users, `xbr
// nats permissions` and the consume loop's source check all derive from it.
//
// The package imports only the standard library and the CloudEvents event
// model; the JetStream runtime lives in shared/bus.
package events
