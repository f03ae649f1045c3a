package s3_test

import (
	"context"
	"strings"
	"testing"

	"github.com/minio/minio-go/v7"

	"xbr/shared/remote/remotetest"
	"xbr/shared/remote/s3"
	"xbr/shared/remote/s3/s3test"
)

// TestForeignNamesStayOutside: objects and pending uploads written by something else, whose
// names are not valid keys under the prefix (a control character, or beside the prefix), are
// neither listed nor offered to the sweeper, so no request is ever built from them.
func TestForeignNamesStayOutside(t *testing.T) {
	g := s3test.Start(t)
	g.NewBucket(t, "backups")
	b := newBucket(t, g, s3.Config{Bucket: "backups", Prefix: "site-a"})
	ctx := context.Background()
	core := minio.Core{Client: g.Client(t)}
	for _, name := range []string{"site-a/vm/a\u0085b.xva", "site-a-evil/vm/x.xva", "site-b/vm/x.xva"} {
		if _, err := core.NewMultipartUpload(ctx, "backups", name, minio.PutObjectOptions{}); err != nil {
			t.Fatalf("start a pending upload of %q: %v", name, err)
		}
		if _, err := core.Client.PutObject(ctx, "backups", name, strings.NewReader("x"), 1, minio.PutObjectOptions{}); err != nil {
			t.Fatalf("put %q: %v", name, err)
		}
	}
	remotetest.AssertKeys(t, b, "")
	temps, err := b.ListTemp(ctx, "")
	if err != nil || len(temps) != 0 {
		t.Errorf("ListTemp = %+v, %v; want nothing", temps, err)
	}
}
