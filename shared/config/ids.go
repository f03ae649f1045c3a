package config

import "github.com/google/uuid"

// IDNamespace is the UUID namespace of xbr's derived job ids. Fixed forever: changing it
// would change every job's jobId and orphan its backups from retention.
const IDNamespace = "5b0f3c2e-9a41-4d7e-8c63-1f2a7b9d0e54"

// DeriveID is the UUIDv5 (RFC 9562: SHA-1 of the namespace and the name) of name under
// namespace, a UUID in canonical form. A job's default id is DeriveID(IDNamespace, name); a
// schedule's is DeriveID(<job id>, name), so equally named schedules of two jobs differ.
func DeriveID(namespace, name string) string {
	ns, err := uuid.Parse(namespace)
	if err != nil {
		ns = uuid.MustParse(IDNamespace) // a job id that failed validation; its error is reported
	}
	return uuid.NewSHA1(ns, []byte(name)).String()
}
