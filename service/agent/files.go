package main

import (
	"crypto/rand"
	"encoding/hex"
	"errors"
	"io"
	"io/fs"
	"os"
	"path"
	"sort"
	"strings"
	"syscall"
)

// The agent does every file operation of the API inside the sandbox, as the sandbox's user: the
// kernel then confines it to what the sandbox itself can reach, whatever a concurrent process
// swaps. On top of that, paths are walked through an os.Root on /workspace (no step leaves it,
// even mid-race) and resolved with the service's rules: symlinks are followed inside /workspace
// (an absolute target under /workspace is taken as such), and a path that leads outside it is
// refused with `forbidden`.

const (
	workspace    = "/workspace"
	uploadPrefix = ".sandgate-upload-"
	maxSymlinks  = 40
	readChunk    = 256 << 10
)

var root *os.Root

type fileInfo struct {
	Path    string  `json:"path"`
	Type    string  `json:"type"`
	Size    int64   `json:"size"`
	Mode    uint32  `json:"mode"`
	MtimeMs float64 `json:"mtimeMs"`
}

func infoOf(rel string, fi fs.FileInfo) fileInfo {
	kind := "other"
	switch {
	case fi.Mode().IsRegular():
		kind = "file"
	case fi.IsDir():
		kind = "directory"
	case fi.Mode()&fs.ModeSymlink != 0:
		kind = "symlink"
	}
	mode := uint32(fi.Mode().Perm())
	if fi.Mode()&fs.ModeSetuid != 0 {
		mode |= 0o4000
	}
	if fi.Mode()&fs.ModeSetgid != 0 {
		mode |= 0o2000
	}
	if fi.Mode()&fs.ModeSticky != 0 {
		mode |= 0o1000
	}
	// As Node computes mtimeMs (seconds and nanoseconds apart), so both sides agree to the millisecond.
	t := fi.ModTime()
	return fileInfo{Path: rel, Type: kind, Size: fi.Size(), Mode: mode, MtimeMs: float64(t.Unix())*1e3 + float64(t.Nanosecond())/1e6}
}

func split(p string) []string {
	var out []string
	for _, part := range strings.Split(p, "/") {
		if part != "" && part != "." {
			out = append(out, part)
		}
	}
	return out
}

func outside(rel string) *failure {
	return &failure{Code: "forbidden", Message: "'" + shown(rel) + "' leads outside /workspace"}
}

func shown(rel string) string {
	if rel == "" || rel == "." {
		return workspace
	}
	return workspace + "/" + rel
}

// resolve walks rel one component at a time as the sandbox would, following symlinks within
// /workspace; the last one only when followLast. Components past the first missing one are kept
// as they are (the caller may be about to create them). "." stands for /workspace itself.
func resolve(rel string, followLast bool) (string, *failure) {
	todo := split(rel)
	var done []string
	links := 0
	for len(todo) > 0 {
		name := todo[0]
		todo = todo[1:]
		if name == ".." {
			if len(done) == 0 {
				return "", outside(rel)
			}
			done = done[:len(done)-1]
			continue
		}
		p := path.Join(append(append([]string{}, done...), name)...)
		fi, err := root.Lstat(p)
		if err != nil {
			if errors.Is(err, syscall.ENOENT) || errors.Is(err, syscall.ENOTDIR) {
				done = append(done, name)
				for _, rest := range todo {
					if rest == ".." {
						if len(done) == 0 {
							return "", outside(rel)
						}
						done = done[:len(done)-1]
					} else {
						done = append(done, rest)
					}
				}
				break
			}
			f := errnoFailure(err, shown(rel))
			return "", &f
		}
		if fi.Mode()&fs.ModeSymlink != 0 && (len(todo) > 0 || followLast) {
			links++
			if links > maxSymlinks {
				return "", &failure{Code: "invalid_request", Message: "too many levels of symbolic links in '" + shown(rel) + "'"}
			}
			target, err := root.Readlink(p)
			if err != nil {
				f := errnoFailure(err, shown(rel))
				return "", &f
			}
			if strings.HasPrefix(target, "/") {
				if target != workspace && !strings.HasPrefix(target, workspace+"/") {
					return "", outside(rel)
				}
				done = nil
				target = target[len(workspace):]
			}
			todo = append(split(target), todo...)
			continue
		}
		done = append(done, name)
	}
	if len(done) == 0 {
		return ".", nil
	}
	return path.Join(done...), nil
}

