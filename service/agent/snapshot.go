package main

import (
	"archive/tar"
	"bufio"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path"
	"sort"
	"strings"
	"syscall"
	"time"
	"unsafe"

	"golang.org/x/sys/unix"
)

// Snapshots are walked and written back here, inside the sandbox, as the sandbox's user, through
// os.Root: a process that swaps directories for symlinks meanwhile can at most make the agent read
// or write what the sandbox itself can reach. The host only ever sees a tar stream.
//
// tar-out streams a tar of /workspace (regular files, directories, symlinks as links, modes, mtimes)
// within the host's credit. A file that changes while it is read is still sent (its header is out)
// and named in the end's `changed`: the host asks for those again (`only`) until they hold still.
//
// tar-in extracts a tar into a fresh staging directory in /workspace (named by the host, hidden like
// an upload), refusing absolute or `..` names, devices and FIFOs (symlinks are written as they are); on any
// failure the staging directory goes. The host then swaps it in while the environment is stopped.

// stagePrefix names restore staging directories; they begin like uploads, so listings and
// snapshots leave them out.
const stagePrefix = uploadPrefix + "restore-"

type tarRequest struct {
	Excludes []string `json:"excludes"`
	Only     []string `json:"only"`
	Stage    string   `json:"stage"`
	MaxBytes int64    `json:"maxBytes"`
	// Lend: members marked lendKey arrive without their bytes; the agent makes each file and lends its
	// descriptor to the host, which copies the stored content into it in the kernel (see lender).
	Lend bool `json:"lend"`
	// Known: the host's stat cache, path -> [stat key, sha256], from this sandbox's last snapshot.
	Known map[string][2]string `json:"known"`
}

// cut is one tar-out's state: the host's stat cache and the files that moved while read.
type cut struct {
	known   map[string][2]string
	changed []string
}

// statSettle: a file whose ctime is this close to now is not given a stat key (a write within
// the same timestamp tick after it is read would leave its stat unchanged: "racy git").
const statSettle = 100 * time.Millisecond

// settledKey is the file's stat key, or "" while its ctime is too recent to vouch for its content.
func settledKey(fi fs.FileInfo) string {
	if time.Since(ctime(fi)) <= statSettle {
		return ""
	}
	return statKey(fi)
}

// unchanged answers the hash the host offered for rel when its stat key is the one offered, else "".
func (c *cut) unchanged(rel string, fi fs.FileInfo) string {
	offered, ok := c.known[rel]
	if !ok {
		return ""
	}
	if key := settledKey(fi); key != "" && key == offered[0] {
		return offered[1]
	}
	return ""
}

// statKey: what must match exactly for a file to count as unchanged since the host last read it.
// ctime is in it because userspace cannot set it (touch -d forges mtime, not ctime). The device
// number is not: the sandbox's disk may be mounted on another loop device after a restart.
func statKey(fi fs.FileInfo) string {
	st, ok := fi.Sys().(*syscall.Stat_t)
	if !ok {
		return ""
	}
	return fmt.Sprintf("%d:%d:%o:%d:%d:%d", fi.Size(), fi.ModTime().UnixNano(), uint32(fi.Mode()), ctime(fi).UnixNano(), st.Ino, st.Nlink)
}

// creditWriter sends what it is given as output frames, never past the host's credit.
type creditWriter struct {
	w *writer
	s *stream
}

func (c creditWriter) Write(p []byte) (int, error) {
	written := 0
	for written < len(p) {
		n := c.s.takeCredit(len(p) - written)
		if n == 0 {
			return written, errors.New("the host went away")
		}
		if err := c.w.send(frameOutput, c.s.id, []byte{1}, p[written:written+n]); err != nil {
			return written, err
		}
		written += n
	}
	return written, nil
}

// excluded: a pattern without '/' matches a name at any depth; one with '/' matches the path from
// /workspace (or a directory above it, which leaves out all below).
func excluded(rel string, patterns []string) bool {
	parts := strings.Split(rel, "/")
	for _, pattern := range patterns {
		pattern = strings.TrimSuffix(strings.TrimPrefix(pattern, "./"), "/")
		if !strings.Contains(pattern, "/") {
			if ok, _ := path.Match(pattern, parts[len(parts)-1]); ok {
				return true
			}
			continue
		}
		if ok, _ := path.Match(pattern, rel); ok {
			return true
		}
	}
	return false
}

