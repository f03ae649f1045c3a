package s3

import (
	"fmt"
	"log/slog"
	"net/http"
	"net/url"
	"strings"

	"github.com/minio/minio-go/v7/pkg/s3utils"

	"xbr/shared/redact"
	"xbr/shared/remote"
)

// Config describes an S3 remote. The zero value of each optional field means its default.
type Config struct {
	// Name is the remote's name in errors and events.
	Name string
	// Endpoint is the service's base URL: http://host[:port] or https://host[:port].
	Endpoint string
	Bucket   string
	// Prefix is an optional key prefix inside the bucket ("backups" or "backups/").
	Prefix string
	// Region defaults to us-east-1.
	Region    string
	AccessKey string
	// SecretKey is never logged nor put in an error.
	SecretKey string
	// VirtualHostStyle asks for bucket.host requests; the default is path-style.
	VirtualHostStyle bool
	// CreateBucket creates the bucket in New when it does not exist.
	CreateBucket bool
	// PartFloor is the smallest multipart part size (default DefaultPartFloor, at least
	// MinPartSize).
	PartFloor int64
	// Transport replaces the HTTP transport (optional).
	Transport http.RoundTripper
}

// String describes the remote without its credentials.
func (c Config) String() string {
	return fmt.Sprintf("s3 remote %s (%s, bucket %s, prefix %q)", c.Name, c.Endpoint, c.Bucket, c.Prefix)
}

// LogValue logs the remote without its credentials.
func (c Config) LogValue() slog.Value {
	return slog.GroupValue(slog.String("name", c.Name), slog.String("endpoint", c.Endpoint),
		slog.String("bucket", c.Bucket), slog.String("prefix", c.Prefix))
}

// GoString keeps %#v from printing the secret.
func (c Config) GoString() string { return c.String() }

// endpoint returns host:port and whether TLS is used.
func parseEndpoint(s string) (string, bool, error) {
	u, err := url.Parse(s)
	bad := func(why string) (string, bool, error) {
		return "", false, fmt.Errorf("endpoint %q: %s (want http://host[:port] or https://host[:port])", redact.URL(s), why)
	}
	switch {
	case err != nil:
		return bad("not a URL")
	case u.Scheme != "http" && u.Scheme != "https":
		return bad("scheme must be http or https")
	case u.Host == "" || u.Hostname() == "":
		return bad("no host")
	case u.User != nil:
		return bad("credentials belong in access_key and secret_key")
	case u.Path != "" && u.Path != "/", u.RawQuery != "", u.Fragment != "":
		return bad("no path, query or fragment allowed")
	}
	return u.Host, u.Scheme == "https", nil
}

// validate checks the fields and returns the normalized key prefix ("" or ending in "/").
func (c Config) validate() (host string, secure bool, prefix string, err error) {
	if c.Name == "" {
		return "", false, "", fmt.Errorf("s3 remote: name is empty")
	}
	fail := func(e error) (string, bool, string, error) {
		return "", false, "", fmt.Errorf("s3 remote %s: %w", c.Name, e)
	}
	host, secure, err = parseEndpoint(c.Endpoint)
	if err != nil {
		return fail(err)
	}
	if err := s3utils.CheckValidBucketNameStrict(c.Bucket); err != nil {
		return fail(fmt.Errorf("bucket %q: %w", c.Bucket, err))
	}
	if c.PartFloor != 0 && (c.PartFloor < MinPartSize || c.PartFloor > MaxPartSize) {
		return fail(fmt.Errorf("part floor %d: want %d to %d bytes", c.PartFloor, MinPartSize, MaxPartSize))
	}
	if c.AccessKey == "" || c.SecretKey == "" {
		return fail(fmt.Errorf("access_key and secret_key are required"))
	}
	prefix = strings.Trim(c.Prefix, "/")
	if prefix != "" {
		if err := remote.ValidateKey(prefix); err != nil {
			return fail(fmt.Errorf("prefix: %w", err))
		}
		prefix += "/"
	}
	return host, secure, prefix, nil
}