// errnoFailure names the system error for the host to map (ENOENT -> not_found, ...).
func errnoFailure(err error, what string) failure {
	var errno syscall.Errno
	if errors.As(err, &errno) {
		return failure{Errno: errnoName(errno), Message: what}
	}
	if strings.Contains(err.Error(), "escapes") {
		return failure{Code: "forbidden", Message: "'" + what + "' leads outside /workspace"}
	}
	return failure{Code: "internal", Message: err.Error()}
}

var errnoNames = map[syscall.Errno]string{
	syscall.ENOENT: "ENOENT", syscall.EEXIST: "EEXIST", syscall.ENOTDIR: "ENOTDIR", syscall.EISDIR: "EISDIR",
	syscall.ENOTEMPTY: "ENOTEMPTY", syscall.EACCES: "EACCES", syscall.EPERM: "EPERM", syscall.ENAMETOOLONG: "ENAMETOOLONG",
	syscall.ELOOP: "ELOOP", syscall.EFBIG: "EFBIG", syscall.ENOSPC: "ENOSPC", syscall.EDQUOT: "EDQUOT", syscall.ENXIO: "ENXIO",
	syscall.EINVAL: "EINVAL", syscall.EXDEV: "EXDEV", syscall.EBUSY: "EBUSY", syscall.EROFS: "EROFS", syscall.ETXTBSY: "ETXTBSY",
	syscall.EMFILE: "EMFILE", syscall.EIO: "EIO",
}

func errnoName(e syscall.Errno) string {
	if name, ok := errnoNames[e]; ok {
		return name
	}
	return "E" + strings.ToUpper(strings.ReplaceAll(e.Error(), " ", "_"))
}

func statOp(req request) (any, *failure) {
	p, f := resolve(req.Path, req.Follow)
	if f != nil {
		return nil, f
	}
	fi, err := root.Lstat(p)
	if err != nil {
		e := errnoFailure(err, shown(req.Path))
		return nil, &e
	}
	return infoOf(p, fi), nil
}

func listOp(req request) (any, *failure) {
	p, f := resolve(req.Path, true)
	if f != nil {
		return nil, f
	}
	top, err := root.Stat(p)
	if err != nil {
		e := errnoFailure(err, shown(req.Path))
		return nil, &e
	}
	if !top.IsDir() {
		return nil, &failure{Code: "invalid_request", Message: "'" + shown(req.Path) + "' is not a directory"}
	}
	entries := []fileInfo{}
	// Breadth first; symlinked directories are listed but not entered, so loops cannot happen.
	pending := []string{p}
	for len(pending) > 0 {
		dir := pending[0]
		pending = pending[1:]
		names := readNames(dir)
		for _, name := range names {
			if len(entries) >= req.Limit {
				return map[string]any{"entries": entries, "truncated": true}, nil
			}
			child := path.Join(dir, name)
			fi, err := root.Lstat(child)
			if err != nil {
				continue // removed while we looked
			}
			// Named below the listed directory as the caller named it (it may be a link to elsewhere).
			entries = append(entries, infoOf(strings.TrimPrefix(strings.TrimPrefix(child, p), "/"), fi))
			if req.Recursive && fi.IsDir() {
				pending = append(pending, child)
			}
		}
	}
	return map[string]any{"entries": entries, "truncated": false}, nil
}

