package dir

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"path"
	"sort"
	"strings"

	"xbr/shared/remote"
)

// List returns the committed objects whose key starts with prefix, sorted by key. Temp files,
// folders, non-regular files and names that are not valid keys are left out.
func (d *Dir) List(ctx context.Context, prefix string) ([]remote.Info, error) {
	var out []remote.Info
	if err := d.Walk(ctx, prefix, func(i remote.Info) { out = append(out, i) }); err != nil {
		return nil, err
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Key < out[j].Key })
	return out, nil
}

// Walk calls fn with every committed object under prefix, as List lists them, holding none.
func (d *Dir) Walk(ctx context.Context, prefix string, fn func(remote.Info)) error {
	return d.walk(ctx, prefix, func(key string, seg string, fi fs.FileInfo) {
		if remote.IsTempName(seg) || remote.ValidateKey(key) != nil {
			return
		}
		fn(remote.Info{Key: key, Size: fi.Size(), ModTime: fi.ModTime()})
	})
}

var _ remote.FolderLister = (*Dir)(nil)

// ListFolder returns the committed objects directly in folder and the folders in it, from
// one read of that directory: nothing below it is visited. Temp files, the temp folder,
// symbolic links and names that are not valid keys are left out, as List leaves them out.
func (d *Dir) ListFolder(ctx context.Context, folder string) ([]remote.Info, []string, error) {
	if err := remote.ValidateFolder(folder); err != nil {
		return nil, nil, fmt.Errorf("remote %s: list folder: %w", d.name, err)
	}
	p, err := d.openFolder(strings.TrimSuffix(folder, "/"), "", false)
	if isMissing(err) || errors.As(err, new(*linkError)) {
		return nil, nil, nil
	}
	if err != nil {
		return nil, nil, fmt.Errorf("remote %s: list folder %q: %w", d.name, folder, err)
	}
	defer p.close()
	entries, err := fs.ReadDir(p.folder.FS(), ".")
	if isMissing(err) {
		return nil, nil, nil // removed since it was opened
	}
	if err == nil {
		err = ctx.Err()
	}
	if err != nil {
		return nil, nil, fmt.Errorf("remote %s: list folder %q: %w", d.name, folder, err)
	}
	return d.folderLevel(folder, entries)
}

// folderLevel sorts the entries of folder (in name order already) into objects and folders.
func (d *Dir) folderLevel(folder string, entries []fs.DirEntry) ([]remote.Info, []string, error) {
	var objects []remote.Info
	var folders []string
	for _, e := range entries {
		key := folder + e.Name()
		if remote.IsTempName(e.Name()) || remote.ValidateKey(key) != nil {
			continue
		}
		if e.IsDir() {
			folders = append(folders, key+"/")
			continue
		}
		if !e.Type().IsRegular() {
			continue
		}
		fi, err := e.Info()
		if errors.Is(err, fs.ErrNotExist) {
			continue // removed while listing
		}
		if err != nil {
			return nil, nil, fmt.Errorf("remote %s: list folder %q: %w", d.name, folder, err)
		}
		objects = append(objects, remote.Info{Key: key, Size: fi.Size(), ModTime: fi.ModTime()})
	}
	return objects, folders, nil
}

// ListTemp returns the temp files of uploads under prefix (running or left by a crash):
// those under remote.TempFolder, and those an older xbr left in the object's own folder.
func (d *Dir) ListTemp(ctx context.Context, prefix string) ([]remote.Temp, error) {
	if err := remote.ValidatePrefix(prefix); err != nil {
		return nil, fmt.Errorf("remote %s: list temp: %w", d.name, err)
	}
	var out []remote.Temp
	folder := prefix[:strings.LastIndexByte(prefix, '/')+1]
	collect := func(rel string, seg string, fi fs.FileInfo) {
		base, ok := remote.TempBase(seg)
		if !ok {
			return
		}
		key := path.Join(path.Dir(rel), base)
		key = strings.TrimPrefix(key, remote.TempFolder+"/")
		if strings.HasPrefix(key, prefix) {
			out = append(out, remote.Temp{Key: key, ID: rel, Time: fi.ModTime()})
		}
	}
	if err := d.walk(ctx, remote.TempFolder+"/"+folder, collect); err != nil {
		return nil, err
	}
	legacy := func(rel string, seg string, fi fs.FileInfo) {
		if !strings.HasPrefix(rel, remote.TempFolder+"/") {
			collect(rel, seg, fi)
		}
	}
	if err := d.walk(ctx, folder, legacy); err != nil {
		return nil, err
	}
	sort.Slice(out, func(i, j int) bool { return out[i].ID < out[j].ID })
	return out, nil
}

// RemoveTemp removes a temp file found by ListTemp.
func (d *Dir) RemoveTemp(ctx context.Context, t remote.Temp) error {
	if !validTempID(t.ID) {
		return fmt.Errorf("remote %s: remove temp %q: %w", d.name, t.ID, remote.ErrInvalidKey)
	}
	p, err := d.locate(t.ID, false)
	if isMissing(err) {
		return nil
	}
	if err != nil {
		return d.wrap("remove temp", t.ID, err)
	}
	defer p.close()
	return d.remove(p, "remove temp", t.ID)
}

func validTempID(id string) bool {
	folder, base := path.Split(strings.TrimPrefix(id, remote.TempFolder+"/"))
	if !remote.IsTempName(base) {
		return false
	}
	return folder == "" || remote.ValidateKey(strings.TrimSuffix(folder, "/")) == nil
}

// walk calls fn for every regular file whose slash-separated path relative to the root
// starts with prefix, visiting only the folders that can hold such files. Symbolic links are
// not followed, nor is a prefix whose folders hold one (it lists nothing, as Open of a key
// below it finds nothing).
func (d *Dir) walk(ctx context.Context, prefix string, fn func(rel, seg string, fi fs.FileInfo)) error {
	if err := remote.ValidatePrefix(strings.TrimPrefix(prefix, remote.TempFolder+"/")); err != nil {
		return fmt.Errorf("remote %s: list: %w", d.name, err)
	}
	p, err := d.openFolder(prefix[:max(0, strings.LastIndexByte(prefix, '/'))], "", false)
	if isMissing(err) || errors.As(err, new(*linkError)) {
		return nil
	}
	if err != nil {
		return fmt.Errorf("remote %s: list %q: %w", d.name, prefix, err)
	}
	defer p.close()
	if err := walkFolder(ctx, p, prefix, fn); err != nil {
		return fmt.Errorf("remote %s: list %q: %w", d.name, prefix, err)
	}
	return nil
}

func walkFolder(ctx context.Context, p *place, prefix string, fn func(rel, seg string, fi fs.FileInfo)) error {
	return fs.WalkDir(p.folder.FS(), ".", func(name string, e fs.DirEntry, err error) error {
		if err != nil {
			if name == "." && isMissing(err) {
				return fs.SkipAll
			}
			return err
		}
		if err := ctx.Err(); err != nil {
			return err
		}
		rel := path.Join(p.dir, name)
		if e.IsDir() {
			if name != "." && !strings.HasPrefix(rel+"/", prefix) && !strings.HasPrefix(prefix, rel+"/") {
				return fs.SkipDir
			}
			return nil
		}
		if !e.Type().IsRegular() || !strings.HasPrefix(rel, prefix) {
			return nil
		}
		fi, err := e.Info()
		if errors.Is(err, fs.ErrNotExist) {
			return nil // removed while listing
		}
		if err != nil {
			return err
		}
		fn(rel, e.Name(), fi)
		return nil
	})
}
