package main

import (
	"errors"
	"os"

	"golang.org/x/sys/unix"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"
)

const (
	outputChunk = 256 << 10
	// inputWindow: stdin and upload bytes the host may send ahead of what was written.
	inputWindow = 1 << 20
	pipeSize    = 1 << 20
	fSetPipeSz  = 1031
)

// runCommand starts argv as a new session (so its whole tree can be found and signalled later),
// relays its output within the host's credit, and ends the stream with its exit status.
func runCommand(w *writer, s *stream, req request) {
	if len(req.Argv) == 0 {
		fail(w, s.id, failure{Code: "invalid_request", Message: "empty argv"})
		return
	}
	if f := checkCwd(req.Cwd); f != nil {
		fail(w, s.id, *f)
		return
	}
	program, lookErr := lookPath(req.Argv[0], req.Env)

	var stdinRead, stdinWrite *os.File
	var err error
	if req.Stdin {
		if stdinRead, stdinWrite, err = os.Pipe(); err != nil {
			fail(w, s.id, errnoFailure(err, "stdin"))
			return
		}
	} else if stdinRead, err = os.Open(os.DevNull); err != nil {
		fail(w, s.id, errnoFailure(err, "stdin"))
		return
	}
	outRead, outWrite, err1 := os.Pipe()
	errRead, errWrite, err2 := os.Pipe()
	if err1 != nil || err2 != nil {
		fail(w, s.id, failure{Code: "sandbox_unavailable", Message: "cannot make pipes"})
		return
	}
	for _, f := range []*os.File{outRead, errRead} {
		_, _, _ = syscall.Syscall(syscall.SYS_FCNTL, f.Fd(), fSetPipeSz, pipeSize)
	}

	pid := 0
	var startErr error = lookErr
	if startErr == nil {
		pid, startErr = syscall.ForkExec(program, req.Argv, &syscall.ProcAttr{
			Dir:   hostCwd(req.Cwd),
			Env:   req.Env,
			Files: []uintptr{stdinRead.Fd(), outWrite.Fd(), errWrite.Fd()},
			Sys:   &syscall.SysProcAttr{Setsid: true},
		})
	}
	stdinRead.Close()
	outWrite.Close()
	errWrite.Close()
	started := time.Now()
	_ = w.sendJSON(frameReply, s.id, map[string]any{"pid": pid})

	if startErr != nil {
		// As a shell would: the command "ran" and failed, with the reason on stderr.
		if stdinWrite != nil {
			stdinWrite.Close()
		}
		outRead.Close()
		errRead.Close()
		code := 126
		if errors.Is(startErr, syscall.ENOENT) {
			code = 127
		}
		msg := "sandgate: " + req.Argv[0] + ": " + startErr.Error() + "\n"
		if n := s.takeCredit(len(msg)); n > 0 {
			_ = w.send(frameOutput, s.id, []byte{2}, []byte(msg[:n]))
		}
		_ = w.sendJSON(frameEnd, s.id, map[string]any{"exitCode": code})
		return
	}

	if stdinWrite != nil {
		go feedStdin(w, s, stdinWrite)
	}
	var relays sync.WaitGroup
	relays.Add(1)
	var texts []*jsonText
	if req.Text == "json" {
		texts = []*jsonText{{}, {}}
	}
	go relay(w, s, outRead, errRead, texts, &relays)

	exited := make(chan syscall.WaitStatus, 1)
	go func() {
		var status syscall.WaitStatus
		for {
			_, err := syscall.Wait4(pid, &status, 0, nil)
			if err != syscall.EINTR {
				break
			}
		}
		exited <- status
	}()

	var status syscall.WaitStatus
	done := make(chan struct{})
	go func() {
		relays.Wait()
		close(done)
	}()
	ended := false
	for !ended {
		select {
		case sig := <-s.signals:
			signalTree(pid, syscall.Signal(sig))
		case status = <-exited:
			ended = true
		}
	}
	// The program is gone; output may still be held open by what it left running in its session.
	for {
		select {
		case sig := <-s.signals:
			signalTree(pid, syscall.Signal(sig))
			continue
		case <-done:
		}
		break
	}
	code := status.ExitStatus()
	if status.Signaled() {
		code = 128 + int(status.Signal())
	}
	_ = w.sendJSON(frameEnd, s.id, map[string]any{"exitCode": code, "durationMs": float64(time.Since(started).Microseconds()) / 1000})
}

