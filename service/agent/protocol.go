package main

import (
	"bufio"
	"encoding/binary"
	"encoding/json"
	"errors"
	"io"
	"sync"
)

// Frames on the agent's stdin (from the host) and stdout (to the host):
//
//	u32 length of what follows (big endian) | u8 type | u32 stream id | payload
//
// A stream is one request: a command, a file transfer or a one-shot file operation. The host
// numbers them; the agent answers on the same id.
const (
	// host -> agent
	frameOpen   = 1 // payload: JSON request (see request)
	frameData   = 2 // payload: input bytes (stdin of a command, body of an upload)
	frameEOF    = 3 // the input has ended
	frameCredit = 4 // payload: u32, how many more output bytes the host takes on this stream
	frameSignal = 5 // payload: JSON {"signal": n}: signal the command's whole process tree

	// agent -> host
	frameReply  = 16 // payload: JSON reply (result or {"error": ...}); for commands: started
	frameOutput = 17 // payload: u8 channel (1 stdout, 2 stderr; 3, 4: the same as JSON text, see jsontext.go) + bytes
	frameEnd    = 18 // payload: JSON end of the stream (exit status, or a transfer's result)
	frameGrant  = 19 // payload: u32, how many more input bytes the agent takes on this stream
	frameHello  = 20 // stream 0, payload JSON {"pid": n}: the agent is ready
)

const headerSize = 9

// maxFrame bounds what the host may make the agent allocate for one frame.
const maxFrame = 4 << 20

type frame struct {
	typ     byte
	stream  uint32
	payload []byte
}

type writer struct {
	mu  sync.Mutex
	out io.Writer
}

// send writes one frame; frames from many goroutines never interleave.
func (w *writer) send(typ byte, stream uint32, parts ...[]byte) error {
	size := 0
	for _, p := range parts {
		size += len(p)
	}
	buf := make([]byte, headerSize, headerSize+size)
	binary.BigEndian.PutUint32(buf[0:4], uint32(5+size))
	buf[4] = typ
	binary.BigEndian.PutUint32(buf[5:9], stream)
	for _, p := range parts {
		buf = append(buf, p...)
	}
	w.mu.Lock()
	defer w.mu.Unlock()
	_, err := w.out.Write(buf)
	return err
}

// sendBuilt writes a frame built in place: buf begins with headerSize bytes the header goes into.
func (w *writer) sendBuilt(typ byte, stream uint32, buf []byte) error {
	binary.BigEndian.PutUint32(buf[0:4], uint32(len(buf)-4))
	buf[4] = typ
	binary.BigEndian.PutUint32(buf[5:9], stream)
	w.mu.Lock()
	defer w.mu.Unlock()
	_, err := w.out.Write(buf)
	return err
}

func (w *writer) sendJSON(typ byte, stream uint32, value any) error {
	body, err := json.Marshal(value)
	if err != nil {
		return err
	}
	return w.send(typ, stream, body)
}

func u32(n uint32) []byte {
	b := make([]byte, 4)
	binary.BigEndian.PutUint32(b, n)
	return b
}

func readFrame(r *bufio.Reader) (frame, error) {
	var head [headerSize]byte
	if _, err := io.ReadFull(r, head[:]); err != nil {
		return frame{}, err
	}
	length := binary.BigEndian.Uint32(head[0:4])
	if length < 5 || length-5 > maxFrame {
		return frame{}, errors.New("bad frame length")
	}
	payload := make([]byte, length-5)
	if _, err := io.ReadFull(r, payload); err != nil {
		return frame{}, err
	}
	return frame{typ: head[4], stream: binary.BigEndian.Uint32(head[5:9]), payload: payload}, nil
}

// request is what an OPEN frame asks for; which fields matter depends on Op.
type request struct {
	Op string `json:"op"`
	// exec
	Argv   []string `json:"argv"`
	Env    []string `json:"env"`
	Cwd    string   `json:"cwd"`
	Stdin  bool     `json:"stdin"`
	Window uint32   `json:"window"`
	// Text "json": output as escaped JSON text while it is UTF-8 (jsontext.go).
	Text string `json:"text"`
	// files: paths relative to /workspace, already normalised by the host
	Path      string `json:"path"`
	To        string `json:"to"`
	Recursive bool   `json:"recursive"`
	Overwrite bool   `json:"overwrite"`
	Follow    bool   `json:"follow"`
	Limit     int    `json:"limit"`
	// tar-out, tar-in (snapshot.go)
	tarRequest
}

// failure is the error of a reply: an errno name (ENOENT, ...) the host maps, or one of the
// service's own codes (forbidden, invalid_request) with a message.
type failure struct {
	Errno   string `json:"errno,omitempty"`
	Code    string `json:"code,omitempty"`
	Message string `json:"message"`
}

type errorReply struct {
	Error failure `json:"error"`
}

func jsonUnmarshal(data []byte, v any) error { return json.Unmarshal(data, v) }
