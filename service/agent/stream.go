package main

import (
	"sync"
)

// stream is the agent's side of one request: output it may send (credit the host granted) and
// input the host sent (stdin, an upload), each bounded so that neither side buffers more than a
// window, whatever the other does.
type stream struct {
	id     uint32
	window uint32 // the output window the host asked for
	mu     sync.Mutex
	cond   *sync.Cond
	credit int64
	input  [][]byte
	eof    bool
	// closed: the host gave up on the stream or the agent ended it; waits return at once.
	closed bool
	// signals for a running command's process tree (nil for file operations).
	signals chan int
}

func newStream(id uint32, credit uint32) *stream {
	s := &stream{id: id, credit: int64(credit), window: credit}
	s.cond = sync.NewCond(&s.mu)
	return s
}

// takeCredit waits until the host takes more output, and claims up to want bytes of it.
func (s *stream) takeCredit(want int) int {
	s.mu.Lock()
	defer s.mu.Unlock()
	for s.credit <= 0 && !s.closed {
		s.cond.Wait()
	}
	if s.closed {
		return 0
	}
	n := int64(want)
	if n > s.credit {
		n = s.credit
	}
	s.credit -= n
	return int(n)
}

// giveBack returns credit claimed but not used.
func (s *stream) giveBack(n int) {
	if n <= 0 {
		return
	}
	s.mu.Lock()
	s.credit += int64(n)
	s.mu.Unlock()
	s.cond.Broadcast()
}

func (s *stream) addCredit(n uint32) {
	s.mu.Lock()
	s.credit += int64(n)
	s.mu.Unlock()
	s.cond.Broadcast()
}

func (s *stream) push(data []byte) {
	s.mu.Lock()
	s.input = append(s.input, data)
	s.mu.Unlock()
	s.cond.Broadcast()
}

func (s *stream) end() {
	s.mu.Lock()
	s.eof = true
	s.mu.Unlock()
	s.cond.Broadcast()
}

func (s *stream) close() {
	s.mu.Lock()
	s.closed = true
	s.mu.Unlock()
	s.cond.Broadcast()
}

// next waits for the next piece of input; ok is false at its end (or when the stream closed).
func (s *stream) next() (data []byte, ok bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	for len(s.input) == 0 && !s.eof && !s.closed {
		s.cond.Wait()
	}
	if len(s.input) == 0 || s.closed {
		return nil, false
	}
	data = s.input[0]
	s.input[0] = nil
	s.input = s.input[1:]
	return data, true
}

// streams are the open requests by id.
type streams struct {
	mu sync.Mutex
	m  map[uint32]*stream
}

func (t *streams) add(s *stream) bool {
	t.mu.Lock()
	defer t.mu.Unlock()
	if _, taken := t.m[s.id]; taken {
		return false
	}
	t.m[s.id] = s
	return true
}

func (t *streams) get(id uint32) *stream {
	t.mu.Lock()
	defer t.mu.Unlock()
	return t.m[id]
}

func (t *streams) remove(id uint32) {
	t.mu.Lock()
	defer t.mu.Unlock()
	delete(t.m, id)
}
