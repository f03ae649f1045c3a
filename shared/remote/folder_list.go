package remote

import (
	"context"
	"fmt"
	"maps"
	"slices"
	"strings"
)

// FolderLister is a remote that lists one level of a folder: the objects directly in it and
// the folders in it, reading nothing below them (dir: one read of the directory; S3: a
// listing with the "/" delimiter). A caller that needs only the top of each folder (the
// files of a VM folder, not the block trees Xen Orchestra keeps under its vdis/) then holds
// only that. dir and s3 implement it.
type FolderLister interface {
	// ListFolder returns the committed objects directly in folder ("" for the root, else
	// a prefix ending in "/"), sorted by key, and the folders in it, each as its prefix
	// ending in "/", sorted. A folder may hold no object (an empty directory, an S3
	// folder marker). A missing folder lists nothing.
	ListFolder(ctx context.Context, folder string) (objects []Info, folders []string, err error)
}

// lister is what ListFolder needs from a remote that is no FolderLister.
type lister interface {
	Name() string
	List(ctx context.Context, prefix string) ([]Info, error)
}

// ListFolder lists one level of folder on r as FolderLister does: with r's own ListFolder
// when it has one. Otherwise it visits the whole tree under folder, one object at a time
// when r is a Walker, else with one List, which holds all of it.
func ListFolder(ctx context.Context, r lister, folder string) ([]Info, []string, error) {
	if err := ValidateFolder(folder); err != nil {
		return nil, nil, fmt.Errorf("remote %s: list folder: %w", r.Name(), err)
	}
	if fl, ok := r.(FolderLister); ok {
		return fl.ListFolder(ctx, folder)
	}
	lv := level{folders: map[string]bool{}}
	if err := Each(ctx, r, folder, func(in Info) { lv.add(folder, in) }); err != nil {
		return nil, nil, err
	}
	slices.SortFunc(lv.objects, func(a, b Info) int { return strings.Compare(a.Key, b.Key) })
	folders := slices.Sorted(maps.Keys(lv.folders))
	return lv.objects, folders, nil
}

// Each calls fn with every committed object under prefix on r: one at a time when r is a
// Walker (dir, s3), holding none of them; else from one List, which holds all of them.
func Each(ctx context.Context, r lister, prefix string, fn func(Info)) error {
	if w, ok := r.(Walker); ok {
		return w.Walk(ctx, prefix, fn)
	}
	infos, err := r.List(ctx, prefix)
	if err != nil {
		return err
	}
	for _, in := range infos {
		fn(in)
	}
	return nil
}

// level gathers one level of a folder from the objects of its whole tree.
type level struct {
	objects []Info
	folders map[string]bool
}

func (lv *level) add(folder string, in Info) {
	rest, ok := strings.CutPrefix(in.Key, folder)
	if !ok {
		return
	}
	if i := strings.IndexByte(rest, '/'); i >= 0 {
		lv.folders[folder+rest[:i+1]] = true
		return
	}
	lv.objects = append(lv.objects, in)
}

// ValidateFolder checks a folder given to ListFolder: "" (the root) or a valid key followed
// by "/". The error wraps ErrInvalidKey and quotes the folder.
func ValidateFolder(folder string) error {
	if folder == "" {
		return nil
	}
	name, ok := strings.CutSuffix(folder, "/")
	if !ok {
		return fmt.Errorf("%w: folder %q: want a prefix ending in \"/\"", ErrInvalidKey, folder)
	}
	if err := ValidateKey(name); err != nil {
		return fmt.Errorf("folder %q: %w", folder, err)
	}
	return nil
}