func readNames(dir string) []string {
	f, err := root.Open(dir)
	if err != nil {
		return nil
	}
	defer f.Close()
	names, _ := f.Readdirnames(-1)
	kept := names[:0]
	for _, n := range names {
		if !strings.HasPrefix(n, uploadPrefix) {
			kept = append(kept, n)
		}
	}
	sort.Strings(kept)
	return kept
}

func mkdirOp(req request) (any, *failure) {
	p, f := resolve(req.Path, true)
	if f != nil {
		return nil, f
	}
	var err error
	if req.Recursive {
		err = root.MkdirAll(p, 0o755)
	} else {
		err = root.Mkdir(p, 0o755)
	}
	if err != nil {
		e := errnoFailure(err, shown(req.Path))
		return nil, &e
	}
	fi, err := root.Stat(p)
	if err != nil {
		e := errnoFailure(err, shown(req.Path))
		return nil, &e
	}
	return infoOf(p, fi), nil
}

func moveOp(req request) (any, *failure) {
	source, f := resolve(req.Path, false)
	if f != nil {
		return nil, f
	}
	target, f := resolve(req.To, true)
	if f != nil {
		return nil, f
	}
	if source == "." || target == "." {
		return nil, &failure{Code: "forbidden", Message: "/workspace itself cannot be moved or replaced"}
	}
	if target == source || strings.HasPrefix(target, source+"/") {
		return nil, &failure{Code: "invalid_request", Message: "cannot move '" + shown(req.Path) + "' onto or into itself"}
	}
	if _, err := root.Lstat(source); err != nil {
		e := errnoFailure(err, shown(req.Path))
		return nil, &e
	}
	if parent := path.Dir(target); parent != "." {
		if err := root.MkdirAll(parent, 0o755); err != nil {
			e := errnoFailure(err, shown(req.To))
			return nil, &e
		}
	}
	if _, err := root.Lstat(target); err == nil && !req.Overwrite {
		return nil, &failure{Code: "conflict", Message: "'" + shown(req.To) + "' exists; pass overwrite: true to replace it"}
	}
	if err := root.Rename(source, target); err != nil {
		e := errnoFailure(err, shown(req.Path))
		return nil, &e
	}
	fi, err := root.Lstat(target)
	if err != nil {
		e := errnoFailure(err, shown(req.To))
		return nil, &e
	}
	return infoOf(target, fi), nil
}

func deleteOp(req request) (any, *failure) {
	p, f := resolve(req.Path, false)
	if f != nil {
		return nil, f
	}
	if p == "." {
		return nil, &failure{Code: "forbidden", Message: "/workspace itself cannot be deleted"}
	}
	fi, err := root.Lstat(p)
	if err == nil {
		switch {
		case !fi.IsDir():
			err = root.Remove(p)
		case req.Recursive:
			err = root.RemoveAll(p)
		default:
			err = root.Remove(p)
		}
	}
	if err != nil {
		e := errnoFailure(err, shown(req.Path))
		return nil, &e
	}
	return map[string]any{}, nil
}

// hostCwd is where a command's cwd is for the kernel: itself, but without isolation, where
// /workspace stands for another directory.
func hostCwd(cwd string) string {
	if workspaceDir != workspace && (cwd == workspace || strings.HasPrefix(cwd, workspace+"/")) {
		return workspaceDir + cwd[len(workspace):]
	}
	return cwd
}

// cwd of a command: under /workspace by the service's rules; elsewhere it must be a directory.
func checkCwd(cwd string) *failure {
	if cwd == workspace {
		return nil
	}
	bad := &failure{Code: "invalid_request", Message: "cwd '" + cwd + "' is not a directory in the sandbox"}
	if workspaceDir != workspace && !strings.HasPrefix(cwd, workspace+"/") {
		return &failure{Code: "invalid_request", Message: "without isolation, cwd must be under /workspace"}
	}
	if strings.HasPrefix(cwd, workspace+"/") {
		p, f := resolve(cwd[len(workspace)+1:], true)
		if f != nil {
			return f
		}
		if fi, err := root.Stat(p); err != nil || !fi.IsDir() {
			return bad
		}
		return nil
	}
	if fi, err := os.Stat(cwd); err != nil || !fi.IsDir() {
		return bad
	}
	return nil
}

