package s3

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"slices"
	"sort"
	"strings"

	"github.com/minio/minio-go/v7"
	"github.com/minio/minio-go/v7/pkg/credentials"

	"xbr/shared/remote"
)

var (
	_ remote.Remote  = (*Bucket)(nil)
	_ remote.Sweeper = (*Bucket)(nil)
)

// Bucket is a remote on an S3 bucket and key prefix.
type Bucket struct {
	name      string
	bucket    string
	prefix    string // "" or ending in "/"
	partFloor int64
	client    *minio.Client
}

// New returns the remote cfg describes. It contacts the service only when cfg.CreateBucket is
// set (to create a missing bucket).
func New(ctx context.Context, cfg Config) (*Bucket, error) {
	host, secure, prefix, err := cfg.validate()
	if err != nil {
		return nil, err
	}
	region := cfg.Region
	if region == "" {
		region = "us-east-1"
	}
	lookup := minio.BucketLookupPath
	if cfg.VirtualHostStyle {
		lookup = minio.BucketLookupDNS
	}
	client, err := minio.New(host, &minio.Options{
		Creds:        credentials.NewStaticV4(cfg.AccessKey, cfg.SecretKey, ""),
		Secure:       secure,
		Region:       region,
		BucketLookup: lookup,
		Transport:    cfg.Transport,
	})
	if err != nil {
		return nil, fmt.Errorf("s3 remote %s: endpoint %q: %w", cfg.Name, cfg.Endpoint, err)
	}
	b := &Bucket{name: cfg.Name, bucket: cfg.Bucket, prefix: prefix, partFloor: cfg.PartFloor, client: client}
	if b.partFloor == 0 {
		b.partFloor = DefaultPartFloor
	}
	if cfg.CreateBucket {
		if err := b.createBucket(ctx, region); err != nil {
			return nil, err
		}
	}
	return b, nil
}

func (b *Bucket) createBucket(ctx context.Context, region string) error {
	ok, err := b.client.BucketExists(ctx, b.bucket)
	if err == nil && !ok {
		err = b.client.MakeBucket(ctx, b.bucket, minio.MakeBucketOptions{Region: region})
		if code := minio.ToErrorResponse(err).Code; code == "BucketAlreadyOwnedByYou" || code == "BucketAlreadyExists" {
			err = nil
		}
	}
	if err != nil {
		return fmt.Errorf("s3 remote %s: create bucket %s: %w", b.name, b.bucket, err)
	}
	return nil
}

// Name returns the remote's name.
func (b *Bucket) Name() string { return b.name }

// Open streams the object under key.
func (b *Bucket) Open(ctx context.Context, key string) (io.ReadCloser, error) {
	name, err := b.objectName("open", key)
	if err != nil {
		return nil, err
	}
	obj, err := b.client.GetObject(ctx, b.bucket, name, minio.GetObjectOptions{})
	if err == nil {
		_, err = obj.Stat() // GetObject is lazy: this sends the request
	}
	if err != nil {
		if obj != nil {
			obj.Close()
		}
		return nil, b.wrap("open", key, err)
	}
	return obj, nil
}

// Stat describes the object under key.
func (b *Bucket) Stat(ctx context.Context, key string) (remote.Info, error) {
	name, err := b.objectName("stat", key)
	if err != nil {
		return remote.Info{}, err
	}
	oi, err := b.client.StatObject(ctx, b.bucket, name, minio.StatObjectOptions{})
	if err != nil {
		return remote.Info{}, b.wrap("stat", key, err)
	}
	return remote.Info{Key: key, Size: oi.Size, ModTime: oi.LastModified}, nil
}

// Delete removes the object under key; a missing key is not an error.
func (b *Bucket) Delete(ctx context.Context, key string) error {
	name, err := b.objectName("delete", key)
	if err != nil {
		return err
	}
	err = b.client.RemoveObject(ctx, b.bucket, name, minio.RemoveObjectOptions{})
	if err != nil {
		if err := b.wrap("delete", key, err); !errors.Is(err, remote.ErrNotFound) {
			return err
		}
	}
	return nil
}

// List returns the objects whose key starts with prefix, sorted by key. Objects whose name
// is not a valid key (folder markers ending in "/", for example) are left out.
func (b *Bucket) List(ctx context.Context, prefix string) ([]remote.Info, error) {
	from, err := b.prefixName("list", prefix)
	if err != nil {
		return nil, err
	}
	var out []remote.Info
	opts := minio.ListObjectsOptions{Prefix: from, Recursive: true}
	for oi := range b.client.ListObjects(ctx, b.bucket, opts) {
		if oi.Err != nil {
			return nil, fmt.Errorf("remote %s: list %q: %w", b.name, prefix, oi.Err)
		}
		key, ok := b.keyOf(oi.Key)
		if !ok {
			continue
		}
		out = append(out, remote.Info{Key: key, Size: oi.Size, ModTime: oi.LastModified})
	}
	// The client stops between two pages without an error when ctx ends: what it gave
	// is then not every object.
	if err := ctx.Err(); err != nil {
		return nil, fmt.Errorf("remote %s: list %q: %w", b.name, prefix, err)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Key < out[j].Key })
	return out, nil
}