func tarOut(w *writer, s *stream, req request) {
	spec := req.tarRequest
	_ = w.sendJSON(frameReply, s.id, map[string]any{})
	buffered := bufio.NewWriterSize(creditWriter{w, s}, 256<<10)
	tw := tar.NewWriter(buffered)
	c := &cut{known: spec.Known, changed: []string{}}
	var err error
	if spec.Only != nil {
		for _, rel := range spec.Only {
			if err = addEntry(tw, rel, spec.Excludes, c, false); err != nil {
				break
			}
		}
	} else {
		err = walk(tw, ".", spec.Excludes, c)
	}
	if err == nil {
		err = tw.Close()
	}
	if err == nil {
		err = buffered.Flush()
	}
	if err != nil {
		var f failure
		if bad, ok := err.(*failure); ok {
			f = *bad
		} else {
			f = errnoFailure(err, workspace)
		}
		_ = w.sendJSON(frameEnd, s.id, errorReply{f})
		return
	}
	_ = w.sendJSON(frameEnd, s.id, map[string]any{"changed": c.changed})
}

func (f *failure) Error() string { return f.Message }

// walk adds the entries below dir (depth first, names sorted, so equal trees give equal archives).
func walk(tw *tar.Writer, dir string, excludes []string, c *cut) error {
	f, err := root.Open(dir)
	if err != nil {
		if dir != "." && (errors.Is(err, syscall.ENOENT) || errors.Is(err, syscall.ENOTDIR) || errors.Is(err, syscall.ELOOP)) {
			return nil // gone or swapped for something else meanwhile: not part of the cut
		}
		return err
	}
	names, err := f.Readdirnames(-1)
	f.Close()
	if err != nil {
		return err
	}
	sort.Strings(names)
	for _, name := range names {
		if strings.HasPrefix(name, uploadPrefix) {
			continue
		}
		rel := name
		if dir != "." {
			rel = dir + "/" + name
		}
		if excluded(rel, excludes) {
			continue
		}
		if err := addEntry(tw, rel, excludes, c, true); err != nil {
			return err
		}
	}
	return nil
}

func header(rel string, fi fs.FileInfo) *tar.Header {
	mode := int64(fi.Mode().Perm())
	if fi.Mode()&fs.ModeSticky != 0 {
		mode |= 0o1000
	}
	return &tar.Header{Name: rel, Mode: mode, ModTime: fi.ModTime(), Format: tar.FormatPAX}
}

// addEntry adds one entry (and, for a directory when recurse, all below it).
func addEntry(tw *tar.Writer, rel string, excludes []string, c *cut, recurse bool) error {
	fi, err := root.Lstat(rel)
	if err != nil {
		if errors.Is(err, syscall.ENOENT) || errors.Is(err, syscall.ENOTDIR) {
			return nil // removed while we looked
		}
		return err
	}
	h := header(rel, fi)
	switch {
	case fi.IsDir():
		h.Typeflag = tar.TypeDir
		h.Name = rel + "/"
		if err := tw.WriteHeader(h); err != nil {
			return err
		}
		if recurse {
			return walk(tw, rel, excludes, c)
		}
		return nil
	case fi.Mode()&fs.ModeSymlink != 0:
		target, err := root.Readlink(rel)
		if err != nil {
			return nil // replaced meanwhile: not part of the cut
		}
		h.Typeflag = tar.TypeSymlink
		h.Linkname = target
		return tw.WriteHeader(h)
	case fi.Mode().IsRegular():
		if same := c.unchanged(rel, fi); same != "" {
			// Unchanged since the host read it (by lstat, no open): a header naming its content.
			h.Typeflag = tar.TypeReg
			h.PAXRecords = map[string]string{"SANDGATE.same": same}
			return tw.WriteHeader(h)
		}
		return addFile(tw, rel, c)
	default:
		return nil // sockets, FIFOs: not saved
	}
}