// openForRead opens a regular file of the workspace for reading, by the service's rules.
func openForRead(req request) (*os.File, int64, *failure) {
	p, f := resolve(req.Path, true)
	if f != nil {
		return nil, 0, f
	}
	// O_NONBLOCK: a FIFO the sandbox made must not hold the agent; it is refused below anyway.
	file, err := root.OpenFile(p, os.O_RDONLY|syscall.O_NONBLOCK|syscall.O_NOFOLLOW, 0)
	if err != nil {
		if errors.Is(err, syscall.ELOOP) {
			return nil, 0, &failure{Code: "forbidden", Message: "'" + shown(req.Path) + "' changed while it was opened"}
		}
		e := errnoFailure(err, shown(req.Path))
		return nil, 0, &e
	}
	fi, err := file.Stat()
	if err != nil {
		file.Close()
		e := errnoFailure(err, shown(req.Path))
		return nil, 0, &e
	}
	if fi.IsDir() {
		file.Close()
		return nil, 0, &failure{Code: "invalid_request", Message: "'" + shown(req.Path) + "' is a directory"}
	}
	if !fi.Mode().IsRegular() {
		file.Close()
		return nil, 0, &failure{Code: "invalid_request", Message: "'" + shown(req.Path) + "' is not a regular file"}
	}
	return file, fi.Size(), nil
}

// openForWrite makes the temporary file an upload goes to, beside its target.
func openForWrite(req request) (file *os.File, temp string, target string, bad *failure) {
	p, f := resolve(req.Path, true)
	if f != nil {
		return nil, "", "", f
	}
	if p == "." {
		return nil, "", "", &failure{Code: "invalid_request", Message: "/workspace is a directory"}
	}
	parent := path.Dir(p)
	if parent != "." {
		if err := root.MkdirAll(parent, 0o755); err != nil {
			e := errnoFailure(err, shown(req.Path))
			return nil, "", "", &e
		}
	}
	if fi, err := root.Lstat(p); err == nil && fi.IsDir() {
		return nil, "", "", &failure{Code: "invalid_request", Message: "'" + shown(req.Path) + "' is a directory"}
	}
	var suffix [8]byte
	_, _ = rand.Read(suffix[:])
	temp = path.Join(parent, uploadPrefix+hex.EncodeToString(suffix[:]))
	file, err := root.OpenFile(temp, os.O_WRONLY|os.O_CREATE|os.O_EXCL|syscall.O_NOFOLLOW, 0o644)
	if err != nil {
		e := errnoFailure(err, shown(req.Path))
		return nil, "", "", &e
	}
	return file, temp, p, nil
}

// commitWrite renames a finished upload into place (the temporary file is removed on failure).
func commitWrite(req request, file *os.File, temp, target string, writeErr error) (any, *failure) {
	closeErr := file.Close()
	if writeErr == nil {
		writeErr = closeErr
	}
	if writeErr == nil {
		writeErr = root.Rename(temp, target)
	}
	if writeErr != nil {
		_ = root.Remove(temp)
		e := errnoFailure(writeErr, shown(req.Path))
		return nil, &e
	}
	fi, err := root.Lstat(target)
	if err != nil {
		e := errnoFailure(err, shown(req.Path))
		return nil, &e
	}
	return infoOf(target, fi), nil
}

