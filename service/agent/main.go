// sandgate-agent runs inside a sandbox's long-lived environment, as the sandbox's user, under the
// sandbox's limits, and starts everything the host asks for there: commands, background
// processes, file operations. It talks to the host only over its stdin and stdout (frames, see
// protocol.go), which nothing it starts inherits, and it makes itself non-dumpable so that the
// sandbox's own processes (same user) cannot ptrace it or open its descriptors through /proc.
package main

import (
	"bufio"
	"flag"
	"fmt"
	"os"
	"os/signal"
	"strconv"
	"syscall"
)

const prSetDumpable = 4

// workspaceDir is where /workspace is: itself inside a sandbox; a host directory without isolation.
var workspaceDir = workspace

func main() {
	flag.StringVar(&workspaceDir, "workspace", workspace, "the directory that stands for /workspace (only without isolation)")
	unconfined := flag.Bool("unconfined", false, "run without isolation: no seccomp filter (the host said --isolation=none)")
	flag.Parse()
	if _, _, errno := syscall.RawSyscall(syscall.SYS_PRCTL, prSetDumpable, 0, 0); errno != 0 {
		fatal("prctl(PR_SET_DUMPABLE): %v", errno)
	}
	closeInherited()
	if !*unconfined {
		if err := installSeccomp(); err != nil {
			fatal("seccomp: %v", err)
		}
	}
	// Caught, not ignored: a write past RLIMIT_FSIZE fails with EFBIG instead of killing the agent,
	// and a stray TERM from inside does not end it; caught signals are back to their defaults in every
	// program the agent starts (ignored ones would stay ignored there, and untrappable by a shell).
	signal.Notify(make(chan os.Signal, 1), syscall.SIGXFSZ, syscall.SIGINT, syscall.SIGTERM, syscall.SIGHUP)

	var err error
	if root, err = os.OpenRoot(workspaceDir); err != nil {
		fatal("open %s: %v", workspace, err)
	}
	for _, fd := range []uintptr{0, 1} {
		_, _, _ = syscall.Syscall(syscall.SYS_FCNTL, fd, fSetPipeSz, pipeSize)
	}
	w := &writer{out: os.Stdout}
	open := &streams{m: map[uint32]*stream{}}
	if err := w.sendJSON(frameHello, 0, map[string]any{"pid": os.Getpid()}); err != nil {
		os.Exit(1)
	}
	in := bufio.NewReaderSize(os.Stdin, 1<<20)
	for {
		f, err := readFrame(in)
		if err != nil {
			// The host is gone (or spoke nonsense): the environment ends with the agent.
			os.Exit(0)
		}
		switch f.typ {
		case frameOpen:
			handleOpen(w, open, f)
		case frameData:
			if s := open.get(f.stream); s != nil {
				s.push(f.payload)
			}
		case frameEOF:
			if s := open.get(f.stream); s != nil {
				s.end()
			}
		case frameCredit:
			if s := open.get(f.stream); s != nil && len(f.payload) == 4 {
				s.addCredit(uint32(f.payload[0])<<24 | uint32(f.payload[1])<<16 | uint32(f.payload[2])<<8 | uint32(f.payload[3]))
			}
		case frameSignal:
			if s := open.get(f.stream); s != nil {
				var sig struct{ Signal int }
				if jsonUnmarshal(f.payload, &sig) == nil {
					if s.signals != nil {
						select {
						case s.signals <- sig.Signal:
						default:
						}
					} else {
						s.close() // a transfer the host abandoned
					}
				}
			}
		}
	}
}

func handleOpen(w *writer, open *streams, f frame) {
	var req request
	if err := jsonUnmarshal(f.payload, &req); err != nil {
		fail(w, f.stream, failure{Code: "invalid_request", Message: "bad request: " + err.Error()})
		return
	}
	window := req.Window
	if window == 0 {
		window = 1 << 20
	}
	s := newStream(f.stream, window)
	if req.Op == "exec" {
		s.signals = make(chan int, 8)
	}
	if !open.add(s) {
		fail(w, f.stream, failure{Code: "internal", Message: "stream id in use"})
		return
	}
	go func() {
		defer open.remove(s.id)
		defer s.close()
		switch req.Op {
		case "exec":
			runCommand(w, s, req)
		case "read":
			readOp(w, s, req)
		case "write":
			writeOp(w, s, req)
		case "lend-read":
			lendRead(w, s, req)
		case "lend-write":
			lendWrite(w, s, req)
		case "tar-out":
			tarOut(w, s, req)
		case "tar-in":
			tarIn(w, s, req)
		default:
			var result any
			var bad *failure
			switch req.Op {
			case "stat":
				result, bad = statOp(req)
			case "list":
				result, bad = listOp(req)
			case "mkdir":
				result, bad = mkdirOp(req)
			case "move":
				result, bad = moveOp(req)
			case "delete":
				result, bad = deleteOp(req)
			case "cwd":
				bad = checkCwd(req.Cwd)
				result = map[string]any{}
			default:
				bad = &failure{Code: "invalid_request", Message: "unknown op " + req.Op}
			}
			if bad != nil {
				fail(w, s.id, *bad)
			} else {
				_ = w.sendJSON(frameReply, s.id, result)
			}
		}
	}()
}

func fail(w *writer, id uint32, f failure) {
	_ = w.sendJSON(frameReply, id, errorReply{f})
}

func fatal(format string, args ...any) {
	fmt.Fprintf(os.Stderr, "sandgate-agent: "+format+"\n", args...)
	os.Exit(70)
}

// closeInherited closes every descriptor above stdio that the agent inherited from the host without
// close-on-exec (a host-side library's pipe, say): programs the agent starts would otherwise get it.
// The agent's own descriptors are all close-on-exec (Go opens them so), and are kept.
func closeInherited() {
	entries, err := os.ReadDir("/proc/self/fd")
	if err != nil {
		fatal("list inherited descriptors: %v", err)
	}
	for _, entry := range entries {
		fd, err := strconv.Atoi(entry.Name())
		if err != nil || fd <= 2 {
			continue
		}
		flags, _, errno := syscall.RawSyscall(syscall.SYS_FCNTL, uintptr(fd), syscall.F_GETFD, 0)
		if errno == 0 && flags&syscall.FD_CLOEXEC == 0 {
			_ = syscall.Close(fd)
		}
	}
}
