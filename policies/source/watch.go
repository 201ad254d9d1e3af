package source

import (
	"cmp"
	"context"
	"os"
	"path/filepath"
	"sync"
	"time"

	"github.com/fsnotify/fsnotify"
)

// ReloadDelay gathers the events of one change (an editor's write, a ConfigMap volume's symlink
// swap) into one reload.
const ReloadDelay = 250 * time.Millisecond

// rescanInterval is how often Watch looks again for the folders it should watch, as certwatcher
// polls: inotify says nothing of a folder made again under a parent that was itself gone.
const rescanInterval = 10 * time.Second

// Watch reloads the set whenever a file under its paths changes, until ctx is done. It watches the
// folders that hold the paths (a symlinked folder resolved, as it is read), so that files replaced
// by rename (as Kubernetes updates a mounted ConfigMap) are seen, and the folders above them, so
// that a folder deleted and made again, or a symlink pointed elsewhere, is watched again.
func (s *PolicySet) Watch(ctx context.Context) error {
	var once sync.Once
	watching := func() { once.Do(func() { close(s.watching) }) }
	defer watching()
	if len(s.opts.Paths) == 0 {
		watching()
		<-ctx.Done()
		return nil // the embedded library does not change
	}
	w, err := fsnotify.NewWatcher()
	if err != nil {
		return err
	}
	defer w.Close()
	fw := &fileWatch{w: w, paths: s.opts.Paths, watched: map[string]bool{}}
	fw.scan()
	watching()
	rescan := time.NewTicker(cmp.Or(s.rescan, rescanInterval))
	defer rescan.Stop()
	var timer *time.Timer
	fire := make(chan struct{}, 1)
	reload := func() {
		if timer == nil {
			timer = time.AfterFunc(ReloadDelay, func() { fire <- struct{}{} })
		} else {
			timer.Reset(ReloadDelay)
		}
	}
	for {
		select {
		case <-ctx.Done():
			return nil
		case ev, ok := <-w.Events:
			if !ok {
				return nil
			}
			if ev.Op&(fsnotify.Remove|fsnotify.Rename) != 0 && fw.watched[ev.Name] {
				// inotify drops the watch of a deleted folder; a renamed one is no longer the path.
				_ = w.Remove(ev.Name)
				delete(fw.watched, ev.Name)
			}
			changed := false
			if ev.Op&fsnotify.Create != 0 {
				changed = fw.scan()
			}
			if changed || fw.relevant(ev.Name) {
				reload()
			}
		case err, ok := <-w.Errors:
			if ok {
				s.log.Error(err, "watching policy files")
			}
		case <-rescan.C:
			if fw.scan() {
				reload()
			}
		case <-fire:
			_ = s.Load(ctx)
		}
	}
}

// fileWatch is what Watch watches.
type fileWatch struct {
	w       *fsnotify.Watcher
	paths   []string
	watched map[string]bool
	// Found by scan: the folders watched only to see the paths in them come and go, and the names
	// (paths as given, and resolved) whose events matter there.
	above map[string]bool
	names map[string]bool
	roots map[string]string // path → the folder it resolved to
}

// scan watches what the paths need now: each folder path's tree (resolved), each file path's
// folder, and the folders that hold the paths and their resolved folders. It reports whether it
// found something new to watch, or a path that resolves elsewhere: the files may have changed
// unseen.
func (fw *fileWatch) scan() bool {
	fw.reconcile()
	changed := false
	add := func(dir string) {
		if !fw.watched[dir] && fw.w.Add(dir) == nil {
			fw.watched[dir] = true
			changed = true
		}
	}
	addTree := func(root string) {
		_ = filepath.WalkDir(root, func(p string, d os.DirEntry, err error) error {
			if err == nil && d.IsDir() {
				add(p)
			}
			return nil
		})
	}
	above, names, roots := map[string]bool{}, map[string]bool{}, map[string]string{}
	within := map[string]bool{} // folders whose every event matters
	for _, p := range fw.paths {
		p = filepath.Clean(p)
		names[p] = true
		above[filepath.Dir(p)] = true
		info, err := os.Stat(p)
		switch {
		case err != nil:
			continue
		case info.IsDir():
			root, err := filepath.EvalSymlinks(p)
			if err != nil {
				continue
			}
			roots[p] = root
			names[root] = true
			above[filepath.Dir(root)] = true
			addTree(root)
			within[root] = true
		default:
			add(filepath.Dir(p))
			within[filepath.Dir(p)] = true
		}
	}
	for dir := range above {
		if !within[dir] {
			add(dir)
		} else {
			delete(above, dir)
		}
	}
	for p, root := range roots {
		if old, ok := fw.roots[p]; ok && old != root {
			changed = true
		}
	}
	fw.above, fw.names, fw.roots = above, names, roots
	return changed
}

// reconcile forgets the watches that the watcher dropped (a folder deleted while its events were
// not yet read), so that scan adds them again.
func (fw *fileWatch) reconcile() {
	live := map[string]bool{}
	for _, p := range fw.w.WatchList() {
		live[p] = true
	}
	for p := range fw.watched {
		if !live[p] {
			delete(fw.watched, p)
		}
	}
}

// relevant reports whether an event on name may change the policies: any event in a watched tree,
// and in the folders above the paths only those on the paths themselves.
func (fw *fileWatch) relevant(name string) bool {
	return !fw.above[filepath.Dir(name)] || fw.names[name]
}
