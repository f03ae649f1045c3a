// Package s3 is a remote.Remote on a bucket (and optional key prefix) of any S3-compatible
// service, through minio-go.
//
// Small objects (up to SmallObjectSize) are buffered and sent with one PUT at Commit. Larger
// ones stream through an io.Pipe into a multipart PutObject whose part size comes from the
// upload's size hint (see PartSize), so a large VM never hits the 10,000-part limit; memory
// per upload is one part. An upload that is aborted, fails or whose context ends has its
// multipart upload aborted and leaves nothing under the key; leftovers of a crashed process
// are pending multipart uploads, listed by ListTemp and removed by RemoveTemp.
//
// Multipart parts are sent unsigned (UNSIGNED-PAYLOAD) for throughput; whole-stream integrity
// is the export's SHA-256, recorded in the backup's metadata and checked on restore. One part
// is in flight at a time, so a Write blocks while a part uploads.
//
// Every request names an object built in one place (keys.go) from a key checked by
// remote.ValidateKey and the configured prefix, so nothing beside or above the prefix is read,
// written or removed; listed names that are not valid keys under the prefix are ignored.
//
// Requests are path-style by default, as S3 gateways need. The secret key never appears in
// errors or in the Config's String and LogValue.
package s3
