package s3test_test

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"

	"github.com/minio/minio-go/v7"

	"xbr/shared/remote/s3/s3test"
)

// TestGatewayLifecycle: the gateway answers on 127.0.0.1, stores objects as plain files
// under Root, and is gone once the test that started it ends.
func TestGatewayLifecycle(t *testing.T) {
	var pid int
	skipped := false
	t.Run("run", func(t *testing.T) {
		defer func() { skipped = t.Skipped() }()
		g := s3test.Start(t)
		pid = g.PID
		if !strings.HasPrefix(g.Endpoint, "http://127.0.0.1:") {
			t.Errorf("endpoint %q is not on 127.0.0.1", g.Endpoint)
		}
		g.NewBucket(t, "bkt")
		_, err := g.Client(t).PutObject(context.Background(), "bkt", "dir/obj", strings.NewReader("hello"), 5, minio.PutObjectOptions{})
		if err != nil {
			t.Fatal(err)
		}
		if b, err := os.ReadFile(filepath.Join(g.Root, "bkt", "dir", "obj")); err != nil || string(b) != "hello" {
			t.Errorf("object file = %q, %v", b, err)
		}
		if p := g.PendingUploads(t, "bkt", ""); len(p) != 0 {
			t.Errorf("pending uploads: %v", p)
		}
	})
	if skipped { // no gateway here (s3test.Start skips unless XBR_TEST_NO_SKIP)
		t.Skip("the gateway did not start")
	}
	if pid == 0 {
		t.Fatal("no PID recorded")
	}
	if err := syscall.Kill(pid, 0); !errors.Is(err, syscall.ESRCH) {
		t.Errorf("gateway pid %d still exists after its test ended (kill 0: %v)", pid, err)
	}
}

// TestTwoGateways: gateways started side by side get their own ports and folders.
func TestTwoGateways(t *testing.T) {
	a, b := s3test.Start(t), s3test.Start(t)
	if a.Endpoint == b.Endpoint || a.Root == b.Root {
		t.Fatalf("gateways share %s / %s", a.Endpoint, a.Root)
	}
	a.NewBucket(t, "only-a")
	found, err := b.Client(t).BucketExists(context.Background(), "only-a")
	if err != nil || found {
		t.Errorf("bucket of gateway a visible on b: %v, %v", found, err)
	}
}