// addFile sends a regular file from one open descriptor; if it changed while read, it is named in
// changed (its header is out, so it is padded or cut to the size announced), with its stat key for the
// host's cache (SANDGATE.stat). A file whose stat key is the one the host offered goes (addEntry) as a
// header alone naming the content the host holds (SANDGATE.same); the host accepts only the hash it
// offered for that path.
func addFile(tw *tar.Writer, rel string, c *cut) error {
	file, err := root.OpenFile(rel, os.O_RDONLY|syscall.O_NONBLOCK|syscall.O_NOFOLLOW, 0)
	if err != nil {
		if errors.Is(err, syscall.ENOENT) || errors.Is(err, syscall.ELOOP) || errors.Is(err, syscall.ENOTDIR) {
			return nil // removed or swapped for a link meanwhile
		}
		return err
	}
	defer file.Close()
	before, err := file.Stat()
	if err != nil {
		return err
	}
	if !before.Mode().IsRegular() {
		return nil
	}
	h := header(rel, before)
	h.Typeflag = tar.TypeReg
	if key := settledKey(before); key != "" {
		h.PAXRecords = map[string]string{"SANDGATE.stat": key}
	}
	h.Size = before.Size()
	if err := tw.WriteHeader(h); err != nil {
		return err
	}
	// Read errors and a file that shrank make the entry torn (padded to its announced size); a write
	// error is the host's, and ends the archive.
	buf := make([]byte, readChunk)
	var copied int64
	torn := false
	for copied < h.Size {
		want := int64(len(buf))
		if h.Size-copied < want {
			want = h.Size - copied
		}
		n, readErr := file.Read(buf[:want])
		if n == 0 && readErr == nil {
			continue
		}
		if n == 0 {
			torn = true
			clear(buf)
			for copied < h.Size {
				pad := min(h.Size-copied, int64(len(buf)))
				if _, err := tw.Write(buf[:pad]); err != nil {
					return err
				}
				copied += pad
			}
			break
		}
		if _, err := tw.Write(buf[:n]); err != nil {
			return err
		}
		copied += int64(n)
	}
	after, err := file.Stat()
	if err != nil || torn || after.Size() != before.Size() || !after.ModTime().Equal(before.ModTime()) || ctime(after) != ctime(before) {
		c.changed = append(c.changed, rel)
	}
	return nil
}

func ctime(fi fs.FileInfo) time.Time {
	if st, ok := fi.Sys().(*syscall.Stat_t); ok {
		return time.Unix(st.Ctim.Sec, st.Ctim.Nsec)
	}
	return time.Time{}
}

// inputReader reads a stream's input from the host, granting more as it is consumed.
type inputReader struct {
	w    *writer
	s    *stream
	rest []byte
}

func (r *inputReader) Read(p []byte) (int, error) {
	for len(r.rest) == 0 {
		data, ok := r.s.next()
		if !ok {
			r.s.mu.Lock()
			aborted := r.s.closed
			r.s.mu.Unlock()
			if aborted {
				return 0, errors.New("aborted")
			}
			return 0, io.EOF
		}
		_ = r.w.send(frameGrant, r.s.id, u32(uint32(len(data))))
		r.rest = data
	}
	n := copy(p, r.rest)
	r.rest = r.rest[n:]
	return n, nil
}

func invalid(message string) *failure {
	return &failure{Code: "invalid_request", Message: message}
}

// entryName is a member's name made relative and clean; refused when absolute or climbing out.
func entryName(name string) (string, *failure) {
	if strings.HasPrefix(name, "/") {
		return "", invalid("the archive has an absolute member name: " + quote(name))
	}
	for _, part := range strings.Split(name, "/") {
		if part == ".." {
			return "", invalid("the archive has a member name with '..': " + quote(name))
		}
	}
	clean := path.Clean(name)
	if clean == "." {
		return ".", nil
	}
	return clean, nil
}

func quote(s string) string {
	if len(s) > 200 {
		s = s[:200] + "..."
	}
	return "'" + s + "'"
}

type dirTimes struct {
	name  string
	mode  os.FileMode
	mtime time.Time
}

func tarIn(w *writer, s *stream, req request) {
	spec := req.tarRequest
	if !strings.HasPrefix(spec.Stage, stagePrefix) || strings.Contains(spec.Stage, "/") {
		fail(w, s.id, failure{Code: "invalid_request", Message: "bad staging directory"})
		return
	}
	if err := root.Mkdir(spec.Stage, 0o700); err != nil {
		fail(w, s.id, errnoFailure(err, shown(spec.Stage)))
		return
	}
	stage, err := root.OpenRoot(spec.Stage)
	if err != nil {
		_ = root.RemoveAll(spec.Stage)
		fail(w, s.id, errnoFailure(err, shown(spec.Stage)))
		return
	}
	_ = w.sendJSON(frameReply, s.id, map[string]any{})
	_ = w.send(frameGrant, s.id, u32(inputWindow))
	var lent *lender
	if spec.Lend {
		s.mu.Lock()
		lent = &lender{w: w, s: s, base: s.credit}
		s.mu.Unlock()
	}
	files, bad := extract(stage, tar.NewReader(&inputReader{w: w, s: s}), spec.MaxBytes, lent)
	if bad == nil && lent != nil {
		bad = lent.finish()
	}
	if bad != nil && lent != nil && len(lent.pending) > 0 {
		// The host may not have opened every file lent yet: it hears of the failure first, and says
		// when it is done with them (it closes the stream), before their descriptors are let go.
		_ = w.sendJSON(frameEnd, s.id, errorReply{*bad})
		lent.awaitHost(lentRelease)
		lent.abandon()
		stage.Close()
		_ = root.RemoveAll(spec.Stage)
		return
	}
	if lent != nil {
		lent.abandon()
	}
	stage.Close()
	if bad != nil {
		_ = root.RemoveAll(spec.Stage)
		_ = w.sendJSON(frameEnd, s.id, errorReply{*bad})
		return
	}
	_ = w.sendJSON(frameEnd, s.id, map[string]any{"entries": files})
}

