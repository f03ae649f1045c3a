package serve

import (
	"context"
	"fmt"

	"xbr/shared/config"
	"xbr/shared/fn"
	"xbr/shared/remote"
	"xbr/shared/remote/dir"
	"xbr/shared/remote/s3"
)

var _ fn.Opener = OpenRemote

// OpenRemote opens one configured remote: a directory or an S3 bucket. It
// is the fn.Opener of every Env `xbr serve` builds, and what client
// commands use to open a remote themselves.
func OpenRemote(ctx context.Context, c config.Remote) (remote.Remote, error) {
	switch c.Type {
	case config.RemoteDir:
		d, err := dir.New(c.Name, c.Path)
		if err != nil {
			return nil, fmt.Errorf("remote %s: %w", c.Name, err)
		}
		return d, nil
	case config.RemoteS3:
		b, err := s3.New(ctx, s3.Config{
			Name: c.Name, Endpoint: c.Endpoint, Bucket: c.Bucket, Prefix: c.Prefix,
			Region: c.Region, AccessKey: c.AccessKey.Reveal(), SecretKey: c.SecretKey.Reveal(),
		})
		if err != nil {
			return nil, fmt.Errorf("remote %s: %w", c.Name, err)
		}
		return b, nil
	}
	return nil, fmt.Errorf("remote %s: unknown type %q", c.Name, c.Type)
}
