// Package events is xbr's public event contract: the CloudEvent types, the
// NATS subjects they travel on, the JetStream stream names, and one payload
// struct per type with a Validate method and a JSON Schema under schema/.
//
// Events are CloudEvents 1.0 with datacontenttype application/json, carried
// on NATS in binary mode: ce-* headers, Content-Type: application/json and
// the payload as the body (the CloudEvents NATS binding). Decode also accepts
// structured mode (Content-Type: application/cloudevents+json).
//
// Versioning: the contract has a version (ContractVersion, semver).
// Additive where possible: fields may be added to a payload (consumers
// ignore fields they do not know) and types may be added (a minor version);
// a field is never renamed, retyped or given a new meaning — that is a new
// type (xbr.export.completed.v2). A subject change (a subject that moves, so
// consumers' filters change) or a type whose meaning changes is a new major
// contract version, documented in README.md with a migration note for audit
// consumers (old subject → new subject, old type → new type). A field a new
// version requires of producers stays optional for readers, since the
// streams keep events of earlier versions (ScheduleDue.Mode). Payload member
// names are case-sensitive and may not repeat: Decode refuses
// {"VM_UUID": …} and {"vm_uuid": "a", "vm_uuid": "b"} rather than guess.
//
// Progress payloads embed one Transfer (bytes, total, rate, ETA) without a
// JSON name: its members sit in the payload as they always did.
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