func extract(stage *os.Root, tr *tar.Reader, maxBytes int64, lent *lender) (int, *failure) {
	var dirs []dirTimes
	var total int64
	entries := 0
	for {
		h, err := tr.Next()
		if err == io.EOF {
			break
		}
		if err != nil {
			return 0, invalid("the archive is truncated or corrupt: " + err.Error())
		}
		name, bad := entryName(h.Name)
		if bad != nil {
			return 0, bad
		}
		if parent := path.Dir(name); name != "." && parent != "." {
			if err := stage.MkdirAll(parent, 0o755); err != nil {
				return 0, extractFailure(err, name)
			}
		}
		mode := os.FileMode(h.Mode & 0o777)
		if h.Mode&0o1000 != 0 {
			mode |= os.ModeSticky
		}
		switch h.Typeflag {
		case tar.TypeDir:
			if name != "." {
				if err := stage.Mkdir(name, 0o700); err != nil && !errors.Is(err, fs.ErrExist) {
					return 0, extractFailure(err, name)
				}
				dirs = append(dirs, dirTimes{name, mode, h.ModTime})
			}
		case tar.TypeReg, tar.TypeRegA:
			total += h.Size
			if maxBytes > 0 && total > maxBytes {
				return 0, &failure{Code: "payload_too_large", Message: "the snapshot is larger than the limit"}
			}
			file, err := stage.OpenFile(name, os.O_WRONLY|os.O_CREATE|os.O_EXCL|syscall.O_NOFOLLOW, 0o600)
			if err != nil {
				return 0, extractFailure(err, name)
			}
			if lent != nil && h.PAXRecords[lendKey] == "1" {
				if bad := lent.lend(file, name, mode, h.ModTime); bad != nil {
					return 0, bad
				}
				entries++
				continue
			}
			_, err = io.Copy(file, tr)
			if closeErr := file.Close(); err == nil {
				err = closeErr
			}
			if err != nil {
				if errors.Is(err, io.ErrUnexpectedEOF) {
					return 0, invalid("the archive is truncated")
				}
				return 0, extractFailure(err, name)
			}
			_ = stage.Chmod(name, mode)
			_ = stage.Chtimes(name, h.ModTime, h.ModTime)
		case tar.TypeSymlink:
			// Restores come from the host's store, whose imports were checked; a link taken from a
			// workspace keeps its target as it was (a venv's /usr/bin/python3). os.Root never follows it
			// out of the tree, and the sandbox could make the same link itself.
			if h.Linkname == "" {
				return 0, invalid("the archive has a symlink with no target: " + quote(name))
			}
			if err := stage.Symlink(h.Linkname, name); err != nil {
				return 0, extractFailure(err, name)
			}
		case tar.TypeLink:
			target, bad := entryName(h.Linkname)
			if bad != nil || target == "." {
				return 0, invalid("the archive has a hard link that leads outside the tree: " + quote(name))
			}
			if fi, err := stage.Lstat(target); err != nil || !fi.Mode().IsRegular() {
				return 0, invalid("the archive has a hard link to no earlier file of it: " + quote(name))
			}
			if err := stage.Link(target, name); err != nil {
				return 0, extractFailure(err, name)
			}
		case tar.TypeChar, tar.TypeBlock:
			return 0, invalid("the archive has a device file: " + quote(name))
		case tar.TypeFifo:
			return 0, invalid("the archive has a FIFO: " + quote(name))
		default:
			return 0, invalid("the archive has a member of a type snapshots do not hold: " + quote(name))
		}
		entries++
	}
	// Modes and times of directories last (their contents changed them), deepest first.
	for i := len(dirs) - 1; i >= 0; i-- {
		_ = stage.Chmod(dirs[i].name, dirs[i].mode)
		_ = stage.Chtimes(dirs[i].name, dirs[i].mtime, dirs[i].mtime)
	}
	return entries, nil
}

