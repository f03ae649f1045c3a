package s3_test

import (
	"context"
	"errors"
	"io"
	"io/fs"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"xbr/shared/remote"
	"xbr/shared/remote/remotetest"
	"xbr/shared/remote/s3"
	"xbr/shared/remote/s3/s3test"
)

func newBucket(t *testing.T, g *s3test.Gateway, cfg s3.Config) *s3.Bucket {
	t.Helper()
	cfg.Endpoint, cfg.AccessKey, cfg.SecretKey = g.Endpoint, g.AccessKey, g.SecretKey
	if cfg.Name == "" {
		cfg.Name = "gateway"
	}
	b, err := s3.New(context.Background(), cfg)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// TestAbortMidwayLeavesNothing: an upload aborted after several parts reached the gateway
// leaves no object, no pending multipart upload and no file in the gateway's folder.
func TestAbortMidwayLeavesNothing(t *testing.T) {
	g := s3test.Start(t)
	g.NewBucket(t, "backups")
	b := newBucket(t, g, s3.Config{Bucket: "backups", PartFloor: s3.MinPartSize})
	ctx := context.Background()
	key := "xo-vm-backups/vm1/20231012T101112Z.xva"
	u, err := b.Create(ctx, key, 64<<20)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := io.Copy(u, remotetest.Data(9, 17<<20)); err != nil {
		t.Fatal(err)
	}
	remotetest.Eventually(t, 10*time.Second, func() (bool, string) {
		p := g.PendingUploads(t, "backups", "")
		return len(p) == 1, "pending uploads: " + strings.Join(p, ", ")
	})
	if err := u.Abort(ctx); err != nil {
		t.Fatalf("Abort: %v", err)
	}
	if p := g.PendingUploads(t, "backups", ""); len(p) != 0 {
		t.Errorf("pending uploads after Abort: %v", p)
	}
	remotetest.AssertAbsent(t, b, key)
	assertNoFiles(t, filepath.Join(g.Root, "backups", "xo-vm-backups"))
}

// TestCrashedWriterIsSwept: a writer that vanished (its context ended without Abort) leaves
// at most a pending upload, which Sweep removes.
func TestCrashedWriterIsSwept(t *testing.T) {
	g := s3test.Start(t)
	g.NewBucket(t, "backups")
	b := newBucket(t, g, s3.Config{Bucket: "backups", Prefix: "pool1", PartFloor: s3.MinPartSize})
	ctx, cancel := context.WithCancel(context.Background())
	u, err := b.Create(ctx, "vm/x.xva", -1)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := io.Copy(u, remotetest.Data(10, 12<<20)); err != nil {
		t.Fatal(err)
	}
	cancel() // the writer dies; nobody calls Abort or Commit
	remotetest.AssertAbsent(t, b, "vm/x.xva")
	if _, err := remote.Sweep(context.Background(), b, "", time.Now().Add(time.Hour)); err != nil {
		t.Fatal(err)
	}
	if p := g.PendingUploads(t, "backups", ""); len(p) != 0 {
		t.Errorf("pending uploads after Sweep: %v", p)
	}
}

// TestPrefixIsolation: keys live under the configured prefix, and a remote never lists what
// lies outside it.
func TestPrefixIsolation(t *testing.T) {
	g := s3test.Start(t)
	g.NewBucket(t, "shared")
	a := newBucket(t, g, s3.Config{Bucket: "shared", Prefix: "/site-a/"})
	other := newBucket(t, g, s3.Config{Bucket: "shared", Prefix: "site-ab"})
	remotetest.PutBytes(t, a, "vm/1.json", []byte("a"))
	remotetest.PutBytes(t, other, "vm/1.json", []byte("ab"))
	remotetest.AssertKeys(t, a, "", "vm/1.json")
	remotetest.AssertContent(t, a, "vm/1.json", []byte("a"))
	if b, err := os.ReadFile(filepath.Join(g.Root, "shared", "site-a", "vm", "1.json")); err != nil || string(b) != "a" {
		t.Errorf("object on the gateway's disk = %q, %v", b, err)
	}
}

// TestCreateBucket: with CreateBucket a missing bucket is made (twice is fine); without it,
// a listing fails with an error that is not ErrNotFound (Stat, a HEAD request, cannot tell a
// missing bucket from a missing key).
func TestCreateBucket(t *testing.T) {
	g := s3test.Start(t)
	missing := newBucket(t, g, s3.Config{Bucket: "absent"})
	if _, err := missing.List(context.Background(), ""); err == nil || errors.Is(err, remote.ErrNotFound) {
		t.Errorf("List of a missing bucket = %v, want a non-NotFound error", err)
	}
	for range 2 {
		b := newBucket(t, g, s3.Config{Bucket: "made", CreateBucket: true})
		remotetest.PutBytes(t, b, "k", []byte("v"))
	}
}

func assertNoFiles(t *testing.T, root string) {
	t.Helper()
	err := filepath.WalkDir(root, func(p string, e fs.DirEntry, err error) error {
		if errors.Is(err, fs.ErrNotExist) {
			return nil
		}
		if err == nil && !e.IsDir() {
			t.Errorf("file left on the gateway's disk: %s", p)
		}
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
}

// twoPages answers every listing with two pages of one object each, as an S3 server
// would, and calls onFirst while answering the first: where a listing's context ends
// relative to its pages cannot be had on cue from a real server.
type twoPages struct{ onFirst func() }

func (p twoPages) RoundTrip(r *http.Request) (*http.Response, error) {
	page := func(key, more string) string {
		return `<?xml version="1.0" encoding="UTF-8"?><ListBucketResult xmlns="http://s3.amazonaws.com/doc/2006-03-01/">` +
			`<Name>backups</Name><KeyCount>1</KeyCount><MaxKeys>1000</MaxKeys>` + more + `<Contents><Key>` + key +
			`</Key><LastModified>2024-01-01T00:00:00.000Z</LastModified><ETag>"x"</ETag><Size>1</Size></Contents></ListBucketResult>`
	}
	body := page("xbr-repo/vms/b.json", `<IsTruncated>false</IsTruncated>`)
	if r.URL.Query().Get("continuation-token") == "" {
		p.onFirst()
		body = page("xbr-repo/vms/a.json", `<IsTruncated>true</IsTruncated><NextContinuationToken>t2</NextContinuationToken>`)
	}
	return &http.Response{StatusCode: http.StatusOK, Header: http.Header{"Content-Type": {"application/xml"}},
		Body: io.NopCloser(strings.NewReader(body)), Request: r}, nil
}

// TestListCancelledIsNotComplete: a listing whose context ends between two pages fails;
// it never returns the first page as if it were every object (a GC's mark would take the
// chunks of the manifests it missed for garbage).
func TestListCancelledIsNotComplete(t *testing.T) {
	partial := 0
	for range 40 { // whether the end falls between the pages is up to the scheduler
		ctx, cancel := context.WithCancel(context.Background())
		b, err := s3.New(context.Background(), s3.Config{Name: "fake", Endpoint: "http://127.0.0.1:9", Bucket: "backups",
			AccessKey: "k", SecretKey: "s", Transport: twoPages{onFirst: cancel}})
		if err != nil {
			t.Fatal(err)
		}
		if infos, err := b.List(ctx, ""); err == nil && len(infos) != 2 {
			partial++
		}
		cancel()
	}
	if partial > 0 {
		t.Fatalf("%d of 40 listings cancelled after their first page returned it alone and no error", partial)
	}
}

// lostCompleteAnswer lets the request that completes a multipart upload reach the gateway
// and be carried out, then loses its answer to the caller's cancellation (a caller giving
// up while the gateway assembles the parts: no real part does that on cue).
type lostCompleteAnswer struct {
	cancelCommit *context.CancelFunc
}

func (l lostCompleteAnswer) RoundTrip(r *http.Request) (*http.Response, error) {
	if r.Method != http.MethodPost || !r.URL.Query().Has("uploadId") {
		return http.DefaultTransport.RoundTrip(r)
	}
	if resp, err := http.DefaultTransport.RoundTrip(r.Clone(context.WithoutCancel(r.Context()))); err == nil {
		_, _ = io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
	}
	(*l.cancelCommit)()
	<-r.Context().Done()
	return nil, r.Context().Err()
}

// TestCommitOutcomeKnown: a Commit whose context ends while the gateway completes the
// upload says what happened: nil when the object is there, an error only when it is not.
// (It reported a failure while the object, a manifest say, was visible.)
func TestCommitOutcomeKnown(t *testing.T) {
	g := s3test.Start(t)
	g.NewBucket(t, "backups")
	var cancelCommit context.CancelFunc
	b := newBucket(t, g, s3.Config{Bucket: "backups", PartFloor: s3.MinPartSize, Transport: lostCompleteAnswer{&cancelCommit}})
	ctx := context.Background()
	key := "xo-vm-backups/vm1/20231012T101112Z.xva"
	u, err := b.Create(ctx, key, 12<<20)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := io.Copy(u, io.LimitReader(zeroReader{}, 12<<20)); err != nil {
		t.Fatal(err)
	}
	cctx, cancel := context.WithCancel(ctx)
	defer cancel()
	cancelCommit = cancel
	cerr := u.Commit(cctx)
	_ = u.Abort(ctx)
	st, serr := b.Stat(ctx, key)
	switch {
	case cerr != nil && !errors.Is(serr, remote.ErrNotFound):
		t.Fatalf("Commit = %v, yet the object is there (%+v, %v)", cerr, st, serr)
	case cerr == nil && (serr != nil || st.Size != 12<<20):
		t.Fatalf("Commit succeeded, yet the object is %+v, %v", st, serr)
	}
}

type zeroReader struct{}

func (zeroReader) Read(p []byte) (int, error) {
	clear(p)
	return len(p), nil
}
