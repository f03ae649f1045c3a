package remotetest

import (
	"context"
	"errors"
	"slices"
	"testing"

	"xbr/shared/remote"
)

// listOnly hides every optional capability of a remote: remote.ListFolder falls back to List.
type listOnly struct{ remote.Remote }

// walkOnly hides FolderLister but keeps Walker: remote.ListFolder falls back to Walk.
type walkOnly struct {
	remote.Remote
	w remote.Walker
}

func (w walkOnly) Walk(ctx context.Context, prefix string, fn func(remote.Info)) error {
	return w.w.Walk(ctx, prefix, fn)
}

// testListFolder: ListFolder gives one level of a folder (its objects and its folders, not
// what lies below them), leaves pending uploads out, and agrees with the fallbacks of
// remote.ListFolder on a remote that cannot list one level.
func testListFolder(t *testing.T, r remote.Remote) {
	ctx := context.Background()
	keys := map[string]int{
		"top": 1, "a-b": 2, "a/1.json": 3, "a/1.xva": 4, "a/vdis/j/v/data/x.vhd/header": 5,
		"a/vdis/j/v/data/x.vhd/blocks/0/1": 6, "a/z/q": 7, "b/c": 8,
	}
	for k, n := range keys {
		PutBytes(t, r, k, make([]byte, n))
	}
	u, err := r.Create(ctx, "a/pending.xva", -1) // an upload in flight is in no folder yet
	if err != nil {
		t.Fatal(err)
	}
	defer u.Abort(ctx)
	if _, err := u.Write([]byte("half")); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		folder           string
		objects, folders []string
	}{
		{"", []string{"a-b", "top"}, []string{"a/", "b/"}},
		{"a/", []string{"a/1.json", "a/1.xva"}, []string{"a/vdis/", "a/z/"}},
		{"a/vdis/", nil, []string{"a/vdis/j/"}},
		{"a/vdis/j/v/data/x.vhd/", []string{"a/vdis/j/v/data/x.vhd/header"}, []string{"a/vdis/j/v/data/x.vhd/blocks/"}},
		{"zzz/", nil, nil},
		{"a/1.json/", nil, nil},
	}
	listers := map[string]func() (remote.Remote, bool){
		"its own":           func() (remote.Remote, bool) { _, ok := r.(remote.FolderLister); return r, ok },
		"the List fallback": func() (remote.Remote, bool) { return listOnly{r}, true },
		"the Walk fallback": func() (remote.Remote, bool) { w, ok := r.(remote.Walker); return walkOnly{r, w}, ok },
	}
	for how, get := range listers {
		lr, ok := get()
		if !ok {
			continue
		}
		for _, tt := range tests {
			objects, folders, err := remote.ListFolder(ctx, lr, tt.folder)
			var got []string
			for _, o := range objects {
				got = append(got, o.Key)
				if want := int64(keys[o.Key]); o.Size != want {
					t.Errorf("%s: ListFolder(%q): %s has size %d, want %d", how, tt.folder, o.Key, o.Size, want)
				}
			}
			if err != nil || !slices.Equal(got, tt.objects) || !slices.Equal(folders, tt.folders) {
				t.Errorf("%s: ListFolder(%q) = %q, %q, %v; want %q, %q", how, tt.folder, got, folders, err, tt.objects, tt.folders)
			}
		}
	}
	for _, bad := range []string{"a", "../", "/a/", "a//", ".xbr-tmp/"} {
		if _, _, err := remote.ListFolder(ctx, r, bad); !errors.Is(err, remote.ErrInvalidKey) {
			t.Errorf("ListFolder(%q) = %v, want ErrInvalidKey", bad, err)
		}
	}
}