func extractFailure(err error, name string) *failure {
	if errors.Is(err, fs.ErrExist) {
		return invalid("the archive has the member " + quote(name) + " twice, or under a file")
	}
	if errors.Is(err, syscall.ENOTDIR) || strings.Contains(err.Error(), "escapes") {
		return invalid("the archive's member " + quote(name) + " lies below a file or a link")
	}
	f := errnoFailure(err, shown(name))
	return &f
}

// lendKey marks a member whose bytes the host copies itself (a pax record; its size is 0 in the archive).
const lendKey = "SANDGATE.lend"

// maxLent bounds the descriptors lent and not yet copied (the host copies a few at a time).
const maxLent = 64

// lender lends the host the files of a restore: each made here (inside the sandbox, as its user,
// beneath the staging directory), its descriptor sent as an output frame (u32), copied into by the
// host through /proc/<agent>/fd/<n> in the kernel, then given its mode and times here and closed.
// The host acknowledges copies with credit frames: the credit counts the files copied, in order.
type lender struct {
	w       *writer
	s       *stream
	base    int64 // the stream's credit before the first acknowledgement (its output window)
	pending []lentFile
	done    int // files finished here (acknowledged, mode and times set, closed)
}

type lentFile struct {
	file  *os.File
	name  string
	mode  os.FileMode
	mtime time.Time
}

func (l *lender) lend(file *os.File, name string, mode os.FileMode, mtime time.Time) *failure {
	l.pending = append(l.pending, lentFile{file, name, mode, mtime})
	if err := l.w.send(frameOutput, l.s.id, append([]byte{1}, u32(uint32(file.Fd()))...)); err != nil {
		return invalid("the host is gone")
	}
	return l.settle(len(l.pending) + l.done - maxLent)
}

// settle waits until at least `copied` files are acknowledged, and finishes those.
func (l *lender) settle(copied int) *failure {
	l.s.mu.Lock()
	for int(l.s.credit-l.base) < copied && !l.s.closed {
		l.s.cond.Wait()
	}
	acked, closed := int(l.s.credit-l.base), l.s.closed
	l.s.mu.Unlock()
	if closed {
		return invalid("the restore was abandoned")
	}
	for l.done < acked && len(l.pending) > 0 {
		f := l.pending[0]
		l.pending = l.pending[1:]
		l.done++
		err := f.file.Chmod(f.mode)
		if err == nil {
			err = futimens(f.file, f.mtime)
		}
		if closeErr := f.file.Close(); err == nil {
			err = closeErr
		}
		if err != nil {
			return extractFailure(err, f.name)
		}
	}
	return nil
}

// finish waits for every lent file to be copied.
func (l *lender) finish() *failure {
	return l.settle(l.done + len(l.pending))
}

// lentRelease bounds how long a failed restore waits for the host to let go of what was lent.
const lentRelease = 10 * time.Second

// awaitHost waits until the host closes the stream (or `limit` passes).
func (l *lender) awaitHost(limit time.Duration) {
	timer := time.AfterFunc(limit, l.s.close)
	defer timer.Stop()
	l.s.mu.Lock()
	for !l.s.closed {
		l.s.cond.Wait()
	}
	l.s.mu.Unlock()
}

// abandon closes what is still lent (the restore failed; its staging directory goes).
func (l *lender) abandon() {
	for _, f := range l.pending {
		f.file.Close()
	}
	l.pending = nil
}

// futimens sets a file's access and modification times through its descriptor: utimensat(fd, NULL).
// (unix.Futimes goes through /proc/self/fd, which a non-dumpable process may not open.)
func futimens(file *os.File, mtime time.Time) error {
	ts := [2]unix.Timespec{unix.NsecToTimespec(mtime.UnixNano()), unix.NsecToTimespec(mtime.UnixNano())}
	if _, _, errno := unix.Syscall6(unix.SYS_UTIMENSAT, file.Fd(), 0, uintptr(unsafe.Pointer(&ts[0])), 0, 0, 0); errno != 0 {
		return errno
	}
	return nil
}