// lendRead opens the file and lends its descriptor to the host, which reads it through
// /proc/<agent>/fd/<fd> (root hosts): the path was resolved here, inside, and the host touches only
// the open file. The descriptor stays open until the host ends the stream.
func lendRead(w *writer, s *stream, req request) {
	file, size, f := openForRead(req)
	if f != nil {
		fail(w, s.id, *f)
		return
	}
	defer file.Close()
	_ = w.sendJSON(frameReply, s.id, map[string]any{"fd": file.Fd(), "size": size})
	for {
		if _, ok := s.next(); !ok {
			break
		}
	}
	_ = w.sendJSON(frameEnd, s.id, map[string]any{})
}

// lendWrite makes the upload's temporary file and lends its descriptor to the host; the end of the
// host's input commits it (rename into place), an abort removes it.
func lendWrite(w *writer, s *stream, req request) {
	file, temp, target, f := openForWrite(req)
	if f != nil {
		fail(w, s.id, *f)
		return
	}
	_ = w.sendJSON(frameReply, s.id, map[string]any{"fd": file.Fd()})
	for {
		if _, ok := s.next(); !ok {
			break
		}
	}
	s.mu.Lock()
	aborted := s.closed
	s.mu.Unlock()
	var abortErr error
	if aborted {
		abortErr = errors.New("aborted")
	}
	result, bad := commitWrite(req, file, temp, target, abortErr)
	if bad != nil {
		_ = w.sendJSON(frameEnd, s.id, errorReply{*bad})
		return
	}
	_ = w.sendJSON(frameEnd, s.id, result)
}

// readOp streams a regular file within the host's credit.
func readOp(w *writer, s *stream, req request) {
	file, size, f := openForRead(req)
	if f != nil {
		fail(w, s.id, *f)
		return
	}
	defer file.Close()
	_ = w.sendJSON(frameReply, s.id, map[string]any{"size": size})
	buf := make([]byte, readChunk)
	var sent int64
	for sent < size {
		want := int64(len(buf))
		if size-sent < want {
			want = size - sent
		}
		n := s.takeCredit(int(want))
		if n == 0 {
			return // the host gave up
		}
		got, err := file.Read(buf[:n])
		s.giveBack(n - got)
		if got > 0 {
			if w.send(frameOutput, s.id, []byte{1}, buf[:got]) != nil {
				return
			}
			sent += int64(got)
		}
		if err != nil {
			if err == io.EOF {
				break
			}
			_ = w.sendJSON(frameEnd, s.id, errorReply{errnoFailure(err, shown(req.Path))})
			return
		}
	}
	if sent < size {
		_ = w.sendJSON(frameEnd, s.id, errorReply{failure{Code: "conflict", Message: "'" + shown(req.Path) + "' shrank while it was read"}})
		return
	}
	_ = w.sendJSON(frameEnd, s.id, map[string]any{})
}

// writeOp writes the host's bytes to a temporary file beside the target and renames it into place.
func writeOp(w *writer, s *stream, req request) {
	file, temp, target, f := openForWrite(req)
	if f != nil {
		fail(w, s.id, *f)
		return
	}
	_ = w.sendJSON(frameReply, s.id, map[string]any{})
	_ = w.send(frameGrant, s.id, u32(inputWindow))
	var writeErr error
	for {
		data, ok := s.next()
		if !ok {
			break
		}
		if writeErr == nil {
			_, writeErr = file.Write(data)
			if writeErr != nil {
				// Refuse at once; what the host still sends for this stream is dropped.
				break
			}
		}
		_ = w.send(frameGrant, s.id, u32(uint32(len(data))))
	}
	s.mu.Lock()
	aborted := s.closed
	s.mu.Unlock()
	if aborted && writeErr == nil {
		writeErr = errors.New("aborted")
	}
	result, bad := commitWrite(req, file, temp, target, writeErr)
	if bad != nil {
		_ = w.sendJSON(frameEnd, s.id, errorReply{*bad})
		return
	}
	_ = w.sendJSON(frameEnd, s.id, result)
}