// relay sends the command's stdout and stderr as they come, in the order the kernel has them ready
// (one poll over both: stdout first when both are), within the host's credit; as JSON text when
// texts (one per channel) are given (jsontext.go).
func relay(w *writer, s *stream, stdout, stderr *os.File, texts []*jsonText, wg *sync.WaitGroup) {
	defer wg.Done()
	defer stdout.Close()
	defer stderr.Close()
	files := []*os.File{stdout, stderr}
	fds := []int{int(stdout.Fd()), int(stderr.Fd())}
	open := []bool{true, true}
	// Never more than the window the host gave: a background process (small window) keeps a small buffer.
	size := outputChunk
	if window := int(s.window); window > 0 && window < size {
		size = window
	}
	buf := make([]byte, size)
	for open[0] || open[1] {
		var polled []unix.PollFd
		var which []int
		for i, fd := range fds {
			if open[i] {
				polled = append(polled, unix.PollFd{Fd: int32(fd), Events: unix.POLLIN})
				which = append(which, i)
			}
		}
		if _, err := unix.Poll(polled, -1); err != nil {
			if err == unix.EINTR {
				continue
			}
			return
		}
		for k, p := range polled {
			if p.Revents == 0 {
				continue
			}
			i := which[k]
			n := s.takeCredit(len(buf))
			if n == 0 {
				// The host gave up on this stream: drain, so the program never blocks on a full pipe.
				n = len(buf)
				if _, err := files[i].Read(buf); err != nil {
					open[i] = false
				}
				continue
			}
			got, err := syscall.Read(fds[i], buf[:n])
			if got < 0 {
				got = 0
			}
			s.giveBack(n - got)
			if got > 0 {
				if !sendOutput(w, s, i, buf[:got], texts) {
					return
				}
			}
			if got == 0 || (err != nil && err != syscall.EINTR && err != syscall.EAGAIN) {
				open[i] = false
				if texts != nil {
					if held := texts[i].end(); len(held) > 0 && w.send(frameOutput, s.id, []byte{byte(i + 1)}, held) != nil {
						return
					}
				}
			}
		}
	}
}

// sendOutput sends what channel i (0 stdout, 1 stderr) printed: raw, or through its jsonText.
func sendOutput(w *writer, s *stream, i int, data []byte, texts []*jsonText) bool {
	if texts == nil {
		return w.send(frameOutput, s.id, []byte{byte(i + 1)}, data) == nil
	}
	for _, p := range texts[i].write(byte(i+1), data) {
		var err error
		if p.text {
			err = w.sendBuilt(frameOutput, s.id, p.payload)
		} else {
			err = w.send(frameOutput, s.id, []byte{byte(i + 1)}, p.payload)
		}
		if err != nil {
			return false
		}
	}
	return true
}

func feedStdin(w *writer, s *stream, pipe *os.File) {
	defer pipe.Close()
	_ = w.send(frameGrant, s.id, u32(inputWindow))
	broken := false
	for {
		data, ok := s.next()
		if !ok {
			return
		}
		if !broken {
			if _, err := pipe.Write(data); err != nil {
				broken = true // the program stopped reading: the rest is dropped
			}
		}
		_ = w.send(frameGrant, s.id, u32(uint32(len(data))))
	}
}

// lookPath finds argv[0] on the command's PATH, as execvp would.
func lookPath(name string, env []string) (string, error) {
	if strings.Contains(name, "/") {
		return name, nil
	}
	path := "/usr/local/bin:/usr/bin:/bin"
	for _, kv := range env {
		if strings.HasPrefix(kv, "PATH=") {
			path = kv[5:]
		}
	}
	denied := false
	for _, dir := range strings.Split(path, ":") {
		if dir == "" {
			dir = "."
		}
		candidate := dir + "/" + name
		st, err := os.Stat(candidate)
		if err != nil || st.IsDir() {
			continue
		}
		if st.Mode()&0o111 == 0 {
			denied = true
			continue
		}
		return candidate, nil
	}
	if denied {
		return "", syscall.EACCES
	}
	return "", syscall.ENOENT
}

// proc is one line of /proc/<pid>/stat, as much of it as the tree needs.
type proc struct{ pid, ppid, session int }

func processes() []proc {
	entries, err := os.ReadDir("/proc")
	if err != nil {
		return nil
	}
	out := make([]proc, 0, len(entries))
	for _, e := range entries {
		pid, err := strconv.Atoi(e.Name())
		if err != nil {
			continue
		}
		raw, err := os.ReadFile("/proc/" + e.Name() + "/stat")
		if err != nil {
			continue
		}
		text := string(raw)
		close := strings.LastIndexByte(text, ')')
		if close < 0 {
			continue
		}
		fields := strings.Fields(text[close+1:])
		if len(fields) < 4 {
			continue
		}
		if fields[0] == "Z" {
			continue // ended, waiting to be reaped: nothing left to signal
		}
		ppid, _ := strconv.Atoi(fields[1])
		session, _ := strconv.Atoi(fields[3])
		out = append(out, proc{pid, ppid, session})
	}
	return out
}

// treeOf: root, its descendants, and whatever stayed in its session after its parent died.
func treeOf(root int) []int {
	all := processes()
	children := map[int][]int{}
	for _, p := range all {
		children[p.ppid] = append(children[p.ppid], p.pid)
	}
	seen := map[int]bool{}
	queue := []int{root}
	for _, p := range all {
		if p.session == root {
			queue = append(queue, p.pid)
		}
	}
	var out []int
	for len(queue) > 0 {
		pid := queue[0]
		queue = queue[1:]
		if seen[pid] || pid == os.Getpid() || pid == 1 {
			continue
		}
		seen[pid] = true
		out = append(out, pid)
		queue = append(queue, children[pid]...)
	}
	return out
}

// signalTree sends sig to the command's tree; SIGKILL is repeated until the tree is empty, so a
// process that forks while it is being killed cannot leave a child behind.
func signalTree(root int, sig syscall.Signal) {
	for attempt := 0; attempt < 50; attempt++ {
		tree := treeOf(root)
		alive := 0
		for _, pid := range tree {
			if syscall.Kill(pid, sig) == nil {
				alive++
			}
		}
		if sig != syscall.SIGKILL || alive == 0 {
			return
		}
		time.Sleep(2 * time.Millisecond)
	}
}