// Walk calls fn with every committed object under prefix, page by page, holding none.
func (b *Bucket) Walk(ctx context.Context, prefix string, fn func(remote.Info)) error {
	from, err := b.prefixName("list", prefix)
	if err != nil {
		return err
	}
	for oi := range b.client.ListObjects(ctx, b.bucket, minio.ListObjectsOptions{Prefix: from, Recursive: true}) {
		if oi.Err != nil {
			return fmt.Errorf("remote %s: list %q: %w", b.name, prefix, oi.Err)
		}
		if key, ok := b.keyOf(oi.Key); ok {
			fn(remote.Info{Key: key, Size: oi.Size, ModTime: oi.LastModified})
		}
	}
	if err := ctx.Err(); err != nil { // the client stops between pages without an error
		return fmt.Errorf("remote %s: list %q: %w", b.name, prefix, err)
	}
	return nil
}

var _ remote.FolderLister = (*Bucket)(nil)

// ListFolder returns the objects directly in folder and the folders in it, from a listing
// with the "/" delimiter: the service names each folder once and nothing below it is sent.
func (b *Bucket) ListFolder(ctx context.Context, folder string) ([]remote.Info, []string, error) {
	if err := remote.ValidateFolder(folder); err != nil {
		return nil, nil, fmt.Errorf("remote %s: list folder: %w", b.name, err)
	}
	var objects []remote.Info
	var folders []string
	opts := minio.ListObjectsOptions{Prefix: b.prefix + folder, Recursive: false}
	for oi := range b.client.ListObjects(ctx, b.bucket, opts) {
		if oi.Err != nil {
			return nil, nil, fmt.Errorf("remote %s: list folder %q: %w", b.name, folder, oi.Err)
		}
		if name, ok := strings.CutSuffix(oi.Key, "/"); ok { // a common prefix (or a marker)
			if key, ok := b.keyOf(name); ok && len(key) > len(folder) && strings.HasPrefix(key, folder) {
				folders = append(folders, key+"/")
			}
			continue
		}
		key, ok := b.keyOf(oi.Key)
		if rest, in := strings.CutPrefix(key, folder); ok && in && !strings.Contains(rest, "/") {
			objects = append(objects, remote.Info{Key: key, Size: oi.Size, ModTime: oi.LastModified})
		}
	}
	if err := ctx.Err(); err != nil { // the client stops between pages without an error
		return nil, nil, fmt.Errorf("remote %s: list folder %q: %w", b.name, folder, err)
	}
	slices.SortFunc(objects, func(x, y remote.Info) int { return strings.Compare(x.Key, y.Key) })
	slices.Sort(folders)
	return objects, slices.Compact(folders), nil
}

// ListTemp returns the pending multipart uploads under prefix.
func (b *Bucket) ListTemp(ctx context.Context, prefix string) ([]remote.Temp, error) {
	from, err := b.prefixName("list temp", prefix)
	if err != nil {
		return nil, err
	}
	var out []remote.Temp
	for u := range b.client.ListIncompleteUploads(ctx, b.bucket, from, true) {
		if u.Err != nil {
			return nil, fmt.Errorf("remote %s: list pending uploads %q: %w", b.name, prefix, u.Err)
		}
		if key, ok := b.keyOf(u.Key); ok {
			out = append(out, remote.Temp{Key: key, ID: u.UploadID, Time: u.Initiated})
		}
	}
	sort.Slice(out, func(i, j int) bool {
		return out[i].Key < out[j].Key || out[i].Key == out[j].Key && out[i].ID < out[j].ID
	})
	return out, nil
}

// RemoveTemp aborts a pending multipart upload found by ListTemp.
func (b *Bucket) RemoveTemp(ctx context.Context, t remote.Temp) error {
	name, err := b.objectName("remove temp", t.Key)
	if err != nil {
		return err
	}
	core := minio.Core{Client: b.client}
	err = core.AbortMultipartUpload(ctx, b.bucket, name, t.ID)
	if err != nil && minio.ToErrorResponse(err).Code != "NoSuchUpload" {
		return b.wrap("remove temp", t.Key, err)
	}
	return nil
}

// wrap names the remote, operation and key, and maps S3 errors to the remote sentinels.
func (b *Bucket) wrap(op, key string, err error) error {
	var resp minio.ErrorResponse
	errors.As(err, &resp)
	switch {
	case resp.Code == "NoSuchKey" || resp.StatusCode == http.StatusNotFound && resp.Code != "NoSuchBucket":
		return fmt.Errorf("remote %s: %s %s: %w", b.name, op, key, remote.ErrNotFound)
	case isNoSpace(resp):
		return fmt.Errorf("remote %s: %s %s: %w (%w)", b.name, op, key, remote.ErrNoSpace, err)
	}
	return fmt.Errorf("remote %s: %s %s: %w", b.name, op, key, err)
}

func isNoSpace(resp minio.ErrorResponse) bool {
	switch resp.Code {
	case "StorageFull", "XMinioStorageFull", "QuotaExceeded", "XMinioAdminBucketQuotaExceeded", "InsufficientStorage":
		return true
	}
	return resp.StatusCode == http.StatusInsufficientStorage ||
		strings.Contains(strings.ToLower(resp.Message), "no space left")
}
