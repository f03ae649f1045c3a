package s3test

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/minio/minio-go/v7"
	"github.com/minio/minio-go/v7/pkg/credentials"
)

// Gateway is a running versitygw.
type Gateway struct {
	// Endpoint is the base URL, "http://127.0.0.1:<port>".
	Endpoint string
	// Addr is "127.0.0.1:<port>".
	Addr      string
	AccessKey string
	SecretKey string
	// Root is the POSIX backend's folder: bucket b is the folder Root/b, object k the file
	// Root/b/k.
	Root string
	// PID is the gateway's process id.
	PID int
	// Log is the file holding the gateway's output.
	Log string
}

// Binary returns the versitygw executable, or skips (fails when XBR_TEST_NO_SKIP=1) the test.
func Binary(t testing.TB) string {
	t.Helper()
	if p := os.Getenv("XBR_VERSITYGW"); p != "" {
		if st, err := os.Stat(p); err == nil && !st.IsDir() {
			return p
		}
	}
	if p, err := exec.LookPath("versitygw"); err == nil {
		return p
	}
	msg := "versitygw not found ($XBR_VERSITYGW=" + os.Getenv("XBR_VERSITYGW") +
		", not on PATH): run scripts/tool-versitygw.sh and export XBR_VERSITYGW"
	if os.Getenv("XBR_TEST_NO_SKIP") == "1" {
		t.Fatal(msg)
	}
	t.Skip(msg)
	return ""
}

// Start starts a gateway over a new temp folder.
func Start(t testing.TB) *Gateway {
	t.Helper()
	root := filepath.Join(t.TempDir(), "s3root")
	if err := os.Mkdir(root, 0o755); err != nil {
		t.Fatal(err)
	}
	return StartIn(t, root)
}

// StartIn starts a gateway whose POSIX backend is root, an existing folder (for example the
// folder a dir remote also uses, standing for an NFS share behind the gateway).
func StartIn(t testing.TB, root string) *Gateway {
	t.Helper()
	bin := Binary(t)
	g := &Gateway{AccessKey: "xbr" + randomHex(6), SecretKey: randomHex(20), Root: root,
		Log: filepath.Join(t.TempDir(), "versitygw.log")}
	var err error
	for range 3 { // a free port can be taken between probing and listening: retry
		if err = g.start(t, bin); err == nil {
			return g
		}
	}
	t.Fatalf("start versitygw: %v", err)
	return nil
}

func (g *Gateway) start(t testing.TB, bin string) error {
	port, err := freePort()
	if err != nil {
		return err
	}
	g.Addr = fmt.Sprintf("127.0.0.1:%d", port)
	g.Endpoint = "http://" + g.Addr
	logf, err := os.Create(g.Log)
	if err != nil {
		return err
	}
	defer logf.Close()
	cmd := exec.Command(bin, "--port", g.Addr, "--quiet", "--keep-alive", "posix", g.Root)
	cmd.Env = append(os.Environ(), "ROOT_ACCESS_KEY="+g.AccessKey, "ROOT_SECRET_KEY="+g.SecretKey)
	cmd.Stdout, cmd.Stderr = logf, logf
	cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}
	if err := cmd.Start(); err != nil {
		return fmt.Errorf("%s: %w", bin, err)
	}
	exited := make(chan error, 1)
	go func() { exited <- cmd.Wait() }()
	if err := g.waitReady(exited); err != nil {
		_ = cmd.Process.Kill()
		<-exited
		return err
	}
	g.PID = cmd.Process.Pid
	t.Cleanup(func() {
		_ = cmd.Process.Kill()
		<-exited
	})
	return nil
}

// waitReady polls the gateway until it answers HTTP, it exits, or 20 s pass.
func (g *Gateway) waitReady(exited <-chan error) error {
	client := &http.Client{Timeout: time.Second}
	deadline := time.Now().Add(20 * time.Second)
	for time.Now().Before(deadline) {
		select {
		case err := <-exited:
			return fmt.Errorf("versitygw exited (%v): %s", err, g.logTail())
		default:
		}
		resp, err := client.Get(g.Endpoint + "/")
		if err == nil {
			resp.Body.Close()
			return nil
		}
		select {
		case err := <-exited:
			return fmt.Errorf("versitygw exited (%v): %s", err, g.logTail())
		case <-time.After(25 * time.Millisecond):
		}
	}
	return fmt.Errorf("versitygw did not answer on %s within 20s: %s", g.Endpoint, g.logTail())
}

func (g *Gateway) logTail() string {
	b, _ := os.ReadFile(g.Log)
	s := strings.TrimSpace(string(b))
	if len(s) > 2000 {
		s = s[len(s)-2000:]
	}
	return s
}

// Client returns a minio-go client for the gateway (path-style, plain HTTP).
func (g *Gateway) Client(t testing.TB) *minio.Client {
	t.Helper()
	c, err := minio.New(g.Addr, &minio.Options{
		Creds:        credentials.NewStaticV4(g.AccessKey, g.SecretKey, ""),
		Region:       "us-east-1",
		BucketLookup: minio.BucketLookupPath,
	})
	if err != nil {
		t.Fatal(err)
	}
	return c
}

// NewBucket creates a bucket on the gateway.
func (g *Gateway) NewBucket(t testing.TB, name string) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	if err := g.Client(t).MakeBucket(ctx, name, minio.MakeBucketOptions{}); err != nil {
		t.Fatalf("make bucket %q: %v", name, err)
	}
}

// PendingUploads returns the keys of the multipart uploads not yet completed or aborted in
// bucket under prefix.
func (g *Gateway) PendingUploads(t testing.TB, bucket, prefix string) []string {
	t.Helper()
	var keys []string
	for u := range g.Client(t).ListIncompleteUploads(context.Background(), bucket, prefix, true) {
		if u.Err != nil {
			t.Fatalf("list incomplete uploads: %v", u.Err)
		}
		keys = append(keys, u.Key+" (upload "+u.UploadID+")")
	}
	return keys
}

func freePort() (int, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, err
	}
	defer l.Close()
	addr, ok := l.Addr().(*net.TCPAddr)
	if !ok {
		return 0, errors.New("not a TCP address")
	}
	return addr.Port, nil
}

func randomHex(n int) string {
	b := make([]byte, n)
	_, _ = rand.Read(b)
	return hex.EncodeToString(b)
}
