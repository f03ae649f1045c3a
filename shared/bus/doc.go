// Package bus is xbr's runtime on NATS JetStream: the identities xbr keeps
// for its embedded server (the server itself is shared/bus/natsserver, so a
// function links no nats-server), the connection (credentials, NKey,
// user/password, token, TLS), idempotent
// creation of streams, consumers and KV buckets, publishing CloudEvents in
// binary mode with Nats-Msg-Id = event id, and the one consume loop that
// maps a Handler's outcome to JetStream:
//
//   - success: publish the follow-ups (each de-duplicated by its id), then
//     ack (DoubleAck);
//   - a Permanent error, an undecodable event, or (CheckSources) a source
//     that may not produce the event's type: publish the follow-ups
//     returned with it (a handler giving up returns its failed outcome),
//     copy the message to <prefix>.dlq.<function> with the reason, then
//     terminate it;
//   - any other error, or follow-ups that cannot be published: nak with
//     exponential back-off; on the last allowed delivery (Delivery.Last,
//     which handlers read instead of consumer constants), copy to the DLQ
//     and terminate;
//   - while the handler runs: InProgress heartbeats well before AckWait.
//
// Handlers never publish or ack. The loop runs N handlers at once and, on
// cancellation, stops fetching and lets in-flight handlers finish (bounded).
//
// It uses nats.go/jetstream consumers directly, not the CloudEvents SDK's
// receiver, which acks before the handler runs.
package bus
